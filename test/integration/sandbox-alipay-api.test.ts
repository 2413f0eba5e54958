// The Alipay sandbox driven by an independent test app (test/helpers/alipay-test-client.ts):
// registration, signatures both ways, the precreate / scan / pay / query / close lifecycle,
// expiry, the cashier page, the API faults, and notifications until `success`.
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  AlipayTestClient,
  beijingTime,
  control,
  eventually,
  formOf,
  newTestApp,
  sandboxPerFile,
  serveSandbox,
  startAlipayReceiver,
  stringToSign,
  rsa2Verify,
} from '../helpers/alipay-test-client.ts';

const PRECREATE = 'alipay.trade.precreate';
const QUERY = 'alipay.trade.query';
const CLOSE = 'alipay.trade.close';
const NOTIFY_URL = 'http://127.0.0.1:9/notify/alipay'; // nothing listens: notifications are not under test there
/** 4 min × 0.001 = 240 ms before the first retry, then 600 ms: measurable, and short to wait for. */
const TIME_SCALE = 0.001;
const FIRST_RETRY_DELAY_MS = 240_000 * TIME_SCALE;
const SECOND_RETRY_DELAY_MS = 600_000 * TIME_SCALE;
const SLOW_TEST_TIMEOUT_MS = 30_000;

const newOutTradeNo = () => 'A' + randomBytes(8).toString('hex');
const order = (outTradeNo: string, extra: Record<string, unknown> = {}) => ({
  out_trade_no: outTradeNo,
  total_amount: '88.88',
  subject: 'Sandbox tea',
  ...extra,
});

const server = sandboxPerFile({ timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 });
let client: AlipayTestClient;

beforeAll(async () => {
  client = await AlipayTestClient.registered(server.url);
});

const precreate = (outTradeNo: string, extra: Record<string, unknown> = {}, notifyUrl = NOTIFY_URL) =>
  client.call(PRECREATE, order(outTradeNo, extra), { notifyUrl });
const query = (ref: Record<string, string>) => client.call(QUERY, ref);
const close = (ref: Record<string, string>) => client.call(CLOSE, ref);
const scan = (outTradeNo: string) => control(server.url, 'POST', '/sandbox/alipay/scan', { outTradeNo });
const pay = (outTradeNo: string) => control(server.url, 'POST', '/sandbox/pay', { outTradeNo });
const ledgerOf = async (outTradeNo: string) => (await control(server.url, 'GET', `/sandbox/ledger?outTradeNo=${outTradeNo}`)).body.trades;
const subCodeOf = (answer: { response: { code: string; sub_code?: string } }) => [answer.response.code, answer.response.sub_code];

async function withFaults<T>(faults: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
  expect((await control(server.url, 'PUT', '/sandbox/faults', faults)).status).toBe(200);
  try {
    return await work();
  } finally {
    await control(server.url, 'DELETE', '/sandbox/faults');
  }
}

