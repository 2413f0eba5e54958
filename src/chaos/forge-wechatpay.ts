// Builds WeChat Pay v3 payment notifications the way the bank would, from keys read out of the
// sandbox's tables, so tests and the chaos workload can forge each field that G5 must check.
import { createCipheriv, createSign, randomBytes, type KeyObject } from 'node:crypto';
import type { Queryable } from '../store/db.ts';
import { findPlatformKey } from '../sandbox/wechatpay/store.ts';

export interface ForgeKeys {
  mchId: string;
  appId: string;
  apiV3Key: string;
  platformPrivateKeyPem: string;
  platformKeyId: string;
}

/** The sandbox bank's signing key (its schema in the database the sandbox runs on) and a merchant of it. */
export async function readForgeKeys(q: Queryable, merchant: { mchId: string; appId: string; apiV3Key: string }): Promise<ForgeKeys> {
  const key = await findPlatformKey(q);
  if (!key) throw new Error('the WeChat Pay sandbox has no platform key yet: start it first');
  return { ...merchant, platformPrivateKeyPem: key.privateKeyPem, platformKeyId: key.keyId };
}

export interface ForgeOptions {
  outTradeNo: string;
  amount: number;
  mchId?: string;
  timestampSeconds?: number;
  /** Signs with this key, one the bank does not have, instead of the bank's. */
  wrongSigningKey?: KeyObject;
  id?: string;
}

export function forgeNotification(keys: ForgeKeys, o: ForgeOptions): { headers: Record<string, string>; body: string } {
  const transaction = {
    appid: keys.appId,
    mchid: o.mchId ?? keys.mchId,
    out_trade_no: o.outTradeNo,
    transaction_id: `42000${randomBytes(8).toString('hex')}`,
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    attach: '',
    success_time: '2026-11-25T12:00:00+08:00',
    payer: { openid: 'o-forger' },
    amount: { total: o.amount, payer_total: o.amount, currency: 'CNY', payer_currency: 'CNY' },
  };
  const nonce = randomBytes(6).toString('hex');
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keys.apiV3Key), Buffer.from(nonce));
  cipher.setAAD(Buffer.from('transaction'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(transaction)), cipher.final(), cipher.getAuthTag()]);
  const body = JSON.stringify({
    id: o.id ?? `EV-forged-${randomBytes(6).toString('hex')}`,
    create_time: '2026-11-25T12:00:00+08:00',
    resource_type: 'encrypt-resource',
    event_type: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext: ciphertext.toString('base64'), associated_data: 'transaction', nonce },
  });
  const timestamp = String(o.timestampSeconds ?? Math.floor(Date.now() / 1000));
  const signNonce = randomBytes(16).toString('hex');
  const key: KeyObject | string = o.wrongSigningKey ?? keys.platformPrivateKeyPem;
  const signature = createSign('RSA-SHA256').update(`${timestamp}\n${signNonce}\n${body}\n`).sign(key, 'base64');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'wechatpay-timestamp': timestamp,
      'wechatpay-nonce': signNonce,
      'wechatpay-signature': signature,
      'wechatpay-serial': keys.platformKeyId,
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    },
  };
}
