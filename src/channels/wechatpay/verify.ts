// Verification of WeChat Pay's signature on responses and notifications (channels.md §1.3). The
// signed message is built from the raw body exactly as received — never from re-serialized JSON.
import { verify, type KeyObject } from 'node:crypto';
import { AUTH_SCHEME } from './sign.ts';

/** The official SDK rejects |now − Wechatpay-Timestamp| ≥ 300 s; so do we. */
export const TIMESTAMP_TOLERANCE_S = 300;

export interface PlatformKey {
  publicKey: KeyObject;
  /** The WeChat Pay public key id (`PUB_KEY_ID_…`) that Wechatpay-Serial must name. */
  publicKeyId: string;
}

export type VerifyFailure = 'missing_headers' | 'unknown_serial' | 'stale_timestamp' | 'bad_signature';

export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

/** Reads one header by its lower-case name; undefined when absent. */
export type HeaderGetter = (lowerCaseName: string) => string | undefined;

const TIMESTAMP_PATTERN = /^\d{1,12}$/;

/** `<timestamp>\n<nonce>\n<body>\n`; the body is used byte-for-byte when given as bytes. */
export function buildVerifyMessage(timestampS: string, nonce: string, body: string | Uint8Array): Buffer {
  if (typeof body === 'string') return Buffer.from(`${timestampS}\n${nonce}\n${body}\n`, 'utf8');
  return Buffer.concat([Buffer.from(`${timestampS}\n${nonce}\n`, 'utf8'), body, NEWLINE]);
}

const NEWLINE = Buffer.from('\n');

/**
 * Checks the four Wechatpay-* headers in order: present, serial is ours, timestamp fresh, signature
 * valid. `WECHATPAY/SIGNTEST/` probes are not special-cased: they fail as bad_signature.
 */
export function verifyWechatpaySignature(
  header: HeaderGetter,
  body: string | Uint8Array,
  key: PlatformKey,
  nowMs: number,
): VerifyResult {
  const timestampS = header('wechatpay-timestamp');
  const nonce = header('wechatpay-nonce');
  const signature = header('wechatpay-signature');
  const serial = header('wechatpay-serial');
  if (!timestampS || !nonce || !signature || !serial) return { ok: false, reason: 'missing_headers' };
  if (serial !== key.publicKeyId) return { ok: false, reason: 'unknown_serial' };
  if (!TIMESTAMP_PATTERN.test(timestampS)) return { ok: false, reason: 'stale_timestamp' };
  const nowS = Math.floor(nowMs / 1000);
  if (Math.abs(nowS - Number(timestampS)) >= TIMESTAMP_TOLERANCE_S) return { ok: false, reason: 'stale_timestamp' };
  const signatureType = header('wechatpay-signature-type');
  if (signatureType !== undefined && signatureType !== AUTH_SCHEME) return { ok: false, reason: 'bad_signature' };
  let valid = false;
  try {
    valid = verify('sha256', buildVerifyMessage(timestampS, nonce, body), key.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

/** Header lookup over Node's incoming headers (lower-cased names); a repeated header counts as absent. */
export function headerGetterFromRecord(headers: Record<string, string | string[] | undefined>): HeaderGetter {
  return (name) => {
    let value = headers[name];
    if (value === undefined) {
      for (const k of Object.keys(headers)) {
        if (k.toLowerCase() === name) {
          value = headers[k];
          break;
        }
      }
    }
    if (Array.isArray(value)) value = value.length === 1 ? value[0] : undefined;
    return typeof value === 'string' ? value : undefined;
  };
}
