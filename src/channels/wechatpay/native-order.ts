// The body of `POST /v3/pay/transactions/native` (channels.md §1.1), serialized once.
import { truncateChars } from '../truncate.ts';
import type { CreatePaymentInput } from '../types.ts';

/** WeChat's `description` limit, in characters. */
export const DESCRIPTION_MAX_CHARS = 127;
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Cuts to 127 characters (code points, as WeChat counts them). */
export function truncateDescription(description: string): string {
  return truncateChars(description, DESCRIPTION_MAX_CHARS);
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
