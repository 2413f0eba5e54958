// Builds Alipay trade notifications the way the bank would (channels.md §2.4: form fields, RSA2
// over the sorted fields without sign and sign_type), from the sandbox bank's key read out of its
// tables, so tests and the chaos workload can forge each field that G5 must check.
import { createSign, randomBytes, type KeyObject } from 'node:crypto';
import type { Queryable } from '../store/db.ts';
import { findAlipayKey } from '../sandbox/alipay/store.ts';
import { signContent } from '../sandbox/alipay/signing.ts';
import { formatBeijingDashed } from '../channels/beijing-time.ts';
import { fenToYuan } from '../channels/yuan.ts';

export interface AlipayForgeKeys {
  appId: string;
  sellerId: string;
  alipayPrivateKeyPem: string;
}

export async function readAlipayForgeKeys(q: Queryable, merchant: { appId: string; sellerId: string }): Promise<AlipayForgeKeys> {
  const key = await findAlipayKey(q);
  if (!key) throw new Error('the Alipay sandbox has no bank key yet: start it first');
  return { ...merchant, alipayPrivateKeyPem: key.privateKeyPem };
}

export interface AlipayForgeOptions {
  outTradeNo: string;
  amount: number;
  appId?: string;
  sellerId?: string;
  /** Signs with this key, one the bank does not have, instead of the bank's. */
  wrongSigningKey?: KeyObject;
}

export function forgeAlipayNotification(keys: AlipayForgeKeys, o: AlipayForgeOptions): { headers: Record<string, string>; body: string } {
  const now = formatBeijingDashed(new Date());
  const yuan = fenToYuan(o.amount);
  const fields: Record<string, string> = {
    notify_time: now,
    notify_type: 'trade_status_sync',
    notify_id: `forged${randomBytes(12).toString('hex')}`,
    app_id: o.appId ?? keys.appId,
    charset: 'utf-8',
    version: '1.0',
    sign_type: 'RSA2',
    trade_no: `2026${randomBytes(10).toString('hex')}`,
    out_trade_no: o.outTradeNo,
    buyer_id: '2088000000000001',
    seller_id: o.sellerId ?? keys.sellerId,
    trade_status: 'TRADE_SUCCESS',
    total_amount: yuan,
    receipt_amount: yuan,
    buyer_pay_amount: yuan,
    gmt_create: now,
    gmt_payment: now,
  };
  // The bank's own string to sign; signed here synchronously, with its key or a stranger's.
  const content = signContent(fields, ['sign', 'sign_type']);
  const sign = createSign('RSA-SHA256').update(content, 'utf8').sign(o.wrongSigningKey ?? keys.alipayPrivateKeyPem, 'base64');
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({ ...fields, sign }).toString(),
  };
}
