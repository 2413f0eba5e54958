// The duplicate-submission guard (G2, second layer): one claim per order-content fingerprint
// within the duplicate window: a row in a PostgreSQL table, written in the order's transaction,
// with Redis `SET NX PX` in front of it when configured (src/guard/redis-first.ts).
import type { Tx } from '../store/db.ts';

/** Who answers first now: `redis`, or `postgres` (Redis not configured, or it does not answer). */
export const GUARD_MODES = ['redis', 'postgres'] as const;
export type GuardMode = (typeof GUARD_MODES)[number];

export interface SubmissionGuard {
  /** `redis` when REDIS_URL is set (Redis in front of PostgreSQL), else `postgres`. */
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
