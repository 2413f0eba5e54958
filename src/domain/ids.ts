// Ids are prefixed so a reader knows what they name; the random part is 128 bits.
import { randomBytes } from 'node:crypto';

export type IdPrefix = 'ord' | 'pay' | 'evt' | 'app' | 'we';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/**
 * The channel-side trade number of an attempt: 32 characters of [0-9a-z], inside WeChat Pay's
 * 6–32 limit and every channel's alphabet. Derived from nothing the client controls.
 */
export function newOutTradeNo(): string {
  return 'pc' + BigInt('0x' + randomBytes(19).toString('hex')).toString(36).padStart(30, '0').slice(-30);
}

export function newApiKey(): string {
  return `pk_${randomBytes(24).toString('base64url')}`;
}
