// channels.wechatpay in the config file: a WeChat Pay v3 direct merchant (Native payments).
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { ConfigError, int, optionalUrl, pem, str, type Source } from './read.ts';

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
  if (typeof value !== 'object' || value === null) throw new ConfigError(prefix, 'must be an object');
  const w = value as Source;
  for (const k of WECHATPAY_KEYS) {
    if (w[k] === undefined || w[k] === '') throw new ConfigError(`${prefix}.${k}`, 'is missing');
  }
  const privateKey = pem(`${prefix}.privateKey`, w.privateKey);
  const platformPublicKey = pem(`${prefix}.platformPublicKey`, w.platformPublicKey);
  try {
    createPrivateKey(privateKey);
  } catch (err) {
    throw new ConfigError(`${prefix}.privateKey`, `is not a readable private key (${(err as Error).message})`);
  }
  try {
    createPublicKey(platformPublicKey);
  } catch (err) {
    throw new ConfigError(`${prefix}.platformPublicKey`, `is not a readable public key (${(err as Error).message})`);
  }
  const apiV3Key = str(`${prefix}.apiV3Key`, w.apiV3Key, '');
  if (Buffer.byteLength(apiV3Key) !== 32) throw new ConfigError(`${prefix}.apiV3Key`, 'must be exactly 32 bytes');
  const apiBaseUrl = optionalUrl(`${prefix}.apiBaseUrl`, w.apiBaseUrl, ['https:', 'http:'])!;
  const notifyUrl = optionalUrl(`${prefix}.notifyUrl`, w.notifyUrl, ['https:', 'http:'])!;
  if (new URL(notifyUrl).search !== '') throw new ConfigError(`${prefix}.notifyUrl`, 'must not carry a query string');
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
