// The one shape of every state change: under the order's row lock, a guarded update per row
// (zero rows is a bug, not a silent success), the audit row, the event row — one transaction.
import { afterCommit, withTransaction, type Queryable, type Tx } from '../store/db.ts';
import {
  listAttempts,
  lockOrderOfAttempt,
  updateAttemptState,
  updateOrderState,
  type AttemptRow,
  type AttemptStatePatch,
  type OrderRow,
  type OrderStatePatch,
} from '../store/orders.ts';
import { insertEvent } from '../store/events.ts';
import { addJob, type JobSpec } from '../store/jobs.ts';
import { checkTransition, isOpenAttempt, isWatchedAttempt, type AttemptState, type OrderState } from '../domain/states.ts';
import { assert } from '../domain/errors.ts';
import { newId, newOutRefundNo } from '../domain/ids.ts';
import { openRefund } from './refund-open.ts';
import type { EventType } from '../domain/events.ts';
import { decideOnTradeStatus, type Decision, type DecisionContext } from '../domain/decisions.ts';
import type { TradeStatus } from '../channels/types.ts';
import { orderView, type RefundView } from './views.ts';
import type { ServiceContext } from './context.ts';

export async function moveOrder(
  tx: Tx,
  order: OrderRow,
  to: OrderState,
  reason: string,
  patch?: OrderStatePatch,
): Promise<OrderRow> {
  checkTransition('order', order.id, order.state, to);
  const updated = await updateOrderState(tx, order.id, order.state, to, reason, patch);
  assert(updated, `order ${order.id} left ${order.state} while its lock was held`);
  return updated;
}

async function moveAttempt(
  tx: Tx,
  attempt: AttemptRow,
  to: AttemptState,
  reason: string,
  patch?: AttemptStatePatch,
): Promise<AttemptRow> {
  const updated = await tryMoveAttempt(tx, attempt, to, reason, patch);
  assert(updated, `attempt ${attempt.id} left ${attempt.state} while its order's lock was held`);
  return updated;
}

/**
 * The guarded attempt update without the order's lock: null when the attempt already left
 * `attempt.state` (someone else's answer arrived first, and stands).
 */
export async function tryMoveAttempt(
  q: Queryable,
  attempt: AttemptRow,
  to: AttemptState,
  reason: string,
  patch?: AttemptStatePatch,
): Promise<AttemptRow | null> {
  checkTransition('attempt', attempt.id, attempt.state, to);
  return updateAttemptState(q, attempt.id, attempt.state, to, reason, patch);
}

/**
 * Writes the event row, with a snapshot of the order and its attempts as they are now, and its
 * deliveries; the dispatcher is woken once the transaction has committed.
 */
export async function emitEvent(
  ctx: ServiceContext,
  tx: Tx,
  order: OrderRow,
  type: EventType,
  attempts: AttemptRow[],
  refund?: RefundView,
): Promise<void> {
  const data = { order: orderView(order, attempts), ...(refund ? { refund } : {}) };
  const event = { id: newId('evt'), appId: order.appId, orderId: order.id, type, data };
  if ((await insertEvent(tx, event, ctx.outbox.brokers)) > 0) afterCommit(tx, ctx.outbox.wake);
}

/**
 * Applies a decision to rows read under the order's lock; `attempts` are all of the order's
 * attempts. An order just paid has its other open attempts closed at their channels right away,
 * so the buyer cannot pay a second time through them.
 */
export async function applyDecision(
  ctx: ServiceContext,
  tx: Tx,
  order: OrderRow,
  attempt: AttemptRow,
  attempts: AttemptRow[],
  d: Decision,
): Promise<{ order: OrderRow; attempts: AttemptRow[] }> {
  let current = attempts;
  if (d.attempt) {
    const moved = await moveAttempt(tx, attempt, d.attempt.to, d.reason, {
      channelTradeNo: d.attempt.channelTradeNo,
      paidAt: d.attempt.paidAt,
    });
    current = attempts.map((a) => (a.id === moved.id ? moved : a));
  }
  const updated = d.order ? await moveOrder(tx, order, d.order.to, d.reason, { paidAttemptId: d.order.paidAttemptId }) : order;
  if (d.event) await emitEvent(ctx, tx, updated, d.event, current);
  if (d.order?.to === 'PAID') {
    for (const other of current) if (isOpenAttempt(other.state)) await addJob(tx, closeAttemptJob(other.id));
  }
  if (d.refund) await refundInFull(tx, updated, current.find((a) => a.id === attempt.id)!, d.refund);
  if (d.attempt) await sweepAtExpiryIfUnwatched(tx, updated, current);
  return { order: updated, attempts: current };
}

