// The business content of the trade calls, checked field by field against channels.md §2.7.
import { requestFingerprint } from '../fingerprint.ts';
import type { TradeMethod } from './store.ts';
import { endOfBeijingDay, parseBeijingTime, parseYuan } from './wire-format.ts';

export const OUT_TRADE_NO = /^[A-Za-z0-9_]{1,64}$/;
const TRADE_NO = /^\d{1,64}$/;
const TIMEOUT_EXPRESS = /^([1-9]\d*)([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Alipay's range for either expiry parameter: 1m to 15d. */
const EXPIRY_MS_MIN = 60_000;
const EXPIRY_MS_MAX = 15 * 86_400_000;
/**
 * Without an expiry parameter a QR code stays scannable about 2 h (an Alipay engineer's figure,
 * channels.md §2.6, unconfirmed); the sandbox gives page.pay trades the same.
 */
const EXPIRY_MS_DEFAULT = 2 * 3_600_000;
const SUBJECT_MAX_CHARS = 256;
const BODY_MAX_CHARS = 128;
/** The only product alipay.trade.page.pay sells (PC website payment). */
const PAGE_PAY_PRODUCT_CODE = 'FAST_INSTANT_TRADE_PAY';

export interface TradeRequest {
  outTradeNo: string;
  totalAmountFen: number;
  subject: string;
  body: string | null;
  /** May be past for a time_expire: the caller decides (a new request with it is refused). */
  timeExpire: Date;
  /** Of method, notify_url and biz_content: "identical parameters" means an identical fingerprint. */
  fingerprint: string;
}

export type Parse<T> = { ok: true; value: T } | { ok: false; message: string };
const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

/** biz_content of alipay.trade.precreate or alipay.trade.page.pay. */
export function parseTradeRequest(
  method: TradeMethod,
  biz: Record<string, unknown>,
  notifyUrl: string | undefined,
  now: Date,
): Parse<TradeRequest> {
  const { out_trade_no, total_amount, subject, body, product_code } = biz;
  if (typeof out_trade_no !== 'string' || !OUT_TRADE_NO.test(out_trade_no)) {
    return fail('out_trade_no must be 1-64 letters, digits or _');
  }
  const totalAmountFen = typeof total_amount === 'string' ? parseYuan(total_amount) : undefined;
  if (totalAmountFen === undefined) return fail('total_amount must be a string of yuan with at most 2 decimals, from 0.01');
  if (!isShortString(subject, SUBJECT_MAX_CHARS)) return fail(`subject is required (string, 1-${SUBJECT_MAX_CHARS} characters)`);
  if (body !== undefined && !isShortString(body, BODY_MAX_CHARS)) return fail(`body must be a string of 1-${BODY_MAX_CHARS} characters`);
  if (method === 'alipay.trade.page.pay' && product_code !== PAGE_PAY_PRODUCT_CODE) {
    return fail(`product_code must be ${PAGE_PAY_PRODUCT_CODE}`);
  }
  const timeExpire = parseExpiry(biz, now);
  if (!timeExpire.ok) return timeExpire;
  return {
    ok: true,
    value: {
      outTradeNo: out_trade_no,
      totalAmountFen,
      subject,
      body: body ?? null,
      timeExpire: timeExpire.value,
      fingerprint: requestFingerprint({ method, notifyUrl: notifyUrl ?? null, biz }),
    },
  };
}

/** §2.7: time_expire (absolute, wins) or timeout_express (relative, or 1c for the end of today). */
function parseExpiry(biz: Record<string, unknown>, now: Date): Parse<Date> {
  const { time_expire, timeout_express } = biz;
  if (time_expire !== undefined) {
    const at = typeof time_expire === 'string' ? parseBeijingTime(time_expire) : undefined;
    if (!at) return fail('time_expire must be a Beijing time as yyyy-MM-dd HH:mm:ss');
    // A past time passes here: repeating a request whose trade has expired learns that it closed
    // (recordTradeRequest). Any future moment is fine, not only from 1 minute on as at Alipay:
    // tests need not wait a minute for an expiry.
    if (at.getTime() - now.getTime() > EXPIRY_MS_MAX) return fail('time_expire must be at most 15 days away');
    return { ok: true, value: at };
  }
  if (timeout_express !== undefined) {
    if (timeout_express === '1c') return { ok: true, value: endOfBeijingDay(now) };
    const m = typeof timeout_express === 'string' ? TIMEOUT_EXPRESS.exec(timeout_express) : null;
    const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
    if (!(ms >= EXPIRY_MS_MIN && ms <= EXPIRY_MS_MAX)) return fail('timeout_express must be 1m to 15d (whole m, h or d), or 1c');
    return { ok: true, value: new Date(now.getTime() + ms) };
  }
  return { ok: true, value: new Date(now.getTime() + EXPIRY_MS_DEFAULT) };
}

export interface TradeRef {
  outTradeNo: string | undefined;
  tradeNo: string | undefined;
}

/** biz_content of alipay.trade.query and alipay.trade.close: out_trade_no or trade_no (which wins). */
export function parseTradeRef(biz: Record<string, unknown>): Parse<TradeRef> {
  const { out_trade_no, trade_no } = biz;
  if (out_trade_no !== undefined && (typeof out_trade_no !== 'string' || !OUT_TRADE_NO.test(out_trade_no))) {
    return fail('out_trade_no must be 1-64 letters, digits or _');
  }
  if (trade_no !== undefined && (typeof trade_no !== 'string' || !TRADE_NO.test(trade_no))) return fail('trade_no must be digits');
  if (out_trade_no === undefined && trade_no === undefined) return fail('out_trade_no or trade_no is required');
  return { ok: true, value: { outTradeNo: out_trade_no, tradeNo: trade_no } };
}

/** Limits count characters (code points), not UTF-8 bytes. */
function isShortString(v: unknown, maxChars: number): v is string {
  return typeof v === 'string' && v.length > 0 && [...v].length <= maxChars;
}
