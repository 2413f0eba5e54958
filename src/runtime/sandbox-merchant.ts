// In sandbox mode Paycenter is a merchant of its own simulated WeChat Pay: it makes a merchant
// key pair once, keeps it in the database, and registers it with the sandbox through the
// sandbox's public merchant API, exactly as any other client would.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Pool } from '../store/db.ts';
import { getSetting, putSettingOnce } from '../store/settings.ts';
import { parseWechatpay, type WechatpayConfig } from '../config.ts';

export interface SandboxMerchant {
  mchId: string;
  appId: string;
  privateKey: string;
  publicKey: string;
  certSerialNo: string;
  apiV3Key: string;
}

const SETTING_KEY = 'sandbox.wechatpay.merchant';

/** A new WeChat Pay merchant identity: RSA key pair, mchId, appId, certificate serial, APIv3 key. */
export function generateMerchant(): SandboxMerchant {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    mchId: String(1_900_000_000 + randomBytes(3).readUIntBE(0, 3)),
    appId: `wx${randomBytes(8).toString('hex')}`,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    certSerialNo: randomBytes(20).toString('hex').toUpperCase(),
    // 32 ASCII bytes, as WeChat Pay's APIv3 key is.
    apiV3Key: randomBytes(16).toString('hex'),
  };
}

/**
 * Registers the (stored or new) sandbox merchant with the sandbox mounted on `server` and
 * returns the channel configuration pointing at it. `baseUrl` is how the server is reached.
 */
export async function sandboxWechatpayConfig(pool: Pool, server: FastifyInstance, baseUrl: string): Promise<WechatpayConfig> {
  // A key pair is generated only on the first start; later starts reuse the stored one.
  const merchant =
    (await getSetting<SandboxMerchant>(pool, SETTING_KEY)) ?? (await putSettingOnce(pool, SETTING_KEY, generateMerchant()));
  const res = await server.inject({
    method: 'POST',
    url: '/sandbox/wechatpay/merchants',
    payload: {
      mchId: merchant.mchId,
      appId: merchant.appId,
      merchantPublicKey: merchant.publicKey,
      merchantCertSerialNo: merchant.certSerialNo,
      apiV3Key: merchant.apiV3Key,
    },
  });
  if (res.statusCode !== 200) throw new Error(`sandbox merchant registration failed: ${res.statusCode} ${res.body}`);
  const registered = res.json<{ platformPublicKey: string; platformPublicKeyId: string }>();
  return parseWechatpay({
    mchId: merchant.mchId,
    appId: merchant.appId,
    apiBaseUrl: `${baseUrl}/sandbox/wechatpay`,
    privateKey: merchant.privateKey,
    certSerialNo: merchant.certSerialNo,
    apiV3Key: merchant.apiV3Key,
    platformPublicKey: registered.platformPublicKey,
    platformPublicKeyId: registered.platformPublicKeyId,
    notifyUrl: `${baseUrl}/notify/wechatpay`,
  });
}