describe('app registration', () => {
  it('assigns a seller id kept across re-registration, and lists apps with public keys only', async () => {
    expect(client.sellerId).toMatch(/^2088\d{12}$/);
    expect(client.alipayPublicKeyPem).toContain('BEGIN PUBLIC KEY');
    const again = new AlipayTestClient(server.url, client.app);
    await again.register();
    expect(again.sellerId).toBe(client.sellerId);

    const list = await control(server.url, 'GET', '/sandbox/alipay/merchants');
    expect(list.status).toBe(200);
    expect(list.body.alipayPublicKey).toBe(client.alipayPublicKeyPem);
    expect(list.body.merchants.find((m: { appId: string }) => m.appId === client.app.appId)).toMatchObject({
      sellerId: client.sellerId,
      appPublicKey: client.app.publicKeyPem,
    });
    expect(JSON.stringify(list.body)).not.toContain('PRIVATE KEY');
  });

  it('takes a given seller id, and a new key replaces the old one', async () => {
    const app = newTestApp();
    const first = new AlipayTestClient(server.url, app);
    await first.register({ sellerId: '2088000000000042' });
    expect(first.sellerId).toBe('2088000000000042');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rotated = new AlipayTestClient(server.url, { ...app, privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    await rotated.register();
    expect(rotated.sellerId).toBe('2088000000000042');
    expect((await rotated.call(PRECREATE, order(newOutTradeNo()))).response.code).toBe('10000');
    expect(subCodeOf(await first.call(PRECREATE, order(newOutTradeNo())))).toEqual(['40002', 'isv.invalid-signature']);
  });

  it('keeps the Alipay key across restarts', async () => {
    const again = await serveSandbox(server.pool, { timeScale: TIME_SCALE });
    try {
      expect((await control(again.url, 'GET', '/sandbox/alipay/merchants')).body.alipayPublicKey).toBe(client.alipayPublicKeyPem);
    } finally {
      await again.close();
    }
  });

  it.each([
    ['a body that is not an object', []],
    ['a missing appId', { appPublicKey: 'x' }],
    ['an appId with a dash', { appId: 'app-1' }],
    ['a sellerId not 2088 + 12 digits', { sellerId: '2088123' }],
    ['an unreadable key', { appPublicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }],
    ['a 1024-bit key', { appPublicKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) }],
    ['an unknown field', { extra: 1 }],
  ])('rejects %s with 400', async (_name, change) => {
    const body = Array.isArray(change) ? change : { appId: newTestApp().appId, appPublicKey: client.app.publicKeyPem, ...change };
    const res = await control(server.url, 'POST', '/sandbox/alipay/merchants', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });
});

describe('signatures', () => {
  it('signs every answer over the raw response node with the Alipay key, errors included', async () => {
    const ok = await precreate(newOutTradeNo());
    expect(ok.status).toBe(200);
    expect(ok.responseKey).toBe('alipay_trade_precreate_response');
    expect(ok.signatureValid).toBe(true);
    const notFound = await query({ out_trade_no: newOutTradeNo() });
    expect([notFound.signatureValid, ...subCodeOf(notFound)]).toEqual([true, '40004', 'ACQ.TRADE_NOT_EXIST']);
    // The node verified is the raw substring: changing one byte of it breaks the signature.
    const raw = ok.raw.replace('"Success"', '"Succe$s"');
    expect(client.readAnswer(200, raw, PRECREATE).signatureValid).toBe(false);
  });

  it('accepts the parameters from the query, the body, or both', async () => {
    for (const placement of ['sdk', 'body', 'query'] as const) {
      const res = await client.call(PRECREATE, order(newOutTradeNo()), { placement });
      expect([placement, res.response.code]).toEqual([placement, '10000']);
    }
  });

  it('rejects a request changed after signing with isv.invalid-signature, and echoes the string it verified', async () => {
    const res = await client.call(PRECREATE, order(newOutTradeNo()), {
      afterSigning: (p) => {
        p.biz_content = p.biz_content!.replace('88.88', '0.01');
      },
    });
    expect([res.signatureValid, ...subCodeOf(res)]).toEqual([true, '40002', 'isv.invalid-signature']);
    expect(res.response.sub_msg).toContain('"total_amount":"0.01"');
    expect(res.response.sub_msg).toContain('sign_type=RSA2');
  });

  it('rejects a request signed with another key, and an unknown app_id', async () => {
    const stranger = new AlipayTestClient(server.url, { ...client.app, privateKey: newTestApp().privateKey });
    stranger.alipayPublicKey = client.alipayPublicKey;
    expect(subCodeOf(await stranger.call(PRECREATE, order(newOutTradeNo())))).toEqual(['40002', 'isv.invalid-signature']);
    const unknown = new AlipayTestClient(server.url, newTestApp());
    unknown.alipayPublicKey = client.alipayPublicKey;
    const res = await unknown.call(PRECREATE, order(newOutTradeNo()));
    expect([res.signatureValid, ...subCodeOf(res)]).toEqual([true, '40002', 'isv.invalid-app-id']);
  });

  it.each([
    ['a timestamp 20 minutes old', { timestamp: beijingTime(new Date(Date.now() - 20 * 60_000)) }, '40002', 'isv.invalid-timestamp'],
    ['a UTC timestamp', { timestamp: new Date().toISOString().slice(0, 19).replace('T', ' ') }, '40002', 'isv.invalid-timestamp'],
    ['an ISO timestamp', { timestamp: new Date().toISOString() }, '40002', 'isv.invalid-timestamp'],
    ['charset GBK', { params: { charset: 'GBK' } }, '40002', 'isv.invalid-charset'],
    ['format XML', { params: { format: 'XML' } }, '40002', 'isv.invalid-format'],
    ['sign_type RSA', { params: { sign_type: 'RSA' } }, '40002', 'isv.invalid-signature-type'],
    ['version 2.0', { params: { version: '2.0' } }, '40002', 'isv.invalid-version'],
    ['no timestamp', { params: { timestamp: undefined } }, '40001', 'isv.missing-timestamp'],
    ['no sign_type', { params: { sign_type: undefined } }, '40001', 'isv.missing-signature-type'],
    ['no app_id', { params: { app_id: undefined } }, '40001', 'isv.missing-app-id'],
    ['a notify_url that is not a URL', { notifyUrl: 'notify-me' }, '40002', 'isv.invalid-parameter'],
  ])('rejects %s', async (_name, options, code, subCode) => {
    const res = await client.call(PRECREATE, order(newOutTradeNo()), options);
    expect([res.status, res.signatureValid, ...subCodeOf(res)]).toEqual([200, true, code, subCode]);
  });

  it('rejects a missing sign, and a parameter sent twice', async () => {
    const unsigned = await client.call(PRECREATE, order(newOutTradeNo()), { afterSigning: (p) => delete p.sign });
    expect(subCodeOf(unsigned)).toEqual(['40001', 'isv.missing-signature']);
    const url = new URL(server.url + '/sandbox/alipay/gateway.do');
    const params = client.signedParams(PRECREATE, order(newOutTradeNo()));
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ biz_content: params.biz_content! }).toString(),
    });
    expect(subCodeOf(client.readAnswer(res.status, await res.text(), PRECREATE))).toEqual(['40002', 'isv.invalid-parameter']);
  });

  it('answers a missing or unknown method with a signed error_response', async () => {
    const missing = await client.call(PRECREATE, order(newOutTradeNo()), { params: { method: undefined } });
    expect([missing.responseKey, missing.signatureValid, ...subCodeOf(missing)]).toEqual(['error_response', true, '40001', 'isv.missing-method']);
    const unknown = await client.call('alipay.trade.pay', order(newOutTradeNo()));
    expect([unknown.responseKey, ...subCodeOf(unknown)]).toEqual(['error_response', '40002', 'isv.invalid-method']);
  });
});

