// Ids are prefixed so a reader knows what they name; the random part is 128 bits.
import { randomBytes } from 'node:crypto';

export type IdPrefix = 'ord' | 'pay' | 'evt' | 'app' | 'we' | 're' | 'rec' | 'op';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** 16 random bytes in base64url. */
const ID_BODY = /^[A-Za-z0-9_-]{22}$/;

/** Whether `value` has the shape newId(prefix) makes: anything else names nothing, so is never looked up. */
export function isId(prefix: IdPrefix, value: string): boolean {
  return value.startsWith(`${prefix}_`) && ID_BODY.test(value.slice(prefix.length + 1));
}

/**
 * A number we give the channel: 32 characters of [0-9a-z], inside WeChat Pay's 6–32 limit,
 * UnionPay's 8–40 letters and digits and every other channel's alphabet. Derived from nothing the
 * client controls.
 */
function newChannelNumber(prefix: 'pc' | 'rf'): string {
  return prefix + BigInt('0x' + randomBytes(19).toString('hex')).toString(36).padStart(30, '0').slice(-30);
}

/** The channel-side trade number of an attempt. */
export function newOutTradeNo(): string {
  return newChannelNumber('pc');
}

/** The channel-side number of a refund (out_refund_no, out_request_no, UnionPay's orderId). */
export function newOutRefundNo(): string {
  return newChannelNumber('rf');
}

export function newApiKey(): string {
  return `pk_${randomBytes(24).toString('base64url')}`;
}
