// Keys for the channel adapter unit tests, and the WeChat Pay and Alipay configs that carry them:
// each test file makes its own pairs (merchant, channel, impostor) and hands them out as PEM, as a
// config does.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { WechatpayConfig } from '../../src/config.ts';
import type { AlipayConfig } from '../../src/config/alipay.ts';

export type RsaKeyPair = { privateKey: KeyObject; publicKey: KeyObject };

export function rsaKeyPair(): RsaKeyPair {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

export function pemOf(key: KeyObject, type: 'pkcs1' | 'pkcs8' | 'spki'): string {
  return key.export({ format: 'pem', type }).toString();
}

export const WECHATPAY_API_V3_KEY = 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb';
export const WECHATPAY_PUBLIC_KEY_ID = 'PUB_KEY_ID_0112300001092024050100000001';

/** A WeChat Pay merchant signing with `merchant`, trusting `platform` as WeChat's key. */
export function wechatpayTestConfig(
  keys: { merchant: RsaKeyPair; platform: RsaKeyPair },
  apiBaseUrl: string,
  requestTimeoutMs: number,
): WechatpayConfig {
  return {
    mchId: '1230000109',
    appId: 'wxd678efh567hg6787',
    apiBaseUrl,
    privateKey: pemOf(keys.merchant.privateKey, 'pkcs8'),
    certSerialNo: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C',
    apiV3Key: WECHATPAY_API_V3_KEY,
    platformPublicKey: pemOf(keys.platform.publicKey, 'spki'),
    platformPublicKeyId: WECHATPAY_PUBLIC_KEY_ID,
    notifyUrl: 'https://pay.example.com/notify/wechatpay',
    requestTimeoutMs,
  };
}

export const ALIPAY_APP_ID = '2021000000000001';
export const ALIPAY_SELLER_ID = '2088000000000001';

/** An Alipay app signing with `app`, trusting `alipay` as Alipay's key. */
export function alipayTestConfig(
  keys: { app: RsaKeyPair; alipay: RsaKeyPair },
  gatewayUrl: string,
  opts: { requestTimeoutMs: number; expiryGraceMs: number; privateKeyType: 'pkcs1' | 'pkcs8' },
): AlipayConfig {
  return {
    appId: ALIPAY_APP_ID,
    gatewayUrl,
    privateKey: pemOf(keys.app.privateKey, opts.privateKeyType),
    alipayPublicKey: pemOf(keys.alipay.publicKey, 'spki'),
    sellerId: ALIPAY_SELLER_ID,
    notifyUrl: 'https://pay.example.com/notify/alipay',
    requestTimeoutMs: opts.requestTimeoutMs,
    expiryGraceMs: opts.expiryGraceMs,
  };
}
