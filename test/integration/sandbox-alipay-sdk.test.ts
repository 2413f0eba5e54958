// The Alipay sandbox driven by Alipay's official Node SDK (alipay-sdk v4): a third party's reading
// of the protocol, which signs requests, verifies every answer's sign (validateSign) and checks
// notifications with its own code. If the sandbox signed the wrong bytes, or with another key,
// these calls would fail.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import {
  AlipayTestClient,
  control,
  newTestApp,
  sandboxPerFile,
  startAlipayReceiver,
  type TestApp,
} from '../helpers/alipay-test-client.ts';

// The SDK writes `timestamp` in the machine's local time and Alipay reads it as Beijing time, so a
// merchant's server runs on Beijing time; this file's test process does too (vitest forks one per file).
process.env.TZ = 'Asia/Shanghai';

const newOutTradeNo = () => 'S' + randomBytes(8).toString('hex');

const server = sandboxPerFile({ timeScale: 0.001, notifyTimeoutMs: 1_000 });
let app: TestApp;
let registered: AlipayTestClient;
let sdk: AlipaySdk;

function sdkFor(appKeys: TestApp, alipayPublicKey: string): AlipaySdk {
  return new AlipaySdk({
    appId: appKeys.appId,
    privateKey: appKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    keyType: 'PKCS8',
    alipayPublicKey,
    gateway: `${server.url}/sandbox/alipay/gateway.do`,
    timeout: 5_000,
  });
}

/** Another RSA key in the place of the sandbox's Alipay key: what a wrongly signing bank would look like. */
const foreignAlipayPublicKey = () => newTestApp().publicKeyPem;

beforeAll(async () => {
  app = newTestApp();
  registered = new AlipayTestClient(server.url, app);
  await registered.register();
  sdk = sdkFor(app, registered.alipayPublicKeyPem!);
});

const precreate = (client: AlipaySdk, outTradeNo: string, notifyUrl?: string) =>
  client.exec(
    'alipay.trade.precreate',
    { ...(notifyUrl ? { notifyUrl } : {}), bizContent: { outTradeNo, totalAmount: '25.00', subject: 'Oolong' } },
    { validateSign: true },
  );
const query = (outTradeNo: string) => sdk.exec('alipay.trade.query', { bizContent: { outTradeNo } }, { validateSign: true });

describe('alipay-sdk against the sandbox', () => {
  it('precreates a QR trade, finds it only once scanned, and closes it — every answer sign verified', async () => {
    const outTradeNo = newOutTradeNo();
    const created = await precreate(sdk, outTradeNo);
    expect(created).toMatchObject({ code: '10000', msg: 'Success', outTradeNo });
    expect(created.qrCode).toMatch(/^https:\/\/qr\.alipay\.com\//);
    expect(await query(outTradeNo)).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_NOT_EXIST' });

    expect((await control(server.url, 'POST', '/sandbox/alipay/scan', { outTradeNo })).status).toBe(200);
    expect(await query(outTradeNo)).toMatchObject({ code: '10000', tradeStatus: 'WAIT_BUYER_PAY', totalAmount: '25.00' });
    const closed = await sdk.exec('alipay.trade.close', { bizContent: { outTradeNo } }, { validateSign: true });
    expect(closed).toMatchObject({ code: '10000', outTradeNo });
    expect(await query(outTradeNo)).toMatchObject({ code: '10000', tradeStatus: 'TRADE_CLOSED' });
  });

  it('rejects every answer when it trusts another Alipay key', async () => {
    const misled = sdkFor(app, foreignAlipayPublicKey());
    await expect(precreate(misled, newOutTradeNo())).rejects.toThrow(/验签失败/);
    await expect(misled.exec('alipay.trade.query', { bizContent: { outTradeNo: newOutTradeNo() } }, { validateSign: true }))
      .rejects.toThrow(/验签失败/);
  });

  it('is refused with a signed isv.invalid-signature when it signs with a key the app did not register', async () => {
    const impostor = sdkFor({ ...app, privateKey: newTestApp().privateKey }, registered.alipayPublicKeyPem!);
    expect(await precreate(impostor, newOutTradeNo())).toMatchObject({ code: '40002', subCode: 'isv.invalid-signature' });
  });

  it('verifies a real payment notification with its notify check, and refuses a forged one', async () => {
    const misled = sdkFor(app, foreignAlipayPublicKey());
    const checks: Array<{ v2: boolean; v1: boolean; forged: boolean; misled: boolean }> = [];
    const receiver = await startAlipayReceiver((params) => {
      const postData = Object.fromEntries(params);
      const forged = { ...postData, total_amount: '0.01' };
      const check = {
        v2: sdk.checkNotifySignV2(postData),
        v1: sdk.checkNotifySign(postData),
        forged: sdk.checkNotifySignV2(forged),
        misled: misled.checkNotifySignV2(postData),
      };
      checks.push(check);
      return check.v2 ? 'success' : 'fail';
    });
    try {
      const outTradeNo = newOutTradeNo();
      expect((await precreate(sdk, outTradeNo, receiver.url)).code).toBe('10000');
      expect((await control(server.url, 'POST', '/sandbox/pay', { outTradeNo })).status).toBe(200);
      await receiver.waitFor(1);
      expect(checks).toEqual([{ v2: true, v1: true, forged: false, misled: false }]);
      await expect.poll(async () => (await control(server.url, 'GET', `/sandbox/ledger?outTradeNo=${outTradeNo}`)).body.trades[0])
        .toMatchObject({ state: 'paid', notificationsAcknowledged: 1, notificationsSent: 1 });
      expect(await query(outTradeNo)).toMatchObject({ tradeStatus: 'TRADE_SUCCESS', buyerPayAmount: '25.00' });
    } finally {
      await receiver.close();
    }
  });

  it('opens the cashier from pageExecute, as a GET link and as the auto-submitting form', async () => {
    const bizContent = (outTradeNo: string) => ({ outTradeNo, totalAmount: '9.90', subject: 'Tea cup', productCode: 'FAST_INSTANT_TRADE_PAY' });
    const byLink = newOutTradeNo();
    const link = sdk.pageExecute('alipay.trade.page.pay', 'GET', { bizContent: bizContent(byLink), returnUrl: 'https://shop.example.com/back' });
    const opened = await fetch(link);
    expect([opened.status, await opened.text()]).toEqual([200, expect.stringContaining('¥9.90')]);
    expect(await query(byLink)).toMatchObject({ tradeStatus: 'WAIT_BUYER_PAY' });

    const byForm = newOutTradeNo();
    const html = sdk.pageExecute('alipay.trade.page.pay', 'POST', { bizContent: bizContent(byForm) });
    const action = /action="([^"]+)"/.exec(html)![1]!;
    const fields = [...html.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replaceAll('&quot;', '"')]);
    const submitted = await fetch(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    expect(submitted.status).toBe(200);
    expect(await query(byForm)).toMatchObject({ tradeStatus: 'WAIT_BUYER_PAY', totalAmount: '9.90' });
  });
});
