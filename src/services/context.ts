// Everything a use case needs, built once at start-up and passed explicitly.
import type { Pool } from '../store/db.ts';
import type { Channel } from '../channels/types.ts';
import type { SubmissionGuard } from '../guard/index.ts';
import type { Logger } from '../logger.ts';
import type { QueryPolicy } from '../domain/schedule.ts';
import type { Metrics } from './metrics.ts';

export interface ServiceSettings {
  orderTtlMs: number;
  duplicateWindowMs: number;
  queryPolicy: QueryPolicy;
}

export interface ServiceContext {
  pool: Pool;
  channels: ReadonlyMap<string, Channel>;
  guard: SubmissionGuard;
  settings: ServiceSettings;
  log: Logger;
  metrics: Metrics;
  now: () => Date;
}
