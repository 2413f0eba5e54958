// Everything a use case needs, built once at start-up and passed explicitly.
import type { Pool } from '../store/db.ts';
import type { Channel } from '../channels/types.ts';
import type { SubmissionGuard } from '../guard/index.ts';
import type { Logger } from '../logger.ts';
import type { QueryPolicy } from '../domain/schedule.ts';
import type { Metrics } from './metrics.ts';
import type { BrokerTarget } from '../delivery/types.ts';

export interface ServiceSettings {
  orderTtlMs: number;
  duplicateWindowMs: number;
  queryPolicy: QueryPolicy;
  /** Delays between a refund's queries; the last repeats until the channel gives its word. */
  refundQueryDelaysMs: readonly number[];
  /** A payment reported on a CLOSED order: refunded (default), or accepted by reopening the order as PAID. */
  latePayments: 'refund' | 'accept';
}

export interface ServiceContext {
  pool: Pool;
  channels: ReadonlyMap<string, Channel>;
  guard: SubmissionGuard;
  settings: ServiceSettings;
  log: Logger;
  metrics: Metrics;
  now: () => Date;
  outbox: Outbox;
}

export interface Outbox {
  /** Brokers every event is delivered to, besides the app's webhook endpoints. */
  brokers: readonly BrokerTarget[];
  /** Tells this process's dispatcher that deliveries were committed (a no-op without one). */
  wake(): void;
}
