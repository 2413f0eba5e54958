// What the bank does with alipay.trade.refund, decided from the locked trade and the refund
// already on record under the same out_request_no (docs/refunds-and-bills.md, channels.md §2.9).
// Pure: refund-api.ts applies the decision inside the transaction that holds the trade's lock.
import type { GatewayError } from './gateway-request.ts';
import type { RefundableTrade, RefundRow } from './refund-store.ts';
import type { RefundRequest } from './refund-request.ts';

export type RefundDecision =
  | { kind: 'refused'; error: GatewayError }
  /** The same out_request_no succeeded before: fund_change N, nothing moves. */
  | { kind: 'already_refunded'; refund: RefundRow }
  /** A planted failure (POST /sandbox/refund-failures): recorded as failed, no money moves. */
  | { kind: 'fail' }
  /** Money moves now: refundedFen is the trade's new cumulative refund, closes when it is the whole amount. */
  | { kind: 'refund'; refundedFen: number; closes: boolean };

const refused = (subCode: string, subMsg: string): { kind: 'refused'; error: GatewayError } => ({
  kind: 'refused',
  error: { code: '40004', subCode, subMsg },
});

/**
 * The trade a refund may act on, and the refund's number: out_request_no, or for a full refund
 * without one the out_trade_no (§2.7). `trade` is undefined when the app holds no such trade.
 */
export function refundTarget(
  trade: RefundableTrade | undefined,
  request: RefundRequest,
): { ok: true; trade: RefundableTrade; outRequestNo: string } | { ok: false; decision: RefundDecision & { kind: 'refused' } } {
  // A QR code nobody scanned is no trade yet (§2.6).
  if (!trade || trade.status === null) return { ok: false, decision: refused('ACQ.TRADE_NOT_EXIST', '交易不存在') };
  if (request.outRequestNo !== undefined) return { ok: true, trade, outRequestNo: request.outRequestNo };
  if (request.refundAmountFen === trade.totalAmountFen) return { ok: true, trade, outRequestNo: trade.outTradeNo };
  return { ok: false, decision: refused('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额与订单金额不一致: a partial refund needs an out_request_no') };
}

export function decideRefund(trade: RefundableTrade, existing: RefundRow | undefined, refundAmountFen: number, failing: boolean): RefundDecision {
  if (existing && existing.refundAmountFen !== refundAmountFen) {
    // Alipay asks for a resend with the same amount (§2.9); another amount is another request.
    return refused('ACQ.CONTEXT_INCONSISTENT', `交易信息被篡改: out_request_no ${existing.outRequestNo} was used with another refund_amount`);
  }
  if (existing?.state === 'succeeded') return { kind: 'already_refunded', refund: existing };
  if (trade.paidAt === null) return refused('ACQ.TRADE_STATUS_ERROR', '交易状态不合法: the trade is not paid');
  const refundedFen = trade.refundedFen + refundAmountFen;
  if (refundedFen > trade.totalAmountFen) {
    return refused('ACQ.REASON_TRADE_REFUND_FEE_ERR', '退款金额超限: refund_amount exceeds what is left to refund');
  }
  if (failing) return { kind: 'fail' };
  return { kind: 'refund', refundedFen, closes: refundedFen === trade.totalAmountFen };
}

export const SELLER_BALANCE_NOT_ENOUGH: GatewayError = {
  code: '40004',
  subCode: 'ACQ.SELLER_BALANCE_NOT_ENOUGH',
  subMsg: '卖家余额不足 (planted refund failure)',
};