/**
 * A second payment of a paid order, or a payment of a closed one, goes back to the buyer in full,
 * opened in the transaction that learned of it so it cannot be forgotten.
 */
async function refundInFull(tx: Tx, order: OrderRow, attempt: AttemptRow, kind: 'duplicate' | 'late'): Promise<void> {
  const opened = await openRefund(
    tx,
    {
      id: newId('re'),
      orderId: order.id,
      attemptId: attempt.id,
      appId: order.appId,
      kind,
      merchantRefundNo: null,
      outRefundNo: newOutRefundNo(),
      amountMinor: attempt.amountMinor,
      currency: attempt.currency,
      reason: kind === 'duplicate' ? 'duplicate payment' : 'late payment',
    },
    `${kind} payment: refunded in full automatically`,
  );
  assert(opened.kind === 'opened', `automatic refund of attempt ${attempt.id}: ${opened.kind}`);
}

export const EXPIRE_ORDERS_TASK = 'expire_orders';

/**
 * An unpaid order left with no attempt to watch (the last one was refused, or closed by a switch)
 * has no query job to close it at its expiry: the expiry sweep is scheduled for that moment
 * instead of waiting for its next minutely run.
 */
export async function sweepAtExpiryIfUnwatched(q: Queryable, order: OrderRow, attempts: AttemptRow[]): Promise<void> {
  if (order.state === 'PAID' || order.state === 'CLOSED' || attempts.some((a) => isWatchedAttempt(a.state))) return;
  const runAt = new Date(order.expiresAt.getTime() + SWEEP_AFTER_EXPIRY_MS);
  await addJob(q, { task: EXPIRE_ORDERS_TASK, payload: {}, runAt, jobKey: `expire:${order.id}` });
}

/** The sweep compares with Node's clock and the job runs by the database's: a second covers skew. */
const SWEEP_AFTER_EXPIRY_MS = 1_000;

export const CLOSE_ATTEMPT_TASK = 'close_attempt';

export function closeAttemptJob(attemptId: string): JobSpec {
  return { task: CLOSE_ATTEMPT_TASK, payload: { attemptId }, jobKey: `close:${attemptId}` };
}

export interface Settlement<T> {
  decision: Decision;
  order: OrderRow;
  /** What the `after` hook returned. */
  after: T | undefined;
}

export interface SettleHooks<T> {
  /** Runs first in the transaction, under the order's lock (e.g. storing the notification). */
  before?: (tx: Tx) => Promise<void>;
  /** Runs last in the transaction, with the order and attempts as the answer left them. */
  after?: (tx: Tx, order: OrderRow, attempts: AttemptRow[]) => Promise<T>;
}

/**
 * Applies a channel's answer about one attempt: locks the order, reads its attempts, decides
 * purely, applies — one transaction, with the hooks inside it.
 */
export async function settleAttempt<T = void>(
  ctx: ServiceContext,
  attemptId: string,
  status: TradeStatus,
  evidence: Omit<DecisionContext, 'otherWatchedAttempt' | 'beforeExpiry' | 'acceptLatePayment'>,
  hooks: SettleHooks<T> = {},
): Promise<Settlement<T>> {
  const settlement = await withTransaction(ctx.pool, async (tx) => {
    const order = await lockOrderOfAttempt(tx, attemptId);
    assert(order, `attempt ${attemptId} or its order vanished`);
    const attempts = await listAttempts(tx, order.id);
    const attempt = attempts.find((a) => a.id === attemptId)!;
    if (hooks.before) await hooks.before(tx);
    const otherWatchedAttempt = attempts.some((a) => a.id !== attemptId && isWatchedAttempt(a.state));
    const beforeExpiry = ctx.now() < attempt.channelExpiresAt;
    const acceptLatePayment = ctx.settings.latePayments === 'accept';
    const decision = decideOnTradeStatus(order, attempt, status, { ...evidence, otherWatchedAttempt, beforeExpiry, acceptLatePayment });
    const applied = await applyDecision(ctx, tx, order, attempt, attempts, decision);
    const after = hooks.after ? await hooks.after(tx, applied.order, applied.attempts) : undefined;
    return { decision, order: applied.order, after };
  });
  if (settlement.decision.anomaly) {
    ctx.metrics.anomalies.inc({ kind: settlement.decision.anomaly });
    ctx.log.warn(
      { orderId: settlement.order.id, attemptId, anomaly: settlement.decision.anomaly, reason: settlement.decision.reason },
      'payment anomaly',
    );
  }
  return settlement;
}
