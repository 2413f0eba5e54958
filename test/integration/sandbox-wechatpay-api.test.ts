// The WeChat Pay v3 API of the sandbox, driven by an independent test merchant: registration,
// signatures both ways, Native order / query / close semantics, and the API-side faults.
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  WechatpayTestClient,
  authorizationHeader,
  control,
  sandboxPerFile,
  serveSandbox,
} from '../helpers/wechatpay-test-client.ts';

const NOTIFY_URL = 'http://127.0.0.1:9/notify/wechatpay'; // nothing listens: notifications are not under test here
const NATIVE = '/v3/pay/transactions/native';
const query = (client: WechatpayTestClient, outTradeNo: string) =>
  client.call('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${client.merchant.mchId}`);
const close = (client: WechatpayTestClient, outTradeNo: string) =>
  client.call('POST', `/v3/pay/transactions/out-trade-no/${outTradeNo}/close`, { mchid: client.merchant.mchId });
const newOutTradeNo = () => 'T' + randomBytes(8).toString('hex');

const server = sandboxPerFile({ timeScale: 0.001 });
let client: WechatpayTestClient;

beforeAll(async () => {
  client = await WechatpayTestClient.registered(server.url);
});

describe('merchant registration', () => {
  it('returns the platform public key, lists merchants without their APIv3 key, and keeps the key across restarts', async () => {
    expect(client.platformKeyId).toMatch(/^PUB_KEY_ID_\d+$/);
    const list = await control(server.url, 'GET', '/sandbox/wechatpay/merchants');
    expect(list.status).toBe(200);
    const mine = list.body.merchants.find((m: { mchId: string }) => m.mchId === client.merchant.mchId);
    expect(mine).toMatchObject({ appId: client.merchant.appId, merchantCertSerialNo: client.merchant.serialNo });
    expect(JSON.stringify(list.body)).not.toContain(client.merchant.apiV3Key);

    const again = await serveSandbox(server.pool, { timeScale: 0.001 });
    try {
      const other = await control(again.url, 'GET', '/sandbox/wechatpay/merchants');
      expect(other.body.platformPublicKeyId).toBe(client.platformKeyId);
    } finally {
      await again.close();
    }
  });

  it('replaces the keys when a mchId registers again', async () => {
    const rotating = await WechatpayTestClient.registered(server.url);
    expect((await rotating.call('POST', NATIVE, rotating.nativeOrder(newOutTradeNo(), NOTIFY_URL))).status).toBe(200);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const oldMerchant = rotating.merchant;
    const newMerchant = { ...oldMerchant, privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), serialNo: 'ABCDEF0123' };
    const rotated = new WechatpayTestClient(server.url, newMerchant);
    await rotated.register();
    expect((await rotated.call('POST', NATIVE, rotated.nativeOrder(newOutTradeNo(), NOTIFY_URL))).status).toBe(200);
    expect((await rotating.call('POST', NATIVE, rotating.nativeOrder(newOutTradeNo(), NOTIFY_URL))).status).toBe(401);
  });

  it.each([
    ['apiV3Key of 31 bytes', { apiV3Key: 'x'.repeat(31) }],
    ['missing mchId', { mchId: undefined }],
    ['unreadable public key', { merchantPublicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }],
    ['unknown field', { extra: 1 }],
  ])('rejects %s with 400', async (_name, change) => {
    const m = client.merchant;
    const body = { mchId: m.mchId, appId: m.appId, merchantPublicKey: m.publicKeyPem, merchantCertSerialNo: m.serialNo, apiV3Key: m.apiV3Key, ...change };
    const res = await control(server.url, 'POST', '/sandbox/wechatpay/merchants', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });
});

describe('native order', () => {
  it('creates a trade, returns the same code_url for an identical re-order, and 403 for changed parameters', async () => {
    const outTradeNo = newOutTradeNo();
    const order = client.nativeOrder(outTradeNo, NOTIFY_URL);
    const first = await client.call('POST', NATIVE, order);
    expect(first.status).toBe(200);
    expect(first.signatureValid).toBe(true);
    expect(first.headers.get('wechatpay-serial')).toBe(client.platformKeyId);
    expect(first.headers.get('request-id')).toMatch(/^[0-9A-F]{32}$/);
    expect(first.body.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=\w+$/);

    // Same parameters in another key order: still identical.
    const reordered = Object.fromEntries(Object.entries(order).reverse());
    const second = await client.call('POST', NATIVE, reordered);
    expect(second.status).toBe(200);
    expect(second.body.code_url).toBe(first.body.code_url);

    const changed = await client.call('POST', NATIVE, { ...order, amount: { total: 999, currency: 'CNY' } });
    expect(changed.status).toBe(403);
    expect(changed.body.code).toBe('OUT_TRADE_NO_USED');
    expect(changed.signatureValid).toBe(true);
  });

  it('answers ORDER_PAID for a paid trade and ORDER_CLOSED for a closed one', async () => {
    const paidNo = newOutTradeNo();
    await client.call('POST', NATIVE, client.nativeOrder(paidNo, NOTIFY_URL));
    expect((await control(server.url, 'POST', '/sandbox/pay', { outTradeNo: paidNo })).status).toBe(200);
    const paid = await client.call('POST', NATIVE, client.nativeOrder(paidNo, NOTIFY_URL));
    expect([paid.status, paid.body.code]).toEqual([400, 'ORDER_PAID']);

    const closedNo = newOutTradeNo();
    await client.call('POST', NATIVE, client.nativeOrder(closedNo, NOTIFY_URL));
    expect((await close(client, closedNo)).status).toBe(204);
    const closed = await client.call('POST', NATIVE, client.nativeOrder(closedNo, NOTIFY_URL));
    expect([closed.status, closed.body.code]).toEqual([400, 'ORDER_CLOSED']);
  });

  it.each([
    ['description of 128 characters', { description: 'd'.repeat(128) }],
    ['out_trade_no of 5 characters', { out_trade_no: 'abcde' }],
    ['out_trade_no of 33 characters', { out_trade_no: 'a'.repeat(33) }],
    ['out_trade_no with a dot', { out_trade_no: 'abc.def' }],
    ['notify_url with a query', { notify_url: 'https://m.example.com/notify?x=1' }],
    ['relative notify_url', { notify_url: '/notify' }],
    ['zero amount', { amount: { total: 0, currency: 'CNY' } }],
    ['fractional amount', { amount: { total: 1.5, currency: 'CNY' } }],
    ['USD', { amount: { total: 100, currency: 'USD' } }],
    ['time_expire without offset', { time_expire: '2030-01-01T10:00:00' }],
    ['missing appid', { appid: undefined }],
  ])('rejects %s with 400 PARAM_ERROR', async (_name, change) => {
    const res = await client.call('POST', NATIVE, client.nativeOrder(newOutTradeNo(), NOTIFY_URL, change));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('PARAM_ERROR');
    expect(res.body.message).toEqual(expect.any(String));
    expect(res.signatureValid).toBe(true);
  });

  it.each([
    ['description of 127 characters', { description: '商'.repeat(127) }],
    ['out_trade_no of 6 characters with _-|*', { out_trade_no: 'a_-|*9' }],
    ['https notify_url', { notify_url: 'https://m.example.com/notify' }],
    ['time_expire with offset', { time_expire: '2030-01-01T10:00:00+08:00' }],
  ])('accepts %s', async (_name, change) => {
    const res = await client.call('POST', NATIVE, client.nativeOrder(newOutTradeNo(), NOTIFY_URL, change));
    expect(res.status).toBe(200);
  });

  it('rejects an appid that is not the merchant’s with APPID_MCHID_NOT_MATCH', async () => {
    const res = await client.call('POST', NATIVE, client.nativeOrder(newOutTradeNo(), NOTIFY_URL, { appid: 'wx0000000000000000' }));
    expect([res.status, res.body.code]).toEqual([400, 'APPID_MCHID_NOT_MATCH']);
  });
});

describe('query and close', () => {
  it('queries NOTPAY, SUCCESS and CLOSED trades with the §1.4 fields', async () => {
    const outTradeNo = newOutTradeNo();
    await client.call('POST', NATIVE, client.nativeOrder(outTradeNo, NOTIFY_URL, { attach: 'cart-7' }));
    const unpaid = await query(client, outTradeNo);
    expect(unpaid.status).toBe(200);
    expect(unpaid.signatureValid).toBe(true);
    expect(unpaid.body).toMatchObject({
      appid: client.merchant.appId, mchid: client.merchant.mchId, out_trade_no: outTradeNo,
      trade_type: 'NATIVE', trade_state: 'NOTPAY', attach: 'cart-7', amount: { total: 1234, currency: 'CNY' },
    });
    expect(unpaid.body.transaction_id).toBeUndefined();

    await control(server.url, 'POST', '/sandbox/pay', { outTradeNo });
    const paid = await query(client, outTradeNo);
    expect(paid.body).toMatchObject({ trade_state: 'SUCCESS', amount: { total: 1234, payer_total: 1234, currency: 'CNY', payer_currency: 'CNY' } });
    expect(paid.body.transaction_id).toMatch(/^\d{28}$/);
    expect(paid.body.success_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    expect(paid.body.payer.openid).toEqual(expect.any(String));

    const unknown = await query(client, newOutTradeNo());
    expect([unknown.status, unknown.body.code, unknown.signatureValid]).toEqual([404, 'ORDER_NOT_EXIST', true]);
  });

  it('closes an unpaid trade with 204 (twice), refuses a paid one, and 404s an unknown one', async () => {
    const outTradeNo = newOutTradeNo();
    await client.call('POST', NATIVE, client.nativeOrder(outTradeNo, NOTIFY_URL));
    const closed = await close(client, outTradeNo);
    expect([closed.status, closed.raw, closed.signatureValid]).toEqual([204, '', true]);
    expect((await close(client, outTradeNo)).status).toBe(204);
    expect((await query(client, outTradeNo)).body.trade_state).toBe('CLOSED');

    const paidNo = newOutTradeNo();
    await client.call('POST', NATIVE, client.nativeOrder(paidNo, NOTIFY_URL));
    await control(server.url, 'POST', '/sandbox/pay', { outTradeNo: paidNo });
    const refused = await close(client, paidNo);
    expect([refused.status, refused.body.code]).toEqual([400, 'ORDER_PAID']);

    const unknown = await close(client, newOutTradeNo());
    expect([unknown.status, unknown.body.code]).toEqual([404, 'ORDER_NOT_EXIST']);
  });
});

describe('request authentication', () => {
  const path = () => `/v3/pay/transactions/out-trade-no/${newOutTradeNo()}?mchid=${client.merchant.mchId}`;

  it('answers 401 SIGN_ERROR, signed, to a signature over other bytes', async () => {
    const order = client.nativeOrder(newOutTradeNo(), NOTIFY_URL);
    const signedForOtherBody = authorizationHeader(client.merchant, 'POST', '/sandbox/wechatpay' + NATIVE, JSON.stringify({ ...order, description: 'x' }));
    const res = await client.call('POST', NATIVE, order, { authorization: signedForOtherBody });
    expect([res.status, res.body.code, res.signatureValid]).toEqual([401, 'SIGN_ERROR', true]);
  });

  it('answers 401 to a signature over the path without the /sandbox/wechatpay prefix', async () => {
    const p = path();
    const res = await client.call('GET', p, undefined, { authorization: authorizationHeader(client.merchant, 'GET', p, '') });
    expect(res.status).toBe(401);
  });

  it('answers 401 to a timestamp six minutes old, and accepts one four minutes old', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await client.call('GET', path(), undefined, { timestamp: now - 360 })).status).toBe(401);
    expect((await client.call('GET', path(), undefined, { timestamp: now - 240 })).status).toBe(404);
  });

  it('answers 401 to a missing header, an unknown mchid and a wrong serial_no', async () => {
    const p = path();
    const good = authorizationHeader(client.merchant, 'GET', '/sandbox/wechatpay' + p, '');
    for (const authorization of [
      'Bearer nothing',
      good.replace(`mchid="${client.merchant.mchId}"`, 'mchid="1"'),
      good.replace(`serial_no="${client.merchant.serialNo}"`, 'serial_no="0000"'),
    ]) {
      const res = await client.call('GET', p, undefined, { authorization });
      expect([res.status, res.body.code]).toEqual([401, 'SIGN_ERROR']);
    }
  });

  it('answers an unknown v3 path with a signed 404 once authenticated', async () => {
    const res = await client.call('GET', '/v3/no/such/api');
    expect([res.status, res.body.code, res.signatureValid]).toEqual([404, 'NOT_FOUND', true]);
    const anonymous = await client.call('GET', '/v3/no/such/api', undefined, { authorization: 'none' });
    expect(anonymous.status).toBe(401);
  });

  it('accepts the Authorization pairs in any order', async () => {
    const p = path();
    const good = authorizationHeader(client.merchant, 'GET', '/sandbox/wechatpay' + p, '');
    const pairs = good.slice('WECHATPAY2-SHA256-RSA2048 '.length).split(',').reverse().join(',');
    const res = await client.call('GET', p, undefined, { authorization: `WECHATPAY2-SHA256-RSA2048 ${pairs}` });
    expect(res.status).toBe(404);
  });
});

