// Refunds as WeChat Pay speaks them (channels.md §1.8, docs/refunds-and-bills.md): the request
// body checked field by field, the bank's decision on it (pure), and the Refund object of the API
// answers and of the notification resource.
import { OUT_TRADE_NO, isAmountFen, isNotifyUrl, isObject, isShortString } from './request-fields.ts';
import type { RefundOutcome, RefundRow } from './refund-store.ts';
import type { TradeRow } from './store.ts';
import { formatBeijingTime } from './wire-format.ts';

export interface RefundRequest {
  outTradeNo: string;
  outRefundNo: string;
  reason: string | null;
  notifyUrl: string;
  amountRefund: number;
  amountTotal: number;
}

export type RefundRequestParse = { ok: true; request: RefundRequest } | { ok: false; message: string };

const OUT_REFUND_NO = /^[A-Za-z0-9_\-|*@]{1,64}$/;
const REASON_MAX_CHARS = 80;
/** The sandbox refunds to the payer's balance: what the answers say the money went to. */
const USER_RECEIVED_ACCOUNT = '支付用户零钱';

export function parseRefundRequest(body: unknown): RefundRequestParse {
  if (!isObject(body)) return fail('request body must be a JSON object');
  const { out_trade_no, transaction_id, out_refund_no, reason, notify_url, amount } = body;
  if (transaction_id !== undefined && out_trade_no === undefined) return fail('the sandbox refunds by out_trade_no; transaction_id alone is not supported');
  if (typeof out_trade_no !== 'string' || !OUT_TRADE_NO.test(out_trade_no)) {
    return fail('out_trade_no must be 6-32 characters of letters, digits, _ - | *');
  }
  if (typeof out_refund_no !== 'string' || !OUT_REFUND_NO.test(out_refund_no)) {
    return fail('out_refund_no must be 1-64 characters of letters, digits, _ - | * @');
  }
  if (reason !== undefined && !isShortString(reason, REASON_MAX_CHARS)) return fail('reason must be a string of at most 80 characters');
  if (!isNotifyUrl(notify_url)) return fail('notify_url must be an absolute http(s) URL without a query string');
  if (!isObject(amount)) return fail('amount is required');
  if (!isAmountFen(amount.refund)) return fail('amount.refund must be a positive integer number of fen');
  if (!isAmountFen(amount.total)) return fail('amount.total must be a positive integer number of fen');
  if (amount.currency !== 'CNY') return fail('amount.currency must be CNY');
  return {
    ok: true,
    request: {
      outTradeNo: out_trade_no,
      outRefundNo: out_refund_no,
      reason: reason ?? null,
      notifyUrl: notify_url,
      amountRefund: amount.refund,
      amountTotal: amount.total,
    },
  };
}

function fail(message: string): RefundRequestParse {
  return { ok: false, message };
}

export type RefundDecision =
  /** The out_refund_no is known and the resend matches it: answer the refund as it is now. */
  | { kind: 'existing'; refund: RefundRow }
  | { kind: 'refused'; status: number; code: string; message: string }
  | { kind: 'accept'; trade: TradeRow };

/**
 * What the bank does with a refund request, given the trade (locked), the refund already holding
 * the out_refund_no if any, and the fen already refunded or being refunded.
 */
export function decideRefund(
  request: RefundRequest,
  trade: TradeRow | undefined,
  existing: RefundRow | undefined,
  refundedFen: number,
): RefundDecision {
  if (existing) {
    if (existing.outTradeNo !== request.outTradeNo || existing.amountRefund !== request.amountRefund) {
      return refused(400, 'INVALID_REQUEST', `out_refund_no ${request.outRefundNo} was used for another refund (other order or amount)`);
    }
    return { kind: 'existing', refund: existing };
  }
  if (!trade || trade.state !== 'SUCCESS') return refused(404, 'RESOURCE_NOT_EXISTS', 'the order does not exist or is not paid');
  if (request.amountTotal !== trade.amountTotal) {
    return refused(400, 'PARAM_ERROR', `amount.total ${request.amountTotal} is not the order total ${trade.amountTotal}`);
  }
  if (refundedFen + request.amountRefund > trade.amountTotal) {
    return refused(403, 'NOT_ENOUGH', `refund amount exceeds what remains refundable (${trade.amountTotal - refundedFen} fen)`);
  }
  return { kind: 'accept', trade };
}

function refused(status: number, code: string, message: string): RefundDecision {
  return { kind: 'refused', status, code, message };
}

export type RefundStatus = 'PROCESSING' | RefundOutcome;

export function refundStatusAt(refund: RefundRow, now: Date): RefundStatus {
  return refund.finishesAt.getTime() > now.getTime() ? 'PROCESSING' : refund.outcome;
}

/** The Refund object of the refund and refund-query answers, as the refund stands at `now`. */
export function toRefund(refund: RefundRow, now: Date): Record<string, unknown> {
  const status = refundStatusAt(refund, now);
  const { amountTotal: total, amountRefund: refunded } = refund;
  return {
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    transaction_id: refund.transactionId,
    out_trade_no: refund.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: USER_RECEIVED_ACCOUNT,
    ...(status === 'SUCCESS' ? { success_time: formatBeijingTime(refund.finishesAt) } : {}),
    create_time: formatBeijingTime(refund.acceptedAt),
    status,
    funds_account: 'AVAILABLE',
    // No coupons in the sandbox: the payer paid, and gets back, the whole amounts.
    amount: {
      total,
      refund: refunded,
      from: [],
      payer_total: total,
      payer_refund: refunded,
      settlement_refund: refunded,
      settlement_total: total,
      discount_refund: 0,
      currency: 'CNY',
    },
    promotion_detail: [],
  };
}

/** The decrypted resource of the refund's notification (§1.4), sent once the refund finished. */
export function toRefundResource(refund: RefundRow): Record<string, unknown> {
  return {
    mchid: refund.mchId,
    transaction_id: refund.transactionId,
    out_trade_no: refund.outTradeNo,
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    refund_status: refund.outcome,
    ...(refund.outcome === 'SUCCESS' ? { success_time: formatBeijingTime(refund.finishesAt) } : {}),
    user_received_account: USER_RECEIVED_ACCOUNT,
    amount: { total: refund.amountTotal, refund: refund.amountRefund, payer_total: refund.amountTotal, payer_refund: refund.amountRefund },
  };
}
