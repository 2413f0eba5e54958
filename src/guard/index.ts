// The duplicate-submission guard (G2, second layer): one claim per order-content fingerprint
// within the duplicate window. Redis `SET NX PX` when configured — falling back to the Postgres
// table while Redis does not answer (src/guard/fallback.ts) — the Postgres table otherwise.
import type { Tx } from '../store/db.ts';

/**
 * Where new claims go now: `redis`; `postgres` (Redis is configured but does not answer, or is
 * not configured); `redis+postgres` (Redis answers again, and claims are also made in PostgreSQL
 * until the claims made there during the outage have expired).
 */
export const GUARD_MODES = ['redis', 'postgres', 'redis+postgres'] as const;
export type GuardMode = (typeof GUARD_MODES)[number];

export interface SubmissionGuard {
  /** The configured store: `redis` when REDIS_URL is set (with PostgreSQL as its fallback), else `postgres`. */
  readonly kind: 'redis' | 'postgres';
  /** The store claims go to at this moment (for a metric or a health page); see GuardMode. */
  mode(): GuardMode;
  /**
   * Claims `fingerprint` for `orderId` for `windowMs`; returns the order id holding it (equal to
   * `orderId` when this call claimed it). A Postgres claim is written through `tx`, so it commits
   * or rolls back with the order.
   */
  claim(tx: Tx, appId: string, fingerprint: string, orderId: string, windowMs: number): Promise<string>;
  /** Gives a claim back when its order was not created. Only deletes a claim still held by `orderId`. */
  release(appId: string, fingerprint: string, orderId: string): Promise<void>;
  close(): Promise<void>;
}
