// The two messages this adapter sends (channels.md §3.4): the front (browser) consume form and the
// query. Both name the trade by orderId + txnTime, so txnTime is the attempt's creation time —
// identical on every retry — never the clock at the moment of the call.
import { formatBeijingCompact } from '../beijing-time.ts';
import type { CreatePaymentInput, TradeRef } from '../types.ts';
import { isValidDate, rejectUnsupportedInput, type CreateRejection } from '../validate.ts';
import { CURRENCY_CODE_CNY } from './trade.ts';
import { SIGN_METHOD_RSA } from './verify.ts';

export const VERSION = '5.1.0';
/** B2C gateway payment. */
const BIZ_TYPE_GATEWAY = '000201';
/** ACP's orderId: 8 to 40 letters and digits, no `-` or `_`. */
export const ORDER_ID = /^[0-9A-Za-z]{8,40}$/;

export interface MerchantIdentity {
  merId: string;
  certId: string;
  channelType: string;
  frontUrl: string;
  backUrl: string;
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

/**
 * The unsigned consume fields. The description is not sent: the gateway consume has no field for it
 * (the cashier shows the merchant's registered name).
 */
export function frontConsumeFields(id: MerchantIdentity, input: CreatePaymentInput): Array<[string, string]> {
  return [
    ['version', VERSION],
    ['encoding', 'UTF-8'],
    ['signMethod', SIGN_METHOD_RSA],
    ['txnType', '01'],
    ['txnSubType', '01'],
    ['bizType', BIZ_TYPE_GATEWAY],
    ['channelType', id.channelType],
    ['accessType', '0'],
    ['merId', id.merId],
    ['orderId', input.outTradeNo],
    ['txnTime', formatBeijingCompact(input.createdAt)],
    ['txnAmt', String(input.amountMinor)],
    ['currencyCode', CURRENCY_CODE_CNY],
    ['frontUrl', id.frontUrl],
    ['backUrl', id.backUrl],
    ['payTimeout', formatBeijingCompact(input.expiresAt)],
    ['certId', id.certId],
  ];
}

/** The unsigned query (txnType 00) for the trade `ref` names. */
export function queryFields(id: Pick<MerchantIdentity, 'merId' | 'certId'>, ref: TradeRef): Array<[string, string]> {
  return [
    ['version', VERSION],
    ['encoding', 'UTF-8'],
    ['signMethod', SIGN_METHOD_RSA],
    ['txnType', '00'],
    ['txnSubType', '00'],
    ['bizType', BIZ_TYPE_GATEWAY],
    ['accessType', '0'],
    ['merId', id.merId],
    ['orderId', ref.outTradeNo],
    ['txnTime', formatBeijingCompact(ref.createdAt)],
    ['certId', id.certId],
  ];
}
