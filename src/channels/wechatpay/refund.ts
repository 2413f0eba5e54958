// Refunds at WeChat Pay (channels.md §1.8, docs/refunds-and-bills.md): the request body, the
// `Refund` object read into a RefundStatus, and what a classified answer means for a refund request
// or query. Pure: the calls are made in index.ts.
import { truncateChars } from '../truncate.ts';
import type { RefundRequest, RefundStatus } from '../types.ts';
import { describeSuccess, normalizeCode, type Classified } from './classify.ts';
import { isFen, isRecord, parseRfc3339, readJsonObject } from './transaction.ts';

/** WeChat's `reason` limit, in characters. */
export const REFUND_REASON_MAX_CHARS = 80;
/** out_refund_no: at most 64 digits, letters and `_-|*@` (channels.md §1.1). */
const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;

export type RefundState = 'processing' | 'succeeded' | 'failed';

/** Every refund status WeChat documents (Refund.status, the notice's refund_status, the bill's 退款状态). */
const REFUND_STATES: Readonly<Record<string, RefundState>> = {
  PROCESSING: 'processing',
  SUCCESS: 'succeeded',
  /** Closed by WeChat: no money moved. */
  CLOSED: 'failed',
  /** The buyer's account could not take the money (e.g. a frozen card): settled by hand, not by us. */
  ABNORMAL: 'failed',
};

/** undefined for a status WeChat does not document: asked again, never guessed. */
export function refundStateOf(status: unknown): RefundState | undefined {
  return typeof status === 'string' && Object.hasOwn(REFUND_STATES, status) ? REFUND_STATES[status] : undefined;
}

/**
 * Refusals at request after which no money moved and none will (normalized codes): more than is
 * refundable, and the same out_refund_no with another body. A 404 (trade unknown or not paid) is
 * final too. Every other 4xx (SIGN_ERROR, NO_AUTH, RULE_LIMIT's "retry later", TRADE_ERROR, …) is
 * asked again by query.
 */
const FINAL_REFUND_REFUSALS = new Set(['NOTENOUGH', 'INVALIDREQUEST', 'PARAMERROR']);

/** Refuses locally what WeChat must never see; such a refund fails before any money can move. */
export function rejectInvalidRefund(refund: RefundRequest): RefundStatus | undefined {
  const { amountMinor, totalMinor } = refund;
  if (typeof refund.outRefundNo !== 'string' || !OUT_REFUND_NO.test(refund.outRefundNo)) {
    return { kind: 'failed', code: 'invalid_refund_no', message: 'outRefundNo must be 1-64 letters, digits or _-|*@' };
  }
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0 || !Number.isSafeInteger(totalMinor) || amountMinor > totalMinor) {
    return { kind: 'failed', code: 'invalid_amount', message: 'amountMinor must be a whole number of fen from 1 to totalMinor' };
  }
  if (refund.currency !== 'CNY') return { kind: 'failed', code: 'unsupported_currency', message: 'wechatpay accepts CNY only' };
  return undefined;
}

/** The body of `POST /v3/refund/domestic/refunds`, serialized once; identical on every retry. */
export function buildRefundBody(notifyUrl: string, refund: RefundRequest): string {
  const reason = refund.reason ? truncateChars(refund.reason, REFUND_REASON_MAX_CHARS) : '';
  return JSON.stringify({
    out_trade_no: refund.trade.outTradeNo,
    out_refund_no: refund.outRefundNo,
    ...(reason !== '' && { reason }),
    notify_url: notifyUrl,
    amount: { refund: refund.amountMinor, total: refund.totalMinor, currency: refund.currency },
  });
}

export function refundRequestOutcome(answer: Classified, refund: RefundRequest): RefundStatus {
  switch (answer.outcome) {
    case 'success':
      return refundStatusOfAnswer(answer, refund);
    case 'rejected':
      if (answer.category === 'order_not_exist' || FINAL_REFUND_REFUSALS.has(normalizeCode(answer.code))) {
        return { kind: 'failed', code: answer.code, message: answer.message || answer.reason };
      }
      return { kind: 'unknown', reason: answer.reason };
    case 'unknown':
      return { kind: 'unknown', reason: answer.reason };
  }
}

export function refundQueryOutcome(answer: Classified, refund: RefundRequest): RefundStatus {
  switch (answer.outcome) {
    case 'success':
      return refundStatusOfAnswer(answer, refund);
    case 'rejected':
      // Only a signed "no such refund" says our request never reached WeChat.
      return answer.category === 'order_not_exist' ? { kind: 'not_found' } : { kind: 'unknown', reason: answer.reason };
    case 'unknown':
      return { kind: 'unknown', reason: answer.reason };
  }
}

function refundStatusOfAnswer(answer: Extract<Classified, { outcome: 'success' }>, refund: RefundRequest): RefundStatus {
  const body = readJsonObject(answer.body);
  if (!body) return { kind: 'unknown', reason: `malformed_answer: not a JSON object; ${describeSuccess(answer)}` };
  if (body.out_refund_no !== refund.outRefundNo || body.out_trade_no !== refund.trade.outTradeNo) {
    return { kind: 'unknown', reason: `wrong_refund: answer names another refund or trade; ${describeSuccess(answer)}` };
  }
  return refundStatusFromRefund(body, body.status);
}

/**
 * A `Refund` (query answer) or a decrypted refund resource (notification) read into a
 * RefundStatus; `status` is the field that carries its state (`status` or `refund_status`).
 */
export function refundStatusFromRefund(refund: Record<string, unknown>, status: unknown): RefundStatus {
  const state = refundStateOf(status);
  switch (state) {
    case 'processing':
      return { kind: 'processing' };
    case 'succeeded':
      return succeededStatus(refund);
    case 'failed':
      return { kind: 'failed', code: String(status), message: `WeChat Pay reports the refund ${String(status)}: no money moved` };
    case undefined:
      return { kind: 'unknown', reason: `unexpected_refund_status: ${JSON.stringify(status ?? null).slice(0, 40)}` };
    default: {
      const unreachable: never = state;
      throw new Error(`unhandled refund state ${String(unreachable)}`);
    }
  }
}

function succeededStatus(refund: Record<string, unknown>): RefundStatus {
  const { amount, refund_id: refundId } = refund;
  const amountMinor = isRecord(amount) ? amount.refund : undefined;
  if (!isFen(amountMinor)) return malformed('amount.refund');
  const succeededAt = parseRfc3339(refund.success_time);
  if (succeededAt === undefined) return malformed('success_time');
  const status: RefundStatus = { kind: 'succeeded', amountMinor, succeededAt };
  if (typeof refundId === 'string' && refundId !== '') status.channelRefundNo = refundId;
  return status;
}

function malformed(field: string): RefundStatus {
  return { kind: 'unknown', reason: `malformed_refund: succeeded refund without a valid ${field}` };
}