describe('API faults', () => {
  it('createTimeoutRate creates the trade and then drops the connection', async () => {
    await control(server.url, 'PUT', '/sandbox/faults', { createTimeoutRate: 1 });
    const outTradeNo = newOutTradeNo();
    try {
      await expect(client.call('POST', NATIVE, client.nativeOrder(outTradeNo, NOTIFY_URL))).rejects.toThrow();
    } finally {
      await control(server.url, 'DELETE', '/sandbox/faults');
    }
    expect((await query(client, outTradeNo)).body.trade_state).toBe('NOTPAY');
  });

  it('queryErrorRate answers a signed 500 SYSTEM_ERROR; queryTimeoutRate drops the connection', async () => {
    const outTradeNo = newOutTradeNo();
    await client.call('POST', NATIVE, client.nativeOrder(outTradeNo, NOTIFY_URL));
    await control(server.url, 'PUT', '/sandbox/faults', { queryErrorRate: 1 });
    const failed = await query(client, outTradeNo);
    expect([failed.status, failed.body.code, failed.signatureValid]).toEqual([500, 'SYSTEM_ERROR', true]);
    await control(server.url, 'PUT', '/sandbox/faults', { queryTimeoutRate: 1 });
    await expect(query(client, outTradeNo)).rejects.toThrow();
    await control(server.url, 'DELETE', '/sandbox/faults');
    expect((await query(client, outTradeNo)).status).toBe(200);
  });

  it('closeErrorRate answers 500 and leaves the trade open', async () => {
    const outTradeNo = newOutTradeNo();
    await client.call('POST', NATIVE, client.nativeOrder(outTradeNo, NOTIFY_URL));
    await control(server.url, 'PUT', '/sandbox/faults', { closeErrorRate: 1 });
    const failed = await close(client, outTradeNo);
    await control(server.url, 'DELETE', '/sandbox/faults');
    expect([failed.status, failed.body.code]).toEqual([500, 'SYSTEM_ERROR']);
    expect((await query(client, outTradeNo)).body.trade_state).toBe('NOTPAY');
  });
});
