// Flow 4, the active query: a durable job per attempt that asks the channel on the schedule,
// closes at the channel when the order has expired, and marks the order EXCEPTION when the
// schedule runs out unresolved — never inferring anything from silence (G1, G6).
import { withTransaction } from '../store/db.ts';
import { findAttempt, findOrderById, listAttempts, lockOrder, type AttemptRow, type OrderRow } from '../store/orders.ts';
import { addJob, type JobSpec } from '../store/jobs.ts';
import { isWatchedAttempt } from '../domain/states.ts';
import { nextQuery, type NextQuery } from '../domain/schedule.ts';
import { callChannel, tradeRef } from './channel-calls.ts';
import { emitEvent, moveOrder, settleAttempt } from './state-change.ts';
import { closeAndConfirm } from './orders.ts';
import type { ServiceContext } from './context.ts';

export const QUERY_ATTEMPT_TASK = 'query_attempt';

export interface QueryJobPayload {
  attemptId: string;
  step: number;
  /** A one-off query (e.g. after a refused notification) that does not continue the schedule. */
  once?: boolean;
}

/** The key of an attempt's scheduled query chain: one pending job per attempt. */
export function queryJobKey(attemptId: string): string {
  return `query:${attemptId}`;
}

/** One pending scheduled query per attempt: a newer step replaces the older one. */
export function queryJob(attemptId: string, step: number, runAt: Date): JobSpec {
  return { task: QUERY_ATTEMPT_TASK, payload: { attemptId, step }, runAt, jobKey: queryJobKey(attemptId) };
}

export function queryNowJob(attemptId: string): JobSpec {
  return { task: QUERY_ATTEMPT_TASK, payload: { attemptId, step: 0, once: true }, jobKey: `query-now:${attemptId}` };
}

/** True when nothing about this attempt can change any more. */
function isSettled(order: OrderRow, attempt: AttemptRow): boolean {
  return !isWatchedAttempt(attempt.state) && order.state !== 'EXCEPTION';
}

export async function runAttemptQuery(ctx: ServiceContext, payload: QueryJobPayload): Promise<void> {
  const attempt = await findAttempt(ctx.pool, payload.attemptId);
  if (!attempt) return;
  const order = await findOrderById(ctx.pool, attempt.orderId);
  if (!order || isSettled(order, attempt)) return;
  const now = ctx.now();
  const next = nextQuery(ctx.settings.queryPolicy, {
    step: payload.step,
    now,
    attemptCreatedAt: attempt.createdAt,
    orderExpiresAt: order.expiresAt,
    orderIsException: order.state === 'EXCEPTION',
  });
  // The next step is scheduled before this one talks to the channel, so a crash mid-step
  // never ends the chain.
  if (!payload.once && next.kind !== 'stop') await addJob(ctx.pool, queryJob(attempt.id, next.step, next.runAt));
  const status = await callChannel(ctx, attempt, 'query', (c) => c.queryPayment(tradeRef(attempt)));
  const { decision } = await settleAttempt(ctx, attempt.id, status, { source: 'query', closing: false });
  if (decision.resolved) return;
  const expired = now >= order.expiresAt;
  if (expired && isWatchedAttempt(attempt.state) && (status.kind === 'not_paid' || status.kind === 'not_found')) {
    if (await closeAndConfirm(ctx, attempt)) return;
  }
  if (!payload.once) await escalateIfScheduleExhausted(ctx, order.id, next);
}

/** Flow 4's last resort: the schedule ran out with the attempt unresolved. */
async function escalateIfScheduleExhausted(ctx: ServiceContext, orderId: string, next: NextQuery): Promise<void> {
  if (next.kind === 'stop') {
    ctx.log.error({ orderId }, 'attempt still unresolved after the exception window; an operator must act');
    return;
  }
  if (next.kind !== 'exception') return;
  const moved = await withTransaction(ctx.pool, async (tx) => {
    const order = await lockOrder(tx, orderId);
    if (order?.state !== 'PAYING') return false;
    const exception = await moveOrder(tx, order, 'EXCEPTION', 'query schedule exhausted with the payment unresolved');
    await emitEvent(ctx, tx, exception, 'order.exception', await listAttempts(tx, orderId));
    return true;
  });
  if (moved) ctx.log.warn({ orderId }, 'order moved to EXCEPTION; querying continues slowly');
}

/**
 * The close_attempt job: another attempt of the order was paid, or a switch closed this one while
 * its create was still on the way, so it is closed at its channel before the buyer can pay it.
 * Throws while the channel's answer is unknown, so the job runner retries it with back-off.
 */
export async function runCloseAttempt(ctx: ServiceContext, payload: { attemptId: string }): Promise<void> {
  const attempt = await findAttempt(ctx.pool, payload.attemptId);
  if (!attempt || !isWatchedAttempt(attempt.state)) return;
  if (!(await closeAndConfirm(ctx, attempt))) throw new Error(`closing attempt ${attempt.id} at ${attempt.channel}: no answer yet`);
}