describe('precreate, scan, pay, query, close', () => {
  it('issues a QR code but no trade until the QR is scanned', async () => {
    const outTradeNo = newOutTradeNo();
    const created = await precreate(outTradeNo);
    expect(created.response).toMatchObject({ code: '10000', msg: 'Success', out_trade_no: outTradeNo });
    expect(created.response.qr_code).toMatch(/^https:\/\/qr\.alipay\.com\/\w+$/);
    expect(subCodeOf(await query({ out_trade_no: outTradeNo }))).toEqual(['40004', 'ACQ.TRADE_NOT_EXIST']);
    expect(subCodeOf(await close({ out_trade_no: outTradeNo }))).toEqual(['40004', 'ACQ.TRADE_NOT_EXIST']);
    expect(await ledgerOf(outTradeNo)).toEqual([]);

    const scanned = await scan(outTradeNo);
    expect(scanned.status).toBe(200);
    expect(scanned.body).toMatchObject({ channel: 'alipay', mchId: client.app.appId, state: 'not_paid', channelState: 'WAIT_BUYER_PAY', amount: 8888 });
    const found = await query({ out_trade_no: outTradeNo });
    expect(found.response).toMatchObject({
      code: '10000',
      out_trade_no: outTradeNo,
      trade_no: scanned.body.transactionId,
      trade_status: 'WAIT_BUYER_PAY',
      total_amount: '88.88',
      receipt_amount: '0.00',
      buyer_pay_amount: '0.00',
    });
    expect(found.response.buyer_user_id).toMatch(/^2088\d{12}$/);
    expect((await scan(outTradeNo)).body.transactionId).toBe(scanned.body.transactionId);
  });

  it('answers the same out_trade_no with identical parameters with the same QR code, with others with ACQ.CONTEXT_INCONSISTENT', async () => {
    const outTradeNo = newOutTradeNo();
    const first = await precreate(outTradeNo, { timeout_express: '90m' });
    const reordered = JSON.stringify({ timeout_express: '90m', subject: 'Sandbox tea', total_amount: '88.88', out_trade_no: outTradeNo });
    const again = await client.call(PRECREATE, reordered, { notifyUrl: NOTIFY_URL });
    expect(again.response.qr_code).toBe(first.response.qr_code);
    expect(subCodeOf(await precreate(outTradeNo, { total_amount: '88.89', timeout_express: '90m' }))).toEqual(['40004', 'ACQ.CONTEXT_INCONSISTENT']);
    expect(subCodeOf(await precreate(outTradeNo, { timeout_express: '90m' }, 'http://127.0.0.1:9/other'))).toEqual(['40004', 'ACQ.CONTEXT_INCONSISTENT']);
  });

  it('pays an unscanned QR at once (scan and pay), and then refuses to close or precreate it again', async () => {
    const outTradeNo = newOutTradeNo();
    await precreate(outTradeNo);
    const paid = await pay(outTradeNo);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ channel: 'alipay', state: 'paid', channelState: 'TRADE_SUCCESS', amount: 8888, currency: 'CNY' });
    expect(paid.body.transactionId).toMatch(/^\d{28}$/);
    const byTradeNo = await query({ trade_no: paid.body.transactionId, out_trade_no: 'ignored_when_trade_no_is_given' });
    expect(byTradeNo.response).toMatchObject({
      trade_status: 'TRADE_SUCCESS',
      out_trade_no: outTradeNo,
      total_amount: '88.88',
      receipt_amount: '88.88',
      buyer_pay_amount: '88.88',
      invoice_amount: '88.88',
      point_amount: '0.00',
      fund_bill_list: [{ amount: '88.88', fund_channel: 'ALIPAYACCOUNT' }],
    });
    expect(byTradeNo.response.send_pay_date).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(subCodeOf(await close({ out_trade_no: outTradeNo }))).toEqual(['40004', 'ACQ.TRADE_HAS_SUCCESS']);
    expect(subCodeOf(await precreate(outTradeNo))).toEqual(['40004', 'ACQ.TRADE_HAS_SUCCESS']);
    expect([(await pay(outTradeNo)).body.error.code, (await scan(outTradeNo)).body.error.code]).toEqual(['trade_paid', 'trade_paid']);
  });

  it('closes a scanned, unpaid trade once; the closed trade cannot be paid or ordered again', async () => {
    const outTradeNo = newOutTradeNo();
    await precreate(outTradeNo);
    const { body: scanned } = await scan(outTradeNo);
    const closed = await close({ out_trade_no: outTradeNo });
    expect(closed.response).toMatchObject({ code: '10000', out_trade_no: outTradeNo, trade_no: scanned.transactionId });
    expect((await query({ out_trade_no: outTradeNo })).response.trade_status).toBe('TRADE_CLOSED');
    expect(subCodeOf(await close({ out_trade_no: outTradeNo }))).toEqual(['40004', 'ACQ.TRADE_STATUS_ERROR']);
    expect(subCodeOf(await precreate(outTradeNo))).toEqual(['40004', 'ACQ.TRADE_HAS_CLOSE']);
    const refused = await pay(outTradeNo);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'trade_closed']);
    expect((await ledgerOf(outTradeNo))[0]).toMatchObject({ state: 'closed', channelState: 'TRADE_CLOSED' });
  });

  it('holds every trade in the sandbox_alipay.ledger view, in the channel-neutral words', async () => {
    const [unscanned, open, paid] = [newOutTradeNo(), newOutTradeNo(), newOutTradeNo()];
    for (const no of [unscanned, open, paid]) await precreate(no, { total_amount: '12.30' });
    await scan(open);
    const { body } = await pay(paid);
    const { rows } = await server.pool.query(
      `SELECT * FROM sandbox_alipay.ledger WHERE out_trade_no = ANY($1) ORDER BY state`,
      [[unscanned, open, paid]],
    );
    expect(rows).toEqual([
      expect.objectContaining({ state: 'not_paid', out_trade_no: open }),
      { channel: 'alipay', mch_id: client.app.appId, out_trade_no: paid, transaction_id: body.transactionId, state: 'paid', amount: 1230, currency: 'CNY' },
    ]);
  });

  it.each([
    ['three decimals', { total_amount: '1.001' }],
    ['a number', { total_amount: 88.88 }],
    ['zero', { total_amount: '0.00' }],
    ['a negative amount', { total_amount: '-1.00' }],
    ['a leading zero', { total_amount: '01.00' }],
    ['more than the ledger holds', { total_amount: '21474836.48' }],
    ['no subject', { subject: undefined }],
    ['an out_trade_no with a dash', { out_trade_no: 'A-1' }],
    ['timeout_express in seconds', { timeout_express: '90s' }],
    ['timeout_express over 15 days', { timeout_express: '16d' }],
    ['timeout_express with decimals', { timeout_express: '1.5h' }],
    ['a malformed time_expire', { time_expire: '2030-01-01T00:00:00+08:00' }],
    ['a time_expire in the past', { time_expire: beijingTime(new Date(Date.now() - 60_000)) }],
  ])('rejects %s with ACQ.INVALID_PARAMETER', async (_name, change) => {
    const res = await client.call(PRECREATE, order(newOutTradeNo(), change), { notifyUrl: NOTIFY_URL });
    expect([res.signatureValid, ...subCodeOf(res)]).toEqual([true, '40004', 'ACQ.INVALID_PARAMETER']);
  });

  it('accepts whole yuan and one decimal, and answers amounts with two', async () => {
    for (const [amount, fen] of [['1', 100], ['0.5', 50], ['21474836.47', 2_147_483_647]] as const) {
      const outTradeNo = newOutTradeNo();
      expect((await precreate(outTradeNo, { total_amount: amount })).response.code).toBe('10000');
      expect((await scan(outTradeNo)).body.amount).toBe(fen);
    }
  });
});

