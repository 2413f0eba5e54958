// The messages this adapter sends (channels.md §3.4, §3.8): the front (browser) consume form, the
// query, the refund and the file request. The first three name a transaction by orderId + txnTime,
// so txnTime is the attempt's (or refund's) creation time — identical on every retry — never the
// clock at the moment of the call.
import { formatBeijingCompact } from '../beijing-time.ts';
import type { CreatePaymentInput, RefundRequest, RefundStatus } from '../types.ts';
import { isValidDate, rejectUnsupportedInput, type CreateRejection } from '../validate.ts';
import { CURRENCY_CODE_CNY } from './trade.ts';
import { SIGN_METHOD_RSA } from './verify.ts';

const VERSION = '5.1.0';
/** B2C gateway payment. */
const BIZ_TYPE_GATEWAY = '000201';
/** The file request's bizType (channels.md §3.8). */
const BIZ_TYPE_FILE = '000000';
/** ACP's orderId: 8 to 40 letters and digits, no `-` or `_`. */
export const ORDER_ID = /^[0-9A-Za-z]{8,40}$/;
/** UnionPay's queryId (AN21 in its specification; any letters and digits are taken here). */
const QUERY_ID = /^[0-9A-Za-z]{1,40}$/;

export interface MerchantIdentity {
  merId: string;
  certId: string;
  channelType: string;
  frontUrl: string;
  backUrl: string;
}

/** What every message starts with: the protocol, and which transaction it is. */
function header(txnType: string, txnSubType: string, bizType: string): Array<[string, string]> {
  return [
    ['version', VERSION],
    ['encoding', 'UTF-8'],
    ['signMethod', SIGN_METHOD_RSA],
    ['txnType', txnType],
    ['txnSubType', txnSubType],
    ['bizType', bizType],
  ];
}

/** Refuses locally what UnionPay must never see: a non-integer amount, a bad orderId, a bad date. */
export function validateCreateInput(input: CreatePaymentInput): CreateRejection | undefined {
  const unsupported = rejectUnsupportedInput(input, { channel: 'unionpay', methods: ['gateway'] });
  if (unsupported) return unsupported;
  if (!ORDER_ID.test(input.outTradeNo)) {
    return { kind: 'rejected', code: 'invalid_out_trade_no', message: 'outTradeNo must be 8 to 40 letters and digits' };
  }
  if (!isValidDate(input.createdAt)) {
    return { kind: 'rejected', code: 'invalid_created_at', message: 'createdAt is not a valid date' };
  }
  if (!isValidDate(input.expiresAt) || input.expiresAt.getTime() <= input.createdAt.getTime()) {
    return { kind: 'rejected', code: 'invalid_expiry', message: 'expiresAt must be a valid date after createdAt' };
  }
  return undefined;
}

/** Refuses locally a refund UnionPay could not take; its failure is final, since it never left here. */
export function validateRefund(refund: RefundRequest): Extract<RefundStatus, { kind: 'failed' }> | undefined {
  const refuse = (code: string, message: string) => ({ kind: 'failed' as const, code, message });
  if (!ORDER_ID.test(refund.outRefundNo)) return refuse('invalid_out_refund_no', 'outRefundNo must be 8 to 40 letters and digits');
  if (!isValidDate(refund.createdAt)) return refuse('invalid_created_at', 'createdAt is not a valid date');
  if (!Number.isSafeInteger(refund.amountMinor) || refund.amountMinor <= 0) {
    return refuse('invalid_amount', 'amountMinor must be a positive whole number of fen');
  }
  if (refund.currency !== 'CNY') return refuse('unsupported_currency', 'unionpay accepts CNY only');
  if (!QUERY_ID.test(refund.channelTradeNo)) return refuse('invalid_channel_trade_no', 'channelTradeNo must be the consume\'s queryId');
  return undefined;
}

/**
 * The unsigned consume fields. The description is not sent: the gateway consume has no field for it
 * (the cashier shows the merchant's registered name).
 */
export function frontConsumeFields(id: MerchantIdentity, input: CreatePaymentInput): Array<[string, string]> {
  return [
    ...header('01', '01', BIZ_TYPE_GATEWAY),
    ['channelType', id.channelType],
    ['accessType', '0'],
    ['merId', id.merId],
    ['orderId', input.outTradeNo],
    ['txnTime', formatBeijingCompact(input.createdAt)],
    ['txnAmt', String(input.amountMinor)],
    ['currencyCode', CURRENCY_CODE_CNY],
    ['frontUrl', input.returnUrl ?? id.frontUrl],
    ['backUrl', id.backUrl],
    ['payTimeout', formatBeijingCompact(input.expiresAt)],
    ['certId', id.certId],
  ];
}

/** The unsigned query (txnType 00) of the transaction made as `orderId` at `createdAt`: a consume or a refund. */
export function queryFields(id: Pick<MerchantIdentity, 'merId' | 'certId'>, orderId: string, createdAt: Date): Array<[string, string]> {
  return [
    ...header('00', '00', BIZ_TYPE_GATEWAY),
    ['accessType', '0'],
    ['merId', id.merId],
    ['orderId', orderId],
    ['txnTime', formatBeijingCompact(createdAt)],
    ['certId', id.certId],
  ];
}

/**
 * The unsigned refund (退货, txnType 04). Every field comes from the RefundRequest, so a resend is
 * identical and UnionPay answers it without refunding twice (a different one would be `12`).
 */
export function refundFields(id: MerchantIdentity, refund: RefundRequest): Array<[string, string]> {
  return [
    ...header('04', '00', BIZ_TYPE_GATEWAY),
    ['channelType', id.channelType],
    ['accessType', '0'],
    ['merId', id.merId],
    ['orderId', refund.outRefundNo],
    ['txnTime', formatBeijingCompact(refund.createdAt)],
    ['txnAmt', String(refund.amountMinor)],
    ['currencyCode', CURRENCY_CODE_CNY],
    ['origQryId', refund.channelTradeNo],
    ['backUrl', id.backUrl],
    ['certId', id.certId],
  ];
}

/** The unsigned file request (txnType 76) for the transaction detail file of `settleDate` (MMDD). */
export function billFields(id: Pick<MerchantIdentity, 'merId' | 'certId'>, settleDate: string, now: Date): Array<[string, string]> {
  return [
    ...header('76', '01', BIZ_TYPE_FILE),
    ['accessType', '0'],
    ['merId', id.merId],
    ['settleDate', settleDate],
    ['txnTime', formatBeijingCompact(now)],
    ['fileType', '00'],
    ['certId', id.certId],
  ];
}
