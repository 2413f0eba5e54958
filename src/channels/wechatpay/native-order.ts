// The body of `POST /v3/pay/transactions/native` (channels.md §1.1), serialized once.
import type { CreatePaymentInput } from '../types.ts';

/** WeChat's `description` limit, in characters. */
export const DESCRIPTION_MAX_CHARS = 127;
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Cuts to 127 characters. */
export function truncateDescription(description: string): string {
  return truncateChars(description, DESCRIPTION_MAX_CHARS);
}

/** WeChat counts characters as Unicode code points, so a surrogate pair is never split. */
export function truncateChars(text: string, maxChars: number): string {
  // Fast path: fewer UTF-16 units than the limit means fewer code points too.
  if (text.length <= maxChars) return text;
  const codePoints = Array.from(text);
  return codePoints.length <= maxChars ? text : codePoints.slice(0, maxChars).join('');
}

/**
 * RFC 3339 in Beijing time, to the second: `2018-06-08T10:34:56+08:00`. Milliseconds are dropped
 * (floored), so a retry with the same expiresAt sends the identical value.
 */
export function formatTimeExpire(expiresAt: Date): string {
  const seconds = Math.floor(expiresAt.getTime() / 1000);
  return new Date(seconds * 1000 + BEIJING_OFFSET_MS).toISOString().slice(0, 19) + '+08:00';
}

export interface NativeOrderIdentity {
  appId: string;
  mchId: string;
  notifyUrl: string;
}

export function buildNativeOrderBody(id: NativeOrderIdentity, input: CreatePaymentInput): string {
  return JSON.stringify({
    appid: id.appId,
    mchid: id.mchId,
    description: truncateDescription(input.description),
    out_trade_no: input.outTradeNo,
    time_expire: formatTimeExpire(input.expiresAt),
    notify_url: id.notifyUrl,
    amount: { total: input.amountMinor, currency: input.currency },
  });
}
