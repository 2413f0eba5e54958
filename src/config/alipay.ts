// channels.alipay in the config file: an Alipay Open Platform app signing with RSA2 in public-key
// mode (channels.md §2). Keys are read once here so a bad one stops start-up, never a payment.
import { createPublicKey } from 'node:crypto';
import { ConfigError, int, optionalUrl, pem, readRsaKey, requireKeys, sectionAt, str, urlWithoutQuery } from './read.ts';

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
const EXPIRY_GRACE_MS_MAX = 24 * 60 * 60 * 1000;

export function parseAlipay(value: unknown): AlipayConfig {
  const prefix = 'channels.alipay';
  const a = requireKeys(prefix, sectionAt(prefix, value), REQUIRED_KEYS);
  const appId = str(`${prefix}.appId`, a.appId, '');
  if (!APP_ID.test(appId)) throw new ConfigError(`${prefix}.appId`, 'must be the app id Alipay assigned (digits)');
  const sellerId = str(`${prefix}.sellerId`, a.sellerId, '');
  if (!SELLER_ID.test(sellerId)) throw new ConfigError(`${prefix}.sellerId`, 'must be the merchant PID: 2088 followed by 12 digits');

  const gatewayUrl = urlWithoutQuery(`${prefix}.gatewayUrl`, a.gatewayUrl);
  const notifyUrl = urlWithoutQuery(`${prefix}.notifyUrl`, a.notifyUrl);
  const returnUrl = optionalUrl(`${prefix}.returnUrl`, a.returnUrl, ['https:', 'http:']);

  const privateKey = pem(`${prefix}.privateKey`, a.privateKey);
  const alipayPublicKey = pem(`${prefix}.alipayPublicKey`, a.alipayPublicKey);
  const appKey = readRsaKey(`${prefix}.privateKey`, 'private', privateKey);
  const alipayKey = readRsaKey(`${prefix}.alipayPublicKey`, 'public', alipayPublicKey);
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
