// channels.alipay in the config file: an Alipay Open Platform app signing with RSA2 in public-key
// mode (channels.md §2). Keys are read once here so a bad one stops start-up, never a payment.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ConfigError, int, optionalUrl, pem, str, type Source } from './read.ts';

export interface AlipayConfig {
  /** The Open Platform app id (`app_id`), digits. */
  appId: string;
  /** The gateway endpoint, e.g. https://openapi.alipay.com/gateway.do; no query string. */
  gatewayUrl: string;
  /** PEM text of the app private key (PKCS#8 or PKCS#1), RSA; signs every request. */
  privateKey: string;
  /** PEM text of Alipay's public key (not the app's own); verifies answers and notifications. */
  alipayPublicKey: string;
  /** The merchant's PID (`2088` + 12 digits): a notification naming another seller is refused. */
  sellerId: string;
  /** Where Alipay POSTs notifications; no query string (it would be signed and sent back mangled). */
  notifyUrl: string;
  /** The buyer's browser is sent here after page pay; informative only, never trusted for state. */
  returnUrl?: string;
  /** Per-call timeout; a slower answer is "unknown" and gets queried. Default 10 000 ms. */
  requestTimeoutMs: number;
  /**
   * How long after a trade's time_expire "trade does not exist" becomes final (closed). Covers the
   * clock difference between us and Alipay and a scan in the last second. Default 60 000 ms.
   */
  expiryGraceMs: number;
}

const REQUIRED_KEYS = ['appId', 'gatewayUrl', 'privateKey', 'alipayPublicKey', 'sellerId', 'notifyUrl'] as const;

const APP_ID = /^\d{1,32}$/;
const SELLER_ID = /^2088\d{12}$/;
/** Bare base64 of a key (as Alipay's key tool prints it): refused with a hint, and never echoed. */
const BARE_BASE64 = /^[A-Za-z0-9+/=\s]{64,}$/;
const EXPIRY_GRACE_MS_MAX = 24 * 60 * 60 * 1000;

export function parseAlipay(value: unknown): AlipayConfig {
  const prefix = 'channels.alipay';
  if (typeof value !== 'object' || value === null) throw new ConfigError(prefix, 'must be an object');
  const a = value as Source;
  for (const k of REQUIRED_KEYS) {
    if (a[k] === undefined || a[k] === '') throw new ConfigError(`${prefix}.${k}`, 'is missing');
  }
  const appId = str(`${prefix}.appId`, a.appId, '');
  if (!APP_ID.test(appId)) throw new ConfigError(`${prefix}.appId`, 'must be the app id Alipay assigned (digits)');
  const sellerId = str(`${prefix}.sellerId`, a.sellerId, '');
  if (!SELLER_ID.test(sellerId)) throw new ConfigError(`${prefix}.sellerId`, 'must be the merchant PID: 2088 followed by 12 digits');

  const gatewayUrl = optionalUrl(`${prefix}.gatewayUrl`, a.gatewayUrl, ['https:', 'http:'])!;
  if (hasQueryOrFragment(gatewayUrl)) throw new ConfigError(`${prefix}.gatewayUrl`, 'must not carry a query string');
  const notifyUrl = optionalUrl(`${prefix}.notifyUrl`, a.notifyUrl, ['https:', 'http:'])!;
  if (hasQueryOrFragment(notifyUrl)) throw new ConfigError(`${prefix}.notifyUrl`, 'must not carry a query string');
  const returnUrl = optionalUrl(`${prefix}.returnUrl`, a.returnUrl, ['https:', 'http:']);

  const privateKey = keyPem(`${prefix}.privateKey`, a.privateKey);
  const alipayPublicKey = keyPem(`${prefix}.alipayPublicKey`, a.alipayPublicKey);
  const appKey = readRsaKey(`${prefix}.privateKey`, 'private', () => createPrivateKey(privateKey));
  const alipayKey = readRsaKey(`${prefix}.alipayPublicKey`, 'public', () => createPublicKey(alipayPublicKey));
  // A frequent mistake is pasting the app's own public key where Alipay's belongs: every answer
  // would then fail verification and every payment would sit in "unknown".
  if (createPublicKey(appKey).equals(alipayKey)) {
    throw new ConfigError(`${prefix}.alipayPublicKey`, "is the app's own public key; give Alipay's public key from the Open Platform console");
  }

  const config: AlipayConfig = {
    appId,
    gatewayUrl,
    privateKey,
    alipayPublicKey,
    sellerId,
    notifyUrl,
    requestTimeoutMs: int(`${prefix}.requestTimeoutMs`, a.requestTimeoutMs, 10_000, 100, 60_000),
    expiryGraceMs: int(`${prefix}.expiryGraceMs`, a.expiryGraceMs, 60_000, 0, EXPIRY_GRACE_MS_MAX),
  };
  if (returnUrl !== undefined) config.returnUrl = returnUrl;
  return config;
}

/** Also catches a bare trailing "?", which URL parsing reports as an empty search. */
function hasQueryOrFragment(url: string): boolean {
  return /[?#]/.test(url);
}

/** PEM text or a path to a PEM file; a bare base64 key is refused without printing it. */
function keyPem(key: string, value: unknown): string {
  if (typeof value === 'string' && !value.includes('-----BEGIN') && BARE_BASE64.test(value) && !existsSync(value)) {
    throw new ConfigError(key, 'looks like a bare base64 key: wrap it in PEM (-----BEGIN … KEY-----) or give the path of a PEM file');
  }
  return pem(key, value);
}

/** Fails start-up with the key's name and node's reason only — never the key's content. */
function readRsaKey(key: string, kind: 'private' | 'public', read: () => KeyObject): KeyObject {
  let parsed: KeyObject;
  try {
    parsed = read();
  } catch (err) {
    throw new ConfigError(key, `is not a readable ${kind} key (${(err as Error).message})`);
  }
  // RSA2 is SHA256withRSA: an EC or Ed25519 key would only fail later, at the first call.
  if (parsed.asymmetricKeyType !== 'rsa') {
    throw new ConfigError(key, `must be an RSA key, got ${parsed.asymmetricKeyType ?? 'an unknown type'}`);
  }
  return parsed;
}