describe('expiry', () => {
  it('closes a scanned trade at its time_expire: no payment after it, query says TRADE_CLOSED', async () => {
    const outTradeNo = newOutTradeNo();
    const expiresAt = new Date(Math.ceil((Date.now() + 1_500) / 1000) * 1000);
    expect((await precreate(outTradeNo, { time_expire: beijingTime(expiresAt) })).response.code).toBe('10000');
    expect((await scan(outTradeNo)).body.timeExpire).toBe(expiresAt.toISOString());
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() - Date.now()) + 50));
    expect((await query({ out_trade_no: outTradeNo })).response.trade_status).toBe('TRADE_CLOSED');
    const refused = await pay(outTradeNo);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'trade_expired']);
    expect(subCodeOf(await close({ out_trade_no: outTradeNo }))).toEqual(['40004', 'ACQ.TRADE_STATUS_ERROR']);
    expect((await ledgerOf(outTradeNo))[0]).toMatchObject({ state: 'closed', channelState: 'TRADE_CLOSED', closedAt: expiresAt.toISOString() });
    const { rows } = await server.pool.query(`SELECT state FROM sandbox_alipay.ledger WHERE out_trade_no = $1`, [outTradeNo]);
    expect(rows).toEqual([{ state: 'closed' }]);
  });

  it('lets nobody scan a QR code past its expiry; it never becomes a trade', async () => {
    const outTradeNo = newOutTradeNo();
    const expiresAt = new Date(Math.ceil((Date.now() + 1_500) / 1000) * 1000);
    await precreate(outTradeNo, { time_expire: beijingTime(expiresAt) });
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() - Date.now()) + 50));
    const refused = await scan(outTradeNo);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'trade_expired']);
    expect(subCodeOf(await query({ out_trade_no: outTradeNo }))).toEqual(['40004', 'ACQ.TRADE_NOT_EXIST']);
    expect(subCodeOf(await precreate(outTradeNo, { time_expire: beijingTime(expiresAt) }))).toEqual(['40004', 'ACQ.TRADE_HAS_CLOSE']);
  });

  it('takes timeout_express relative to the request, and 2 hours by default', async () => {
    for (const [extra, expectedMs] of [[{ timeout_express: '90m' }, 90 * 60_000], [{}, 2 * 3_600_000]] as const) {
      const outTradeNo = newOutTradeNo();
      const before = Date.now();
      await precreate(outTradeNo, extra);
      const expiresMs = Date.parse((await scan(outTradeNo)).body.timeExpire);
      expect(expiresMs - before).toBeGreaterThanOrEqual(expectedMs - 1_000);
      expect(expiresMs - before).toBeLessThanOrEqual(expectedMs + 1_000);
    }
  });
});

