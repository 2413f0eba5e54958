// Refunds (issue 6): asked by the merchant, or opened by Paycenter for a duplicate or late
// payment. A refund is held on the paid attempt when it is made, sent by a durable job, and ends
// SUCCEEDED or FAILED on the channel's word alone — from its notification or our query, never
// from silence.
import { withTransaction, type Tx } from '../store/db.ts';
import { findAttempt, listAttempts, lockOrder, lockOrderOfRefund, type AttemptRow } from '../store/orders.ts';
import {
  findRefund,
  findRefundByMerchantNo,
  listRefunds,
  listUnscheduledPendingRefunds,
  settleRefundTotals,
  updateRefundState,
  type RefundRow,
} from '../store/refunds.ts';
import { addJob } from '../store/jobs.ts';
import type { RefundRequest, RefundStatus } from '../channels/types.ts';
import { assert, PaycenterError } from '../domain/errors.ts';
import { newId, newOutRefundNo } from '../domain/ids.ts';
import { checkTransition } from '../domain/states.ts';
import { decideOnRefundStatus, refundEvent, refundQueryDelay, type RefundDecision } from '../domain/refunds.ts';
import { callChannel, tradeRef } from './channel-calls.ts';
import { emitEvent } from './state-change.ts';
import { openRefund, refundJob, type RefundJobPayload } from './refund-open.ts';
import { requireOrder } from './orders.ts';
import { refundView, type RefundView } from './views.ts';
import type { ServiceContext } from './context.ts';

export interface CreateRefundInput {
  amount: number;
  merchantRefundNo: string;
  reason?: string;
}

/**
 * Opens a merchant refund of a PAID order. Idempotent by merchantRefundNo: the same number and
 * body answer the same refund (`created: false`); another body is refused. The order's lock
 * serializes its refunds, and the hold on the paid attempt is a conditional update, so refunds
 * together never exceed what was paid.
 */
export async function createRefund(
  ctx: ServiceContext,
  appId: string,
  orderId: string,
  input: CreateRefundInput,
): Promise<{ refund: RefundView; created: boolean }> {
  return withTransaction(ctx.pool, async (tx) => {
    const order = await lockOrder(tx, orderId);
    if (!order || order.appId !== appId) throw new PaycenterError('not_found', `No order ${orderId} in this app.`, { orderId });
    const existing = await findRefundByMerchantNo(tx, appId, input.merchantRefundNo);
    if (existing) {
      if (existing.orderId === orderId && existing.amountMinor === input.amount && existing.reason === (input.reason ?? null)) {
        return { refund: refundView(existing), created: false };
      }
      throw numberTaken(existing);
    }
    if (order.state !== 'PAID' || !order.paidAttemptId) {
      throw new PaycenterError('order_not_paid', `Order ${orderId} is ${order.state}; only a PAID order can be refunded.`, { orderId });
    }
    const paid = (await findAttempt(tx, order.paidAttemptId))!;
    const opened = await openRefund(
      tx,
      {
        id: newId('re'),
        orderId,
        attemptId: paid.id,
        appId,
        kind: 'merchant',
        merchantRefundNo: input.merchantRefundNo,
        outRefundNo: newOutRefundNo(),
        amountMinor: input.amount,
        currency: paid.currency,
        reason: input.reason ?? null,
      },
      'refund requested by the merchant',
    );
    if (opened.kind === 'exceeds_paid') {
      const refundable = paid.amountMinor - paid.refundReservedMinor;
      throw new PaycenterError(
        'refund_exceeds_paid',
        `Only ${refundable} of the ${paid.amountMinor} paid can still be refunded (succeeded and pending refunds count).`,
        { orderId, refundable },
      );
    }
    if (opened.kind === 'number_taken') {
      throw numberTaken((await findRefundByMerchantNo(ctx.pool, appId, input.merchantRefundNo))!);
    }
    return { refund: refundView(opened.refund), created: true };
  });
}

function numberTaken(existing: RefundRow): PaycenterError {
  return new PaycenterError(
    'merchant_refund_no_exists',
    `merchantRefundNo ${existing.merchantRefundNo} was already used for another refund (${existing.id}); use a new number for a new refund.`,
    { refundId: existing.id, orderId: existing.orderId },
  );
}

export async function listOrderRefunds(ctx: ServiceContext, appId: string, orderId: string): Promise<RefundView[]> {
  const order = await requireOrder(ctx, appId, orderId);
  return (await listRefunds(ctx.pool, order.id)).map(refundView);
}

