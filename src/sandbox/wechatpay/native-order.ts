// The body of POST /v3/pay/transactions/native, checked field by field against channels.md §1.1.
import { requestFingerprint } from '../fingerprint.ts';
import { OUT_TRADE_NO, isAmountFen, isNotifyUrl, isObject, isShortString } from './request-fields.ts';

export interface NativeOrder {
  appid: string;
  mchid: string;
  description: string;
  outTradeNo: string;
  notifyUrl: string;
  attach: string | null;
  amountTotal: number;
  currency: 'CNY';
  timeExpire: Date | null;
  /** sha256 of the whole request in canonical form: "identical parameters" means identical fingerprint. */
  fingerprint: string;
}

export type NativeOrderParse = { ok: true; order: NativeOrder } | { ok: false; message: string };

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const DESCRIPTION_MAX_CHARS = 127;
const ATTACH_MAX_CHARS = 128;
const ID_MAX_CHARS = 32;

export function parseNativeOrder(body: unknown): NativeOrderParse {
  if (!isObject(body)) return fail('request body must be a JSON object');
  const { appid, mchid, description, out_trade_no, notify_url, attach, amount, time_expire } = body;
  if (!isShortString(appid, ID_MAX_CHARS)) return fail('appid is required (string, 1-32 characters)');
  if (!isShortString(mchid, ID_MAX_CHARS)) return fail('mchid is required (string, 1-32 characters)');
  if (!isShortString(description, DESCRIPTION_MAX_CHARS)) return fail('description is required (string, 1-127 characters)');
  if (typeof out_trade_no !== 'string' || !OUT_TRADE_NO.test(out_trade_no)) {
    return fail('out_trade_no must be 6-32 characters of letters, digits, _ - | *');
  }
  if (!isNotifyUrl(notify_url)) return fail('notify_url must be an absolute http(s) URL without a query string');
  if (attach !== undefined && !isShortString(attach, ATTACH_MAX_CHARS)) return fail('attach must be a string of at most 128 characters');
  if (!isObject(amount)) return fail('amount is required');
  const { total, currency } = amount;
  if (!isAmountFen(total)) {
    return fail('amount.total must be a positive integer number of fen');
  }
  if (currency !== undefined && currency !== 'CNY') return fail('amount.currency must be CNY');
  let timeExpire: Date | null = null;
  if (time_expire !== undefined) {
    timeExpire = typeof time_expire === 'string' && RFC3339.test(time_expire) ? new Date(time_expire) : null;
    if (timeExpire === null || Number.isNaN(timeExpire.getTime())) {
      return fail('time_expire must be an RFC 3339 time, e.g. 2018-06-08T10:34:56+08:00');
    }
  }
  return {
    ok: true,
    order: {
      appid,
      mchid,
      description,
      outTradeNo: out_trade_no,
      notifyUrl: notify_url,
      attach: attach ?? null,
      amountTotal: total,
      currency: 'CNY',
      timeExpire,
      fingerprint: requestFingerprint(body),
    },
  };
}

function fail(message: string): NativeOrderParse {
  return { ok: false, message };
}
