// The one shape of every state change: under the order's row lock, a guarded update per row
// (zero rows is a bug, not a silent success), the audit row, the event row — one transaction.
import { withTransaction, type Tx } from '../store/db.ts';
import {
  findAttempt,
  listAttempts,
  lockOrder,
  updateAttemptState,
  updateOrderState,
  type AttemptRow,
  type AttemptStatePatch,
  type OrderRow,
  type OrderStatePatch,
} from '../store/orders.ts';
import { insertEvent } from '../store/events.ts';
import { checkTransition, type AttemptState, type OrderState } from '../domain/states.ts';
import { assert } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { EventType } from '../domain/events.ts';
import { decideOnTradeStatus, type Decision, type DecisionContext } from '../domain/decisions.ts';
import type { TradeStatus } from '../channels/types.ts';
import { orderView } from './views.ts';
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

export async function moveAttempt(
  tx: Tx,
  attempt: AttemptRow,
  to: AttemptState,
  reason: string,
  patch?: AttemptStatePatch,
): Promise<AttemptRow> {
  checkTransition('attempt', attempt.id, attempt.state, to);
  const updated = await updateAttemptState(tx, attempt.id, attempt.state, to, reason, patch);
  assert(updated, `attempt ${attempt.id} left ${attempt.state} while its order's lock was held`);
  return updated;
}

/** Writes the event row with a snapshot of the order as it is now, inside the transaction. */
export async function emitEvent(tx: Tx, order: OrderRow, type: EventType): Promise<void> {
  const attempts = await listAttempts(tx, order.id);
  await insertEvent(tx, { id: newId('evt'), appId: order.appId, orderId: order.id, type, data: { order: orderView(order, attempts) } });
}

export async function applyDecision(tx: Tx, order: OrderRow, attempt: AttemptRow, d: Decision): Promise<OrderRow> {
  if (d.attempt) {
    await moveAttempt(tx, attempt, d.attempt.to, d.reason, { channelTradeNo: d.attempt.channelTradeNo, paidAt: d.attempt.paidAt });
  }
  let current = order;
  if (d.order) current = await moveOrder(tx, order, d.order.to, d.reason, { paidAttemptId: d.order.paidAttemptId });
  if (d.event) await emitEvent(tx, current, d.event);
  return current;
}

export interface Settlement {
  decision: Decision;
  order: OrderRow;
  attempt: AttemptRow;
}

/**
 * Applies a channel's answer about one attempt: locks the order, re-reads the attempt, decides
 * purely, applies. `before` runs first in the same transaction (e.g. storing the notification).
 */
export async function settleAttempt(
  ctx: ServiceContext,
  attemptId: string,
  status: TradeStatus,
  decisionContext: DecisionContext,
  before?: (tx: Tx, order: OrderRow, attempt: AttemptRow) => Promise<void>,
): Promise<Settlement> {
  const settlement = await withTransaction(ctx.pool, async (tx) => {
    const first = await findAttempt(tx, attemptId);
    assert(first, `attempt ${attemptId} vanished`);
    const order = await lockOrder(tx, first.orderId);
    assert(order, `order ${first.orderId} of attempt ${attemptId} vanished`);
    const attempt = (await findAttempt(tx, attemptId))!;
    if (before) await before(tx, order, attempt);
    const decision = decideOnTradeStatus(order, attempt, status, decisionContext);
    const updated = await applyDecision(tx, order, attempt, decision);
    return { decision, order: updated, attempt };
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