function refundRequest(refund: RefundRow, attempt: AttemptRow): RefundRequest {
  assert(attempt.channelTradeNo, `refund ${refund.id}: paid attempt ${attempt.id} has no channel trade number`);
  return {
    outRefundNo: refund.outRefundNo,
    createdAt: refund.createdAt,
    trade: tradeRef(attempt),
    channelTradeNo: attempt.channelTradeNo,
    amountMinor: refund.amountMinor,
    totalMinor: attempt.amountMinor,
    currency: 'CNY',
    reason: refund.reason ?? undefined,
  };
}

/**
 * The refund job: step 0 sends the request, later steps query it; a refund the channel does not
 * know is sent again with the same number (the channel's idempotency key, so never twice). The
 * next step is scheduled before this one talks to the channel, so a crash never ends the chain.
 */
export async function runRefundJob(ctx: ServiceContext, payload: RefundJobPayload): Promise<void> {
  const refund = await findRefund(ctx.pool, payload.refundId);
  if (refund?.state !== 'PENDING') return;
  const attempt = (await findAttempt(ctx.pool, refund.attemptId))!;
  if (!payload.once) {
    const runAt = new Date(ctx.now().getTime() + refundQueryDelay(ctx.settings.refundQueryDelaysMs, payload.step));
    await addJob(ctx.pool, refundJob(refund.id, payload.step + 1, runAt));
  }
  const request = refundRequest(refund, attempt);
  const send = () => callChannel(ctx, attempt, 'refund', (c) => c.requestRefund(request));
  if (payload.step === 0) {
    await settleRefund(ctx, refund.id, await send(), 'request');
    return;
  }
  const answer = await callChannel(ctx, attempt, 'refund_query', (c) => c.queryRefund(request));
  const decision = await settleRefund(ctx, refund.id, answer, 'query');
  if (decision.kind === 'resend') await settleRefund(ctx, refund.id, await send(), 'request');
}

/**
 * Applies a channel's word about a refund under its order's lock: the guarded refund update, the
 * attempt's totals, the audit row and the event — one transaction, with `before` inside it.
 */
export async function settleRefund(
  ctx: ServiceContext,
  refundId: string,
  status: RefundStatus,
  source: string,
  before?: (tx: Tx) => Promise<void>,
): Promise<RefundDecision> {
  const decision = await withTransaction(ctx.pool, async (tx) => {
    const order = await lockOrderOfRefund(tx, refundId);
    assert(order, `refund ${refundId} or its order vanished`);
    if (before) await before(tx);
    const refund = (await findRefund(tx, refundId))!;
    const d = decideOnRefundStatus(refund, status, source);
    if (d.kind !== 'finish') return d;
    checkTransition('refund', refund.id, refund.state, d.to);
    const finished = await updateRefundState(tx, refund.id, 'PENDING', d.to, d.reason, {
      channelRefundNo: d.channelRefundNo,
      failureCode: d.failure?.code,
      failureMessage: d.failure?.message,
    });
    assert(finished, `refund ${refund.id} left PENDING while its order's lock was held`);
    await settleRefundTotals(tx, refund.attemptId, refund.amountMinor, d.to);
    await emitEvent(ctx, tx, order, refundEvent(refund.kind, d.to), await listAttempts(tx, order.id), refundView(finished));
    return d;
  });
  if (decision.kind === 'finish') {
    ctx.log[decision.to === 'FAILED' ? 'warn' : 'info']({ refundId, to: decision.to, reason: decision.reason }, 'refund finished');
  } else if (decision.kind === 'wait' && decision.anomaly) {
    ctx.metrics.anomalies.inc({ kind: decision.anomaly });
    ctx.log.warn({ refundId, anomaly: decision.anomaly, reason: decision.reason }, 'refund anomaly');
  }
  return decision;
}
export { refundQueryNowJob } from './refund-open.ts';

export const SWEEP_REFUNDS_TASK = 'sweep_refunds';
/** A refund this young may still be in its first job's hands. */
const SWEEP_REFUNDS_AFTER_MS = 60_000;
const SWEEP_REFUNDS_BATCH = 500;

/**
 * The refund sweeper (every minute): a PENDING refund whose job chain ended in errors is queried
 * again, so no refund is ever left PENDING by silence. Returns how many it restarted.
 */
export async function sweepPendingRefunds(ctx: ServiceContext): Promise<number> {
  const before = new Date(ctx.now().getTime() - SWEEP_REFUNDS_AFTER_MS);
  const stranded = await listUnscheduledPendingRefunds(ctx.pool, before, SWEEP_REFUNDS_BATCH);
  for (const { id } of stranded) await addJob(ctx.pool, refundJob(id, 1));
  if (stranded.length > 0) ctx.log.warn({ refunds: stranded.length }, 'restarted the queries of pending refunds whose jobs had given up');
  return stranded.length;
}
