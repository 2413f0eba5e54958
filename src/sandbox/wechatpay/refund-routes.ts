// The refund API and the refund query (channels.md §1.8, docs/refunds-and-bills.md), mounted
// inside wechatpayApiRoutes: its hooks authenticate the merchant and sign every answer.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { withTransaction } from '../../store/db.ts';
import type { FaultSwitchboard } from '../faults.ts';
import { dropConnection } from '../http-replies.ts';
import type { NewNotification } from '../notification-store.ts';
import type { Notifier } from '../notifier.ts';
import { REFUND_FINISH_DELAY_MS } from '../refund-ledger.ts';
import { parseJsonBody } from '../raw-body.ts';
import { queryFault, sendError, sendJson } from './api-replies.ts';
import type { Merchant } from './merchants.ts';
import { buildRefundNotification } from './notification-envelope.ts';
import { decideRefund, parseRefundRequest, toRefund, toRefundResource, type RefundDecision, type RefundRequest } from './refund.ts';
import { findRefund, insertRefundAndEnqueueNotification, refundedAmount, type RefundRow } from './refund-store.ts';
import { lockTrade } from './store.ts';
import { newRefundId } from './wire-format.ts';

export interface WechatpayRefundDeps {
  pool: pg.Pool;
  faults: FaultSwitchboard;
  notifier: Notifier;
  timeScale: number;
  /** out_trade_nos whose refunds end CLOSED (no money moved) from now on. */
  refundFailures: ReadonlySet<string>;
  authenticated(req: FastifyRequest): Merchant;
}

export function wechatpayRefundRoutes(deps: WechatpayRefundDeps) {
  const { faults, authenticated } = deps;

  return async function plugin(api: FastifyInstance): Promise<void> {
    api.post('/refund/domestic/refunds', async (req, reply) => {
      const merchant = authenticated(req);
      const parsed = parseRefundRequest(parseJsonBody(req));
      if (!parsed.ok) return sendError(reply, 400, 'PARAM_ERROR', parsed.message);
      const decision = await requestRefund(deps, merchant, parsed.request, new Date());
      if (decision.kind === 'refused') return sendError(reply, decision.status, decision.code, decision.message);
      // Like an order creation: the refund stands even when the answer is lost.
      if (faults.strikes(faults.current.createTimeoutRate)) return dropConnection(req, reply);
      return sendJson(reply, 200, toRefund(decision.refund, new Date()));
    });

    api.get<{ Params: { outRefundNo: string } }>('/refund/domestic/refunds/:outRefundNo', async (req, reply) => {
      const merchant = authenticated(req);
      const faulted = queryFault(faults, req, reply);
      if (faulted) return faulted;
      const refund = await findRefund(deps.pool, merchant.mchId, req.params.outRefundNo);
      if (!refund) return sendError(reply, 404, 'RESOURCE_NOT_EXISTS', 'refund does not exist');
      return sendJson(reply, 200, toRefund(refund, new Date()));
    });
  };
}

type RefundAnswer = Extract<RefundDecision, { kind: 'refused' }> | { kind: 'refund'; refund: RefundRow };

/**
 * Decides the refund under the trade's row lock, so concurrent refunds of one trade never exceed
 * its total, and records it with its notification (due when the refund finishes).
 */
async function requestRefund(deps: WechatpayRefundDeps, merchant: Merchant, request: RefundRequest, now: Date): Promise<RefundAnswer> {
  const { mchId } = merchant;
  const finishesAt = new Date(now.getTime() + REFUND_FINISH_DELAY_MS * deps.timeScale);
  const result = await withTransaction(deps.pool, async (tx): Promise<RefundAnswer | { kind: 'accepted'; refund: RefundRow; row: NewNotification }> => {
    const trade = await lockTrade(tx, mchId, request.outTradeNo);
    const existing = await findRefund(tx, mchId, request.outRefundNo);
    const refunded = trade ? await refundedAmount(tx, mchId, request.outTradeNo, now) : 0;
    const decision = decideRefund(request, trade, existing, refunded);
    if (decision.kind !== 'accept') return answerOf(decision);
    const { transactionId } = decision.trade;
    if (!transactionId) throw new Error(`paid trade ${mchId}/${request.outTradeNo} has no transaction_id`);
    const refund: RefundRow = {
      ...request,
      mchId,
      refundId: newRefundId(now),
      transactionId,
      outcome: deps.refundFailures.has(request.outTradeNo) ? 'CLOSED' : 'SUCCESS',
      acceptedAt: now,
      finishesAt,
    };
    const notification = buildRefundNotification(refund.outcome, toRefundResource(refund), merchant.apiV3Key, finishesAt);
    const row = deps.notifier.newNotification(notification.id, notification.body, finishesAt);
    if (await insertRefundAndEnqueueNotification(tx, refund, row)) return { kind: 'accepted', refund, row };
    // A refund of another trade took this out_refund_no meanwhile (it committed: our insert waited for it).
    const taken = await findRefund(tx, mchId, request.outRefundNo);
    if (!taken) throw new Error(`out_refund_no ${mchId}/${request.outRefundNo} conflicted on insert but cannot be read`);
    return answerOf(decideRefund(request, trade, taken, refunded));
  });
  if (result.kind !== 'accepted') return result;
  deps.notifier.enqueued(result.row, result.refund.notifyUrl);
  return { kind: 'refund', refund: result.refund };
}

function answerOf(decision: RefundDecision): RefundAnswer {
  switch (decision.kind) {
    case 'existing':
      return { kind: 'refund', refund: decision.refund };
    case 'refused':
      return decision;
    case 'accept':
      throw new Error(`refund of ${decision.trade.mchId}/${decision.trade.outTradeNo} was accepted twice in one request`);
  }
}