describe('API faults', () => {
  it('queryErrorRate answers a signed 20000 ACQ.SYSTEM_ERROR', async () => {
    const outTradeNo = newOutTradeNo();
    await precreate(outTradeNo);
    const res = await withFaults({ queryErrorRate: 1 }, () => query({ out_trade_no: outTradeNo }));
    expect([res.signatureValid, ...subCodeOf(res)]).toEqual([true, '20000', 'ACQ.SYSTEM_ERROR']);
  });

  it('queryTimeoutRate destroys the socket without an answer', async () => {
    await withFaults({ queryTimeoutRate: 1 }, async () => {
      await expect(query({ out_trade_no: newOutTradeNo() })).rejects.toThrow();
    });
  });

  it('createTimeoutRate records the QR code, then destroys the socket', async () => {
    const outTradeNo = newOutTradeNo();
    await withFaults({ createTimeoutRate: 1 }, async () => {
      await expect(precreate(outTradeNo)).rejects.toThrow();
    });
    const retried = await precreate(outTradeNo);
    expect(retried.response.code).toBe('10000');
    expect((await scan(outTradeNo)).status).toBe(200);
  });

  it('closeErrorRate answers ACQ.SYSTEM_ERROR and leaves the trade open', async () => {
    const outTradeNo = newOutTradeNo();
    await precreate(outTradeNo);
    await scan(outTradeNo);
    const res = await withFaults({ closeErrorRate: 1 }, () => close({ out_trade_no: outTradeNo }));
    expect([res.signatureValid, ...subCodeOf(res)]).toEqual([true, '40004', 'ACQ.SYSTEM_ERROR']);
    expect((await query({ out_trade_no: outTradeNo })).response.trade_status).toBe('WAIT_BUYER_PAY');
  });
});

