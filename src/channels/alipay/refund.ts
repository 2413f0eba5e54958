// Refunds (channels.md §2.9, docs/refunds-and-bills.md): alipay.trade.refund and
// alipay.trade.fastpay.refund.query. Alipay has no refund number of its own; a refund is the pair
// (trade_no, out_request_no), and out_request_no (our outRefundNo) makes a resend safe.
import { parseBeijingTime } from '../beijing-time.ts';
import { yuanToFen } from '../yuan.ts';
import type { RefundRequest, RefundStatus } from '../types.ts';
import { misnamedField, wrongSubject } from './answer-names.ts';
import { classify, refundDecision, refundQueryDecision, type Classified } from './classify.ts';
import { AMOUNT_MINOR_MAX, refundBizContent, refundQueryBizContent } from './params.ts';
import { callAlipay, type CallContext } from './transport.ts';

/** refund_status values of a refund query that mean the money was returned; '' stands for absent. */
const REFUND_SUCCESS_STATUSES = new Set(['', 'REFUND_SUCCESS']);

export async function requestAlipayRefund(ctx: CallContext, refund: RefundRequest): Promise<RefundStatus> {
  const invalid = invalidRefundAmount(refund.amountMinor);
  if (invalid) return invalid;
  const answer = classify(await callAlipay(ctx, 'alipay.trade.refund', refundBizContent(refund)));
  switch (refundDecision(answer.category)) {
    case 'accepted': {
      const misnamed = misnamedField(answer, tradeNames(refund));
      if (misnamed) return wrongSubject(answer, misnamed);
      // fund_change N (or none) is also Alipay's answer to a resend of a refund done earlier: only a query can say.
      if (answer.node?.fund_change !== 'Y') return { kind: 'processing' };
      // refund_fee is the trade's cumulative refund; this refund's amount is the one we asked for.
      return succeeded(answer, refund, refund.amountMinor, ctx.now());
    }
    case 'failed':
      return { kind: 'failed', code: answer.code, message: answer.message || answer.reason };
    case 'unknown':
      return { kind: 'unknown', reason: answer.reason };
  }
}

export async function queryAlipayRefund(ctx: CallContext, refund: RefundRequest): Promise<RefundStatus> {
  const answer = classify(await callAlipay(ctx, 'alipay.trade.fastpay.refund.query', refundQueryBizContent(refund)));
  switch (refundQueryDecision(answer.category)) {
    case 'answer':
      return readRefundQuery(answer, refund, ctx.now());
    case 'not_exist':
      return { kind: 'not_found' };
    case 'unknown':
      return { kind: 'unknown', reason: answer.reason };
  }
}

/** A 10000 answer without refund_amount is Alipay's "no such refund"; with it, the refund as it stands. */
function readRefundQuery(answer: Classified, refund: RefundRequest, now: Date): RefundStatus {
  const node = answer.node ?? {};
  const misnamed = misnamedField(answer, { ...tradeNames(refund), out_request_no: refund.outRefundNo });
  if (misnamed) return wrongSubject(answer, misnamed);
  if (node.refund_amount === undefined || node.refund_amount === '') return { kind: 'not_found' };
  const amountMinor = typeof node.refund_amount === 'string' ? yuanToFen(node.refund_amount) : undefined;
  if (amountMinor === undefined) return { kind: 'unknown', reason: `malformed_answer: unreadable refund_amount; ${answer.reason}` };
  const status = node.refund_status ?? '';
  if (typeof status !== 'string' || !REFUND_SUCCESS_STATUSES.has(status)) {
    return { kind: 'unknown', reason: `unexpected_refund_status: ${JSON.stringify(status).slice(0, 40)}; ${answer.reason}` };
  }
  return succeeded(answer, refund, amountMinor, now);
}

/** The trade a refund answer must be about, by both its numbers (either may be left out). */
function tradeNames(refund: RefundRequest): Record<string, string> {
  return { out_trade_no: refund.trade.outTradeNo, trade_no: refund.channelTradeNo };
}

/**
 * Alipay's time of the refund (gmt_refund_pay) when it gives one, else the moment we learned of it.
 * The answer's trade_no, when given, was checked to be the refunded trade's.
 */
function succeeded(answer: Classified, refund: RefundRequest, amountMinor: number, now: Date): RefundStatus {
  const timeText = answer.node?.gmt_refund_pay;
  const succeededAt = (typeof timeText === 'string' ? parseBeijingTime(timeText) : undefined) ?? now;
  return { kind: 'succeeded', amountMinor, channelRefundNo: alipayRefundNo(refund.channelTradeNo, refund.outRefundNo), succeededAt };
}

/** Alipay names a refund by its trade and out_request_no; both together are its number. */
function alipayRefundNo(tradeNo: string, outRequestNo: string): string {
  return `${tradeNo}-${outRequestNo}`;
}

/** Refused locally, before Alipay sees it: a refund of no money, a fraction of a fen, or beyond any trade. */
function invalidRefundAmount(amountMinor: number): RefundStatus | undefined {
  if (Number.isSafeInteger(amountMinor) && amountMinor > 0 && amountMinor <= AMOUNT_MINOR_MAX) return undefined;
  return { kind: 'failed', code: 'invalid_amount', message: `amountMinor must be a whole number of fen from 1 to ${AMOUNT_MINOR_MAX}` };
}
