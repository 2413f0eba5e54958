// WECHATPAY2-SHA256-RSA2048 as the bank sees it (channels.md §1.2, §1.3): check the merchant's
// request signature over the exact bytes received, and sign what the bank sends back.
import { createHash, type KeyObject } from 'node:crypto';
import { signSha256WithRsa } from '../rsa.ts';
import { newHexToken, randomAlphanumeric } from './wire-format.ts';

export const AUTHORIZATION_SCHEME = 'WECHATPAY2-SHA256-RSA2048';
/** WeChat's documented freshness window for both directions. */
const TIMESTAMP_TOLERANCE_S = 300;
/** Prefix of the deliberately invalid signatures WeChat sends to test merchants (§1.3). */
const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';

export interface AuthorizationFields {
  mchid: string;
  nonceStr: string;
  signature: string;
  timestamp: string;
  serialNo: string;
}

/** Parses `WECHATPAY2-SHA256-RSA2048 k="v",…` (pairs in any order); undefined if anything is off. */
export function parseAuthorization(header: string | undefined): AuthorizationFields | undefined {
  if (header === undefined || !header.startsWith(AUTHORIZATION_SCHEME + ' ')) return undefined;
  const pairs = new Map<string, string>();
  // Values are base64, hex or digits: none contains a comma, so splitting on commas is exact.
  for (const part of header.slice(AUTHORIZATION_SCHEME.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (pairs.has(key)) return undefined;
    pairs.set(key, value);
  }
  const mchid = pairs.get('mchid');
  const nonceStr = pairs.get('nonce_str');
  const signature = pairs.get('signature');
  const timestamp = pairs.get('timestamp');
  const serialNo = pairs.get('serial_no');
  if (!mchid || !nonceStr || !signature || !timestamp || !serialNo) return undefined;
  return { mchid, nonceStr, signature, timestamp, serialNo };
}

/** The five lines a merchant signs; every line ends in \n, the empty-body line included. */
export function requestSignatureMessage(
  method: string,
  pathAndQuery: string,
  timestamp: string,
  nonce: string,
  body: string,
): string {
  return `${method}\n${pathAndQuery}\n${timestamp}\n${nonce}\n${body}\n`;
}

export function isFreshTimestamp(timestamp: string, nowMs: number): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  return Math.abs(nowMs / 1000 - Number(timestamp)) <= TIMESTAMP_TOLERANCE_S;
}

export interface PlatformSigner {
  /** The WeChat Pay public key id (PUB_KEY_ID_…) sent as Wechatpay-Serial. */
  keyId: string;
  privateKey: KeyObject;
}

/** Wechatpay-* headers for a response or callback body: signature over `timestamp\nnonce\nbody\n`. */
export async function platformSignatureHeaders(
  signer: PlatformSigner,
  body: string,
  nowMs: number,
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const nonce = newHexToken();
  return {
    'Wechatpay-Timestamp': timestamp,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Signature': await signSha256WithRsa(signer.privateKey, `${timestamp}\n${nonce}\n${body}\n`),
    'Wechatpay-Serial': signer.keyId,
  };
}

/** Headers of a SIGNTEST probe: well-formed, but the signature can never verify. */
export function signtestProbeHeaders(signer: PlatformSigner, nowMs: number): Record<string, string> {
  return {
    'Wechatpay-Timestamp': String(Math.floor(nowMs / 1000)),
    'Wechatpay-Nonce': newHexToken(),
    'Wechatpay-Signature': SIGNTEST_PREFIX + Buffer.from(randomAlphanumeric(192)).toString('base64'),
    'Wechatpay-Serial': signer.keyId,
  };
}

/** PUB_KEY_ID_ + 32 digits derived from the key, so the id is stable as long as the key is. */
export function publicKeyIdFor(publicKeyDer: Buffer): string {
  const digest = createHash('sha256').update(publicKeyDer).digest();
  let digits = '';
  for (const byte of digest.subarray(0, 32)) digits += String(byte % 10);
  return 'PUB_KEY_ID_' + digits;
}
