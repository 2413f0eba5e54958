// `paycenter sandbox --port N` runs the bank on its own; Paycenter's WeChat Pay adapter, configured
// like a real merchant, creates, queries and closes trades there — two independent readings of
// the protocol talking to each other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, spawnPaycenter, type PaycenterProcess } from '../helpers/process.ts';
import { newTestMerchant } from '../helpers/wechatpay-test-client.ts';
import { createWechatpayChannel } from '../../src/channels/wechatpay/index.ts';
import { parseWechatpay } from '../../src/config.ts';
import type { Channel } from '../../src/channels/types.ts';

let db: TestDatabase;
let bank: PaycenterProcess;
let channel: Channel;
beforeAll(async () => {
  db = await createTestDatabase();
  const port = await freePort();
  bank = await spawnPaycenter({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' }, port, 60_000, ['sandbox', '--port', String(port)], {
    path: '/sandbox/faults',
    text: 'Sandbox at',
  });
  const merchant = newTestMerchant();
  const apiV3Key = 'abcdefghijklmnopqrstuvwxyz012345';
  const registered = await fetch(`${bank.baseUrl}/sandbox/wechatpay/merchants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      mchId: merchant.mchId,
      appId: merchant.appId,
      merchantPublicKey: merchant.publicKeyPem,
      merchantCertSerialNo: merchant.serialNo,
      apiV3Key,
    }),
  });
  expect(registered.status).toBe(200);
  const platform = await registered.json();
  channel = createWechatpayChannel(
    parseWechatpay({
      mchId: merchant.mchId,
      appId: merchant.appId,
      apiBaseUrl: `${bank.baseUrl}/sandbox/wechatpay`,
      privateKey: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      certSerialNo: merchant.serialNo,
      apiV3Key,
      platformPublicKey: platform.platformPublicKey,
      platformPublicKeyId: platform.platformPublicKeyId,
      notifyUrl: 'http://127.0.0.1:9/notify/wechatpay',
    }),
  );
});
afterAll(async () => {
  bank?.child.kill('SIGTERM');
  await bank?.exited;
  await db?.drop();
});

describe('standalone WeChat Pay sandbox with the WeChat Pay adapter', () => {
  const trade = (outTradeNo: string) => ({
    outTradeNo,
    amountMinor: 2500,
    currency: 'CNY' as const,
    description: 'Oolong',
    expiresAt: new Date(Date.now() + 600_000),
    createdAt: new Date(),
    method: 'native',
  });
  const ref = (outTradeNo: string) => ({ outTradeNo, createdAt: new Date(), expiresAt: new Date(Date.now() + 600_000) });

  it('creates, finds not paid, sees the buyer pay, and cannot close a paid trade', async () => {
    const no = `pcstandalone${Date.now()}`;
    const created = await channel.createPayment(trade(no));
    expect(created.kind).toBe('created');
    expect(await channel.queryPayment(ref(no))).toEqual({ kind: 'not_paid' });
    const paid = await fetch(`${bank.baseUrl}/sandbox/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outTradeNo: no }),
    });
    expect(paid.status).toBe(200);
    const status = await channel.queryPayment(ref(no));
    expect(status).toMatchObject({ kind: 'paid', amountMinor: 2500, currency: 'CNY' });
    expect(await channel.closePayment(ref(no))).toEqual({ kind: 'paid' });
  });

  it('closes an unpaid trade, and knows an unknown one is not found', async () => {
    const no = `pcstandaloneclose${Date.now()}`;
    expect((await channel.createPayment(trade(no))).kind).toBe('created');
    expect(await channel.closePayment(ref(no))).toEqual({ kind: 'closed' });
    expect(await channel.queryPayment(ref(no))).toEqual({ kind: 'closed' });
    expect(await channel.queryPayment(ref('pcneverexisted000000000000000000'))).toEqual({ kind: 'not_found' });
  });

  it('answers a retried create with identical parameters with the same QR code', async () => {
    const no = `pcstandaloneretry${Date.now()}`;
    const input = trade(no);
    const first = await channel.createPayment(input);
    const second = await channel.createPayment(input);
    expect(second).toEqual(first);
  });
});
