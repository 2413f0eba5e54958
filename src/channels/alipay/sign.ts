// RSA2 signing content and signatures (channels.md §2.2, §2.4). One content builder serves both
// directions; only the excluded keys differ: requests leave out `sign`, notifications leave out
// `sign` and `sign_type`.
import { sign, verify, type KeyObject } from 'node:crypto';

/** Requests: every parameter but `sign` is signed (`sign_type` included). */
export const REQUEST_UNSIGNED_KEYS: readonly string[] = ['sign'];
/** Notifications: Alipay's documented rule leaves out both. */
export const NOTIFICATION_UNSIGNED_KEYS: readonly string[] = ['sign', 'sign_type'];

/**
 * `k=v&k=v…` over raw (not URL-encoded) values, keys in ASCII order, empty values left out (as
 * Alipay's SDKs do: an empty parameter is not sent, so it cannot be signed).
 */
export function buildSignContent(params: Readonly<Record<string, string | undefined>>, excluded: readonly string[]): string {
  return Object.keys(params)
    .filter((k) => !excluded.includes(k) && params[k] !== undefined && params[k] !== '')
    .sort(asciiOrder)
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

/** Code-unit order, spelled out: `localeCompare` would sort `_` and upper case differently. */
function asciiOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Base64 SHA256withRSA over the UTF-8 bytes of `content`. Computed on libuv's thread pool (the
 * callback form of crypto.sign): an RSA-2048 signature costs about a millisecond of CPU that would
 * otherwise block every other request.
 */
export function signContent(privateKey: KeyObject, content: string): Promise<string> {
  return new Promise((resolve, reject) =>
    sign('sha256', Buffer.from(content, 'utf8'), privateKey, (err, signature) =>
      err ? reject(err) : resolve(signature.toString('base64')),
    ),
  );
}

/** SHA256withRSA check with Alipay's public key; false (never a throw) for a malformed signature. */
export function verifyContent(publicKey: KeyObject, content: string, signatureB64: string): boolean {
  try {
    return verify('sha256', Buffer.from(content, 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}
