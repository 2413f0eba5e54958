// The durable job runner: graphile-worker task names wired to services. Jobs are rows in
// PostgreSQL, taken with SKIP LOCKED, so any number of Paycenter processes can share them.
import { run, Logger as WorkerLogger, type Runner, type Task } from 'graphile-worker';
import { runAttemptQuery, runCloseAttempt, QUERY_ATTEMPT_TASK, type QueryJobPayload } from '../services/active-query.ts';
import { CLOSE_ATTEMPT_TASK, EXPIRE_ORDERS_TASK } from '../services/state-change.ts';
import { REFUND_TASK, type RefundJobPayload } from '../services/refund-open.ts';
import { runRefundJob, sweepPendingRefunds, SWEEP_REFUNDS_TASK } from '../services/refunds.ts';
import { EXPIRE_BATCH_ORDERS, expireUnwatchedOrders } from '../services/orders.ts';
import { deleteExpiredIdempotencyKeys } from '../store/idempotency.ts';
import { deleteExpiredFingerprints } from '../store/submission-guard.ts';
import type { ServiceContext } from '../services/context.ts';
import type { Pool } from '../store/db.ts';
import { unlockDeadWorkers } from '../store/jobs.ts';
import {
  enqueueYesterdaysReconciliations,
  runReconcileChannelDay,
  RECONCILE_CHANNEL_DAY_TASK,
  RECONCILE_CHANNELS_TASK,
} from '../services/reconciliation.ts';

const PURGE_TASK = 'purge_expired_records';
/** The dead-worker sweep runs at least this often. */
const LOCK_SWEEP_INTERVAL_MAX_MS = 30_000;
/** Rows deleted per purge statement; bounded so a backlog never holds a long lock. */
const PURGE_BATCH_ROWS = 5_000;

export interface JobRunnerOptions {
  /** The runner's own pool (its LISTEN connection must not starve the API's pool). */
  pool: Pool;
  concurrency: number;
  pollIntervalMs: number;
  /** A job locked longer than this belongs to a dead process (every task is far shorter). */
  lockTimeoutMs: number;
  /** When yesterday's bills are reconciled: a cron expression, in UTC. */
  reconcileCron: string;
}

export interface JobRunner {
  stop(): Promise<void>;
}

export async function startJobRunner(ctx: ServiceContext, opts: JobRunnerOptions): Promise<JobRunner> {
  const taskList: Record<string, Task> = {
    [QUERY_ATTEMPT_TASK]: async (payload) => runAttemptQuery(ctx, payload as QueryJobPayload),
    [CLOSE_ATTEMPT_TASK]: async (payload) => runCloseAttempt(ctx, payload as { attemptId: string }),
    [REFUND_TASK]: async (payload) => runRefundJob(ctx, payload as RefundJobPayload),
    [SWEEP_REFUNDS_TASK]: async () => void (await sweepPendingRefunds(ctx)),
    [EXPIRE_ORDERS_TASK]: async () => {
      while ((await expireUnwatchedOrders(ctx)) === EXPIRE_BATCH_ORDERS);
    },
    [PURGE_TASK]: async () => {
      while ((await deleteExpiredIdempotencyKeys(ctx.pool, PURGE_BATCH_ROWS)) === PURGE_BATCH_ROWS);
      while ((await deleteExpiredFingerprints(ctx.pool, PURGE_BATCH_ROWS)) === PURGE_BATCH_ROWS);
    },
    [RECONCILE_CHANNELS_TASK]: async () => enqueueYesterdaysReconciliations(ctx),
    [RECONCILE_CHANNEL_DAY_TASK]: async (payload) => runReconcileChannelDay(ctx, payload as { channel: string; date: string }),
  };
  const log = ctx.log.child({ component: 'jobs' });
  const logger = new WorkerLogger((scope) => (level, message, meta) => {
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
    log[method]({ ...scope, ...meta }, message);
  });
  const runner: Runner = await run({
    pgPool: opts.pool,
    concurrency: opts.concurrency,
    pollInterval: opts.pollIntervalMs,
    noHandleSignals: true,
    logger,
    taskList,
    // Every minute: expire unpaid orders with no channel attempt to watch, restart refunds whose
    // jobs gave up; every 10 minutes: purge old guard rows.
    // Daily (PAYCENTER_RECONCILE_CRON): yesterday's bill of every channel.
    crontab:
      `* * * * * ${EXPIRE_ORDERS_TASK} ?max=1\n* * * * * ${SWEEP_REFUNDS_TASK} ?max=1\n*/10 * * * * ${PURGE_TASK} ?max=1\n` +
      `${opts.reconcileCron} ${RECONCILE_CHANNELS_TASK} ?max=1\n`,
  });
  const sweep = setInterval(() => {
    unlockDeadWorkers(opts.pool, opts.lockTimeoutMs).then(
      (n) => n > 0 && log.warn({ workers: n }, 'unlocked the jobs of workers that died holding them'),
      (err: unknown) => log.warn({ err }, 'could not look for jobs of dead workers'),
    );
  }, Math.min(opts.lockTimeoutMs / 4, LOCK_SWEEP_INTERVAL_MAX_MS));
  sweep.unref();
  return {
    async stop() {
      clearInterval(sweep);
      await runner.stop();
    },
  };
}
