// The Postgres table behind the duplicate-submission guard when no Redis is configured or Redis
// does not answer, and the marker that says until when claims made there during an outage may live.
import type { Queryable } from './db.ts';

/**
 * Claims the fingerprint for orderId inside the caller's transaction: a concurrent claim of the
 * same fingerprint waits on the unique index until this transaction ends, then sees it. Never
 * check-then-set. Returns the order id that holds the fingerprint.
 */
export async function claimFingerprint(
  q: Queryable,
  appId: string,
  fingerprint: string,
  orderId: string,
  windowMs: number,
): Promise<string> {
  const { rows } = await q.query<{ orderId: string }>({
    name: 'claim_fingerprint',
    text: `WITH ins AS (
       INSERT INTO submission_guard (app_id, fingerprint, order_id, expires_at)
       VALUES ($1, $2, $3, clock_timestamp() + $4 * interval '1 millisecond')
       ON CONFLICT (app_id, fingerprint) DO UPDATE
         SET order_id = EXCLUDED.order_id, expires_at = EXCLUDED.expires_at
         WHERE submission_guard.expires_at <= clock_timestamp()
       RETURNING order_id
     )
     SELECT order_id AS "orderId" FROM ins
     UNION ALL
     SELECT order_id FROM submission_guard WHERE app_id = $1 AND fingerprint = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
    values: [appId, fingerprint, orderId, windowMs],
  });
  if (rows[0]) return rows[0].orderId;
  // The conflicting row committed while we waited, after this statement's snapshot: read it anew.
  const again = await q.query<{ orderId: string }>(
    'SELECT order_id AS "orderId" FROM submission_guard WHERE app_id = $1 AND fingerprint = $2',
    [appId, fingerprint],
  );
  return again.rows[0]!.orderId;
}

export async function deleteExpiredFingerprints(q: Queryable, limit: number): Promise<number> {
  const { rowCount } = await q.query(
    `DELETE FROM submission_guard WHERE ctid IN (SELECT ctid FROM submission_guard WHERE expires_at <= now() LIMIT $1)`,
    [limit],
  );
  return rowCount ?? 0;
}
