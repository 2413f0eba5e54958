// Request parameters (channels.md §2.1, §2.7): biz_content for each call, the common parameters,
// and the signature over all of them. biz_content is serialized once and that exact string is both
// signed and sent.
import type { KeyObject } from 'node:crypto';
import { formatBeijingDashed } from '../beijing-time.ts';
import { truncateChars } from '../truncate.ts';
import type { CreatePaymentInput, RefundRequest } from '../types.ts';
import { fenToYuan } from '../yuan.ts';
import { REQUEST_UNSIGNED_KEYS, buildSignContent, signContent } from './sign.ts';

/** Alipay's `subject` limit, in characters. */
export const SUBJECT_MAX_CHARS = 256;
/** Alipay's total_amount and refund_amount ceiling: 100 000 000.00 yuan. */
export const AMOUNT_MINOR_MAX = 10_000_000_000;
/** Alipay's `refund_reason` limit, in characters. */
const REFUND_REASON_MAX_CHARS = 256;
/** The product code of computer-website (page) payments. */
const PAGE_PAY_PRODUCT_CODE = 'FAST_INSTANT_TRADE_PAY';

export type AlipayMethod =
  | 'alipay.trade.precreate'
  | 'alipay.trade.page.pay'
  | 'alipay.trade.query'
  | 'alipay.trade.close'
  | 'alipay.trade.refund'
  | 'alipay.trade.fastpay.refund.query'
  | 'alipay.data.dataservice.bill.downloadurl.query';

/** Cuts to 256 characters (Unicode code points, so a surrogate pair is never split). */
export function truncateSubject(subject: string): string {
  return truncateChars(subject, SUBJECT_MAX_CHARS);
}

type TradeInput = Pick<CreatePaymentInput, 'outTradeNo' | 'amountMinor' | 'description' | 'expiresAt'>;

/**
 * The fields both create calls share. time_expire is Beijing time to the second (milliseconds
 * dropped), so a retry with the same expiresAt sends identical text and never meets
 * ACQ.CONTEXT_INCONSISTENT.
 */
function tradeFields(input: TradeInput) {
  return {
    out_trade_no: input.outTradeNo,
    total_amount: fenToYuan(input.amountMinor),
    subject: truncateSubject(input.description),
    time_expire: formatBeijingDashed(input.expiresAt),
  };
}

export function precreateBizContent(input: TradeInput): string {
  return JSON.stringify(tradeFields(input));
}

export function pagePayBizContent(input: TradeInput): string {
  return JSON.stringify({ ...tradeFields(input), product_code: PAGE_PAY_PRODUCT_CODE });
}

export function tradeRefBizContent(outTradeNo: string): string {
  return JSON.stringify({ out_trade_no: outTradeNo });
}

/**
 * Every field is taken from the RefundRequest alone, so a retry sends identical text and Alipay
 * answers it as the same refund (out_request_no is the idempotency key, §2.9).
 */
export function refundBizContent(refund: RefundRequest): string {
  const reason = refund.reason?.trim() ? truncateChars(refund.reason, REFUND_REASON_MAX_CHARS) : undefined;
  return JSON.stringify({
    out_trade_no: refund.trade.outTradeNo,
    refund_amount: fenToYuan(refund.amountMinor),
    out_request_no: refund.outRefundNo,
    refund_reason: reason,
  });
}

export function refundQueryBizContent(refund: RefundRequest): string {
  return JSON.stringify({ out_trade_no: refund.trade.outTradeNo, out_request_no: refund.outRefundNo });
}

/** The daily bill of API trades (`trade`, not the account's fund flow) for a yyyy-MM-dd day. */
export function billBizContent(date: string): string {
  return JSON.stringify({ bill_type: 'trade', bill_date: date });
}

export interface SigningIdentity {
  appId: string;
  privateKey: KeyObject;
}

/**
 * The common parameters of §2.1 plus `extra` (notify_url, return_url), signed. `timestamp` is
 * Beijing wall-clock time, as Alipay reads it.
 */
export async function signedParams(
  id: SigningIdentity,
  method: AlipayMethod,
  bizContent: string,
  now: Date,
  extra: Readonly<Record<string, string | undefined>> = {},
): Promise<Record<string, string>> {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== '') params[k] = v;
  Object.assign(params, {
    app_id: id.appId,
    method,
    format: 'JSON',
    charset: 'utf-8',
    sign_type: 'RSA2',
    timestamp: formatBeijingDashed(now),
    version: '1.0',
    biz_content: bizContent,
  });
  params.sign = await signContent(id.privateKey, buildSignContent(params, REQUEST_UNSIGNED_KEYS));
  return params;
}

/** `k=v&…` with keys and values percent-encoded (UTF-8), for a query string or a form body. */
export function encodeForm(params: Readonly<Record<string, string>>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}
