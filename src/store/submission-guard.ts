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

/**
 * Milliseconds until the fallback marker expires, on PostgreSQL's clock: positive while claims
 * made in submission_guard during a Redis outage may still be live; zero or less when expired or
 * never written.
 */
export async function readGuardFallbackMarker(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ remainingMs: number }>({
    name: 'read_guard_fallback_marker',
    text: `SELECT coalesce(extract(epoch FROM max(pg_claims_until) - clock_timestamp()) * 1000, 0)::float8 AS "remainingMs"
     FROM submission_guard_fallback`,
    values: [],
  });
  return rows[0]!.remainingMs;
}

/**
 * Moves the fallback marker to at least `forMs` from now (never earlier: greatest of both, so
 * concurrent writers cannot shorten each other's) and returns the milliseconds until it expires.
 * Run it on its own, not in an order's transaction, so it is visible before that order commits.
 */
export async function extendGuardFallbackMarker(q: Queryable, forMs: number): Promise<number> {
  const { rows } = await q.query<{ remainingMs: number }>({
    name: 'extend_guard_fallback_marker',
    text: `INSERT INTO submission_guard_fallback AS m (singleton, pg_claims_until)
       VALUES (true, clock_timestamp() + $1 * interval '1 millisecond')
     ON CONFLICT (singleton) DO UPDATE SET pg_claims_until = greatest(m.pg_claims_until, EXCLUDED.pg_claims_until)
     RETURNING (extract(epoch FROM m.pg_claims_until - clock_timestamp()) * 1000)::float8 AS "remainingMs"`,
    values: [forMs],
  });
  return rows[0]!.remainingMs;
}
