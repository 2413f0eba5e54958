// Alipay's RSA2 (SHA256withRSA) as the bank sees it, from channels.md §2.2–§2.4: the string to
// sign is every parameter but the excluded ones, empty values dropped, sorted by key, joined as
// key=value with raw (decoded) values.
import type { KeyObject } from 'node:crypto';
import { signSha256WithRsa, verifySha256WithRsa } from '../rsa.ts';

/** A request's signature covers sign_type (§2.2)… */
const UNSIGNED_IN_REQUESTS = ['sign'];
/** …a notification's and a return redirect's do not (§2.4). */
const UNSIGNED_IN_NOTIFICATIONS = ['sign', 'sign_type'];

export function signContent(params: Readonly<Record<string, string>>, unsigned: readonly string[]): string {
  return Object.keys(params)
    .filter((key) => !unsigned.includes(key) && params[key] !== '')
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join('&');
}

/** The string the app should have signed, for the caller to echo in isv.invalid-signature as Alipay does. */
export function requestSignContent(params: Readonly<Record<string, string>>): string {
  return signContent(params, UNSIGNED_IN_REQUESTS);
}

export function verifyRequestSignature(params: Readonly<Record<string, string>>, appPublicKey: KeyObject): boolean {
  const sign = params.sign;
  return sign !== undefined && verifySha256WithRsa(appPublicKey, requestSignContent(params), sign);
}

/**
 * `{"<method>_response":{…},"sign":"…"}` (§2.3): the inner object is serialized once and that very
 * string is signed and spliced in, so the bytes a merchant verifies are the bytes signed.
 */
export async function signedResponseBody(responseKey: string, inner: object, alipayKey: KeyObject): Promise<string> {
  const content = JSON.stringify(inner);
  const sign = await signSha256WithRsa(alipayKey, content);
  return `{${JSON.stringify(responseKey)}:${content},"sign":${JSON.stringify(sign)}}`;
}

/** The parameters plus sign_type=RSA2 and their sign, as notifications and return redirects carry them. */
export async function withSignature(params: Record<string, string>, alipayKey: KeyObject): Promise<Record<string, string>> {
  const signed = { ...params, sign_type: 'RSA2' };
  return { ...signed, sign: await signSha256WithRsa(alipayKey, signContent(signed, UNSIGNED_IN_NOTIFICATIONS)) };
}
