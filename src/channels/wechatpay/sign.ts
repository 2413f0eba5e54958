// Request signing for WeChat Pay API v3 (channels.md §1.2). Pure functions: the caller serializes the
// body once, signs that exact string here, and sends that same string.
import { randomBytes, sign, type KeyObject } from 'node:crypto';

export const AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

/**
 * The string to sign: exactly five lines, each ending in "\n", the last one included. A GET or any
 * bodiless request still has the fifth (empty) line — one SDK drops it for bodiless POSTs and gets
 * 401 SIGN_ERROR.
 */
export function buildSignMessage(
  method: string,
  canonicalUrl: string,
  timestampS: string,
  nonce: string,
  body: string,
): string {
  return `${method}\n${canonicalUrl}\n${timestampS}\n${nonce}\n${body}\n`;
}

/**
 * Base64 RSASSA-PKCS1-v1_5 / SHA-256 signature of the UTF-8 bytes of `message`. Computed on
 * libuv's thread pool (the callback form of crypto.sign): an RSA-2048 signature costs about a
 * millisecond of CPU that would otherwise block every other request.
 */
export function signMessage(privateKey: KeyObject, message: string): Promise<string> {
  return new Promise((resolve, reject) =>
    sign('sha256', Buffer.from(message, 'utf8'), privateKey, (err, signature) =>
      err ? reject(err) : resolve(signature.toString('base64')),
    ),
  );
}

export interface AuthorizationParts {
  mchId: string;
  nonce: string;
  signature: string;
  timestampS: string;
  /** Serial number of the merchant API certificate (not the platform key). */
  serialNo: string;
}

export function buildAuthorization(p: AuthorizationParts): string {
  return (
    `${AUTH_SCHEME} mchid="${p.mchId}",nonce_str="${p.nonce}",signature="${p.signature}",` +
    `timestamp="${p.timestampS}",serial_no="${p.serialNo}"`
  );
}

/** 32 upper-case hex characters, the conventional shape of a v3 nonce. */
export function newNonce(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** Unix seconds as WeChat writes them: a decimal string, no fraction. */
export function unixSeconds(date: Date): string {
  return String(Math.floor(date.getTime() / 1000));
}
