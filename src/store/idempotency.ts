// Idempotency-Key records (draft-ietf-httpapi-idempotency-key-header).
import type { Queryable } from './db.ts';

export type IdempotencyClaim =
  | { kind: 'claimed' }
  | { kind: 'in_flight'; requestHash: string }
  | { kind: 'done'; requestHash: string; status: number; body: unknown };

/**
 * A request still "in flight" after this long died with its process; its key is taken over so
 * the client's retry is not refused for 24 h. Far above any request's own time limit.
 */
export const IDEMPOTENCY_IN_FLIGHT_LEASE_MS = 60_000;

/** Claims the key for this request, or reports who holds it. Expired records are taken over. */
export async function claimIdempotencyKey(
  q: Queryable,
  appId: string,
  key: string,
  requestHash: string,
  ttlMs: number,
): Promise<IdempotencyClaim> {
  const { rows } = await q.query<{ claimed: boolean; requestHash: string; status: number | null; body: unknown }>(
    `WITH ins AS (
       INSERT INTO idempotency_keys (app_id, key, request_hash, expires_at)
       VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
       ON CONFLICT (app_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, response_status = NULL, response_body = NULL,
             created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE idempotency_keys.expires_at <= now()
            OR (idempotency_keys.response_status IS NULL
                AND idempotency_keys.created_at <= now() - $5 * interval '1 millisecond')
       RETURNING true AS claimed, request_hash AS "requestHash", response_status AS status, response_body AS body
     )
     SELECT * FROM ins
     UNION ALL
     SELECT false, request_hash, response_status, response_body FROM idempotency_keys
     WHERE app_id = $1 AND key = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
    [appId, key, requestHash, ttlMs, IDEMPOTENCY_IN_FLIGHT_LEASE_MS],
  );
  // Empty when the conflicting row committed after this statement's snapshot: read it anew.
  const row =
    rows[0] ??
    (
      await q.query<{ claimed: boolean; requestHash: string; status: number | null; body: unknown }>(
        `SELECT false AS claimed, request_hash AS "requestHash", response_status AS status, response_body AS body
         FROM idempotency_keys WHERE app_id = $1 AND key = $2`,
        [appId, key],
      )
    ).rows[0];
  if (!row) return claimIdempotencyKey(q, appId, key, requestHash, ttlMs);
  if (row.claimed) return { kind: 'claimed' };
  if (row.status === null) return { kind: 'in_flight', requestHash: row.requestHash };
  return { kind: 'done', requestHash: row.requestHash, status: row.status, body: row.body };
}

export async function completeIdempotencyKey(q: Queryable, appId: string, key: string, status: number, body: unknown): Promise<void> {
  await q.query('UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE app_id = $1 AND key = $2', [
    appId,
    key,
    status,
    JSON.stringify(body),
  ]);
}

/** A request that failed without a definite answer (5xx) frees its key so the client can retry. */
export async function releaseIdempotencyKey(q: Queryable, appId: string, key: string): Promise<void> {
  await q.query('DELETE FROM idempotency_keys WHERE app_id = $1 AND key = $2 AND response_status IS NULL', [appId, key]);
}

export async function deleteExpiredIdempotencyKeys(q: Queryable, limit: number): Promise<number> {
  const { rowCount } = await q.query(
    `DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT $1)`,
    [limit],
  );
  return rowCount ?? 0;
}