describe('page.pay cashier', () => {
  const pageOrder = (outTradeNo: string, extra: Record<string, unknown> = {}) =>
    order(outTradeNo, { product_code: 'FAST_INSTANT_TRADE_PAY', ...extra });

  it('opens the trade with the page, pays it with the button, and returns the browser with signed parameters', async () => {
    const receiver = await startAlipayReceiver();
    try {
      const outTradeNo = newOutTradeNo();
      const returnUrl = 'https://shop.example.com/paid?order=42';
      const opened = await fetch(client.pageUrl(pageOrder(outTradeNo), { notifyUrl: receiver.url, returnUrl }));
      const html = await opened.text();
      expect([opened.status, opened.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(html).toContain(outTradeNo);
      expect(html).toContain('¥88.88');
      expect((await query({ out_trade_no: outTradeNo })).response.trade_status).toBe('WAIT_BUYER_PAY');

      const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html)!;
      const fields = new URLSearchParams([...form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      const paid = await fetch(server.url + form[1], {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: fields.toString(),
        redirect: 'manual',
      });
      expect(paid.status).toBe(303);
      const location = new URL(paid.headers.get('location')!);
      expect(location.origin + location.pathname).toBe('https://shop.example.com/paid');
      const back = location.searchParams;
      expect(Object.fromEntries(back)).toMatchObject({
        order: '42',
        method: 'alipay.trade.page.pay.return',
        out_trade_no: outTradeNo,
        total_amount: '88.88',
        app_id: client.app.appId,
        seller_id: client.sellerId,
      });
      back.delete('order'); // the merchant's own parameter, not Alipay's
      expect(client.verifyNotification(back)).toBe(true);
      expect((await query({ out_trade_no: outTradeNo })).response.trade_status).toBe('TRADE_SUCCESS');
      await receiver.waitFor(1);
      expect(formOf(receiver.received[0]!).get('out_trade_no')).toBe(outTradeNo);
    } finally {
      await receiver.close();
    }
  });

  it('takes the request as a POSTed form too, and shows a paid trade as paid', async () => {
    const outTradeNo = newOutTradeNo();
    const params = client.signedParams('alipay.trade.page.pay', pageOrder(outTradeNo));
    const res = await fetch(server.url + '/sandbox/alipay/gateway.do', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    expect(res.status).toBe(200);
    await pay(outTradeNo);
    const again = await fetch(server.url + '/sandbox/alipay/gateway.do', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(client.signedParams('alipay.trade.page.pay', pageOrder(outTradeNo))).toString(),
    });
    expect([again.status, await again.text()]).toEqual([400, expect.stringContaining('ACQ.TRADE_HAS_SUCCESS')]);
  });

  it.each([
    ['a bad signature', (no: string) => client.pageUrl(pageOrder(no), { afterSigning: (p) => (p.subject = 'x') }), 'isv.invalid-signature'],
    ['no product_code', (no: string) => client.pageUrl(order(no)), 'ACQ.INVALID_PARAMETER'],
  ])('shows %s as an error page and opens nothing', async (_name, urlOf, subCode) => {
    const outTradeNo = newOutTradeNo();
    const res = await fetch(urlOf(outTradeNo));
    expect([res.status, await res.text()]).toEqual([400, expect.stringContaining(subCode)]);
    expect(subCodeOf(await query({ out_trade_no: outTradeNo }))).toEqual(['40004', 'ACQ.TRADE_NOT_EXIST']);
  });
});

describe('notifications', () => {
  const NOTIFIED_FIELDS = [
    'notify_time', 'notify_type', 'notify_id', 'app_id', 'charset', 'version', 'sign_type', 'sign', 'trade_no', 'out_trade_no',
    'buyer_id', 'seller_id', 'trade_status', 'total_amount', 'receipt_amount', 'buyer_pay_amount', 'gmt_create', 'gmt_payment',
  ];

  async function precreateAndPay(notifyUrl: string, serverUrl = server.url): Promise<{ outTradeNo: string; paid: any }> {
    const outTradeNo = newOutTradeNo();
    expect((await precreate(outTradeNo, {}, notifyUrl)).response.code).toBe('10000');
    const paid = await control(serverUrl, 'POST', '/sandbox/pay', { outTradeNo });
    expect(paid.status).toBe(200);
    return { outTradeNo, paid: paid.body };
  }

  it('is a form POST signed over all but sign and sign_type, retried with one notify_id until the answer is `success`', async () => {
    const receiver = await startAlipayReceiver((_p, index) => ['fail', { status: 500, body: 'success' }, 'success'][index] ?? 'success');
    try {
      const { outTradeNo, paid } = await precreateAndPay(receiver.url);
      await receiver.waitFor(3);
      await new Promise((r) => setTimeout(r, 2 * SECOND_RETRY_DELAY_MS)); // a fourth delivery would have come by now
      const deliveries = receiver.received;
      expect(deliveries).toHaveLength(3);
      expect(deliveries[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
      const params = formOf(deliveries[0]!);
      for (const field of NOTIFIED_FIELDS) expect([field, params.get(field)]).toEqual([field, expect.any(String)]);
      expect(Object.fromEntries(params)).toMatchObject({
        notify_type: 'trade_status_sync',
        trade_status: 'TRADE_SUCCESS',
        app_id: client.app.appId,
        seller_id: client.sellerId,
        out_trade_no: outTradeNo,
        trade_no: paid.transactionId,
        total_amount: '88.88',
        receipt_amount: '88.88',
        buyer_pay_amount: '88.88',
        charset: 'utf-8',
        version: '1.0',
        sign_type: 'RSA2',
        subject: 'Sandbox tea',
      });
      expect(client.verifyNotification(params)).toBe(true);
      // sign_type is outside the signature (§2.4): kept in, the string no longer verifies.
      expect(rsa2Verify(client.alipayPublicKey!, stringToSign(Object.fromEntries(params), ['sign']), params.get('sign')!)).toBe(false);
      expect(new Set(deliveries.map((n) => formOf(n).get('notify_id'))).size).toBe(1);
      expect(new Set(deliveries.map((n) => n.body)).size).toBe(1);
      const gaps = [deliveries[1]!.atMs - deliveries[0]!.atMs, deliveries[2]!.atMs - deliveries[1]!.atMs];
      expect(gaps[0]).toBeGreaterThanOrEqual(FIRST_RETRY_DELAY_MS - 5);
      expect(gaps[1]).toBeGreaterThanOrEqual(SECOND_RETRY_DELAY_MS - 5);
      for (const gap of gaps) expect(gap).toBeLessThan(SECOND_RETRY_DELAY_MS + 1_000);
      await eventually(async () =>
        expect((await ledgerOf(outTradeNo))[0]).toMatchObject({ notificationsSent: 3, notificationsAcknowledged: 1 }),
      );
    } finally {
      await receiver.close();
    }
  });

  it.each([
    ['success with a newline', 'success\n'],
    ['SUCCESS', 'SUCCESS'],
    ['"success" in quotes', '"success"'],
    ['an HTML page', '<html><body>success</body></html>'],
  ])('is not acknowledged by %s', async (_name, answer) => {
    const receiver = await startAlipayReceiver((_p, index) => (index === 0 ? answer : 'success'));
    try {
      await precreateAndPay(receiver.url);
      await receiver.waitFor(2);
    } finally {
      await receiver.close();
    }
  });

  it('is given up after the 7 retries of the schedule (8 sends)', async () => {
    const fast = await serveSandbox(server.pool, { timeScale: 0.00001, notifyTimeoutMs: 1_000 });
    const receiver = await startAlipayReceiver(() => 'fail');
    try {
      const { outTradeNo } = await precreateAndPay(receiver.url, fast.url);
      await receiver.waitFor(8, 8_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received).toHaveLength(8);
      await eventually(async () =>
        expect((await ledgerOf(outTradeNo))[0]).toMatchObject({ notificationsSent: 8, notificationsAcknowledged: 0 }),
      );
    } finally {
      await receiver.close();
      await fast.close();
    }
  }, SLOW_TEST_TIMEOUT_MS);

  it('is not sent for a trade without notify_url', async () => {
    const outTradeNo = newOutTradeNo();
    expect((await client.call(PRECREATE, order(outTradeNo))).response.code).toBe('10000');
    expect((await pay(outTradeNo)).body).toMatchObject({ state: 'paid', notificationsDropped: 0 });
    expect((await ledgerOf(outTradeNo))[0]).toMatchObject({ notificationsSent: 0, notificationsAcknowledged: 0 });
  });

  it('dropNotifications records the notification as dropped and delivers nothing', async () => {
    const receiver = await startAlipayReceiver();
    try {
      const { outTradeNo, paid } = await withFaults({ dropNotifications: true }, () => precreateAndPay(receiver.url));
      expect(paid.notificationsDropped).toBe(1);
      await new Promise((r) => setTimeout(r, 2 * FIRST_RETRY_DELAY_MS));
      expect(receiver.received).toHaveLength(0);
      expect((await ledgerOf(outTradeNo))[0]).toMatchObject({ state: 'paid', notificationsSent: 0, notificationsDropped: 1 });
    } finally {
      await receiver.close();
    }
  });

  it('duplicateNotifications sends every delivery twice, byte for byte', async () => {
    const receiver = await startAlipayReceiver();
    try {
      const { outTradeNo } = await withFaults({ duplicateNotifications: true }, async () => {
        const result = await precreateAndPay(receiver.url);
        await receiver.waitFor(2);
        return result;
      });
      expect(receiver.received[0]!.body).toBe(receiver.received[1]!.body);
      await eventually(async () =>
        expect((await ledgerOf(outTradeNo))[0]).toMatchObject({ notificationsSent: 2, notificationsAcknowledged: 1 }),
      );
    } finally {
      await receiver.close();
    }
  });

  it('signtestProbes adds a copy with a corrupted sign, and a receiver that accepts it is logged loudly', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const probing = await serveSandbox(server.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 1_000, log });
    const probingUrl = probing.url;
    // First a correct receiver (refuses what does not verify), then a careless one (accepts anything).
    let careless = false;
    const receiver = await startAlipayReceiver((params) => (careless || client.verifyNotification(params) ? 'success' : 'fail'));
    try {
      await control(probingUrl, 'PUT', '/sandbox/faults', { signtestProbes: true });
      await precreateAndPay(receiver.url, probingUrl);
      await receiver.waitFor(2);
      const verified = receiver.received.map((n) => client.verifyNotification(formOf(n)));
      expect(verified.sort()).toEqual([false, true]);
      expect(new Set(receiver.received.map((n) => formOf(n).get('notify_id'))).size).toBe(1);
      expect(lines.join('')).not.toContain('ACCEPTED');

      careless = true;
      await precreateAndPay(receiver.url, probingUrl);
      await receiver.waitFor(4);
      await eventually(async () => expect(lines.join('')).toContain('sandbox alipay: receiver ACCEPTED a probe notification whose signature is invalid'));
    } finally {
      await receiver.close();
      await probing.close();
    }
  });
});
