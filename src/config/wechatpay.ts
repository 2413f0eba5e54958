// channels.wechatpay in the config file: a WeChat Pay v3 direct merchant (Native payments).
import { ConfigError, int, optionalUrl, pem, readKeyObject, requireKeys, sectionAt, str, urlWithoutQuery } from './read.ts';

export interface WechatpayConfig {
  mchId: string;
  appId: string;
  apiBaseUrl: string;
  /** PEM text of the merchant API private key. */
  privateKey: string;
  certSerialNo: string;
  apiV3Key: string;
  /** PEM text of the WeChat Pay public key ("WeChat Pay public key" verification mode). */
  platformPublicKey: string;
  platformPublicKeyId: string;
  notifyUrl: string;
  /** Per-call timeout; a slower answer is "unknown" and gets queried. */
  requestTimeoutMs: number;
}

const WECHATPAY_KEYS = [
  'mchId',
  'appId',
  'apiBaseUrl',
  'privateKey',
  'certSerialNo',
  'apiV3Key',
  'platformPublicKey',
  'platformPublicKeyId',
  'notifyUrl',
] as const;

export function parseWechatpay(value: unknown): WechatpayConfig {
  const prefix = 'channels.wechatpay';
  const w = requireKeys(prefix, sectionAt(prefix, value), WECHATPAY_KEYS);
  const privateKey = pem(`${prefix}.privateKey`, w.privateKey);
  const platformPublicKey = pem(`${prefix}.platformPublicKey`, w.platformPublicKey);
  readKeyObject(`${prefix}.privateKey`, 'private', privateKey);
  readKeyObject(`${prefix}.platformPublicKey`, 'public', platformPublicKey);
  const apiV3Key = str(`${prefix}.apiV3Key`, w.apiV3Key, '');
  if (Buffer.byteLength(apiV3Key) !== 32) throw new ConfigError(`${prefix}.apiV3Key`, 'must be exactly 32 bytes');
  const apiBaseUrl = optionalUrl(`${prefix}.apiBaseUrl`, w.apiBaseUrl, ['https:', 'http:'])!;
  const notifyUrl = urlWithoutQuery(`${prefix}.notifyUrl`, w.notifyUrl);
  return {
    mchId: str(`${prefix}.mchId`, w.mchId, ''),
    appId: str(`${prefix}.appId`, w.appId, ''),
    apiBaseUrl: apiBaseUrl.replace(/\/+$/, ''),
    privateKey,
    certSerialNo: str(`${prefix}.certSerialNo`, w.certSerialNo, ''),
    apiV3Key,
    platformPublicKey,
    platformPublicKeyId: str(`${prefix}.platformPublicKeyId`, w.platformPublicKeyId, ''),
    notifyUrl,
    requestTimeoutMs: int(`${prefix}.requestTimeoutMs`, w.requestTimeoutMs, 10_000, 100, 60_000),
  };
}
