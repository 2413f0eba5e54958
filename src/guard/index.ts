// The duplicate-submission guard (G2, second layer): one claim per order-content fingerprint
// within the duplicate window. Redis `SET NX PX` when configured, a Postgres table otherwise.
import type { Tx } from '../store/db.ts';

export interface SubmissionGuard {
  readonly kind: 'redis' | 'postgres';
  /**
   * Claims `fingerprint` for `orderId` for `windowMs`; returns the order id holding it (equal to
   * `orderId` when this call claimed it). The Postgres guard writes through `tx`, so the claim
   * commits or rolls back with the order.
   */
  claim(tx: Tx, appId: string, fingerprint: string, orderId: string, windowMs: number): Promise<string>;
  /** Gives a claim back when its order was not created. Only deletes a claim still held by `orderId`. */
  release(appId: string, fingerprint: string, orderId: string): Promise<void>;
  close(): Promise<void>;
}
