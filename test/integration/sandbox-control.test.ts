// The channel-agnostic control API: the buyer paying (and being refused), the ledger, and the
// validation of fault settings.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { WechatpayTestClient, control, sandboxPerFile } from '../helpers/wechatpay-test-client.ts';

const NOTIFY_URL = 'http://127.0.0.1:9/notify/wechatpay'; // nothing listens; the notifications fail quietly
const NATIVE = '/v3/pay/transactions/native';
const newOutTradeNo = () => 'C' + randomBytes(8).toString('hex');

const server = sandboxPerFile({ timeScale: 1 });
let client: WechatpayTestClient;

beforeAll(async () => {
  client = await WechatpayTestClient.registered(server.url);
});

async function order(outTradeNo: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await client.call('POST', NATIVE, client.nativeOrder(outTradeNo, NOTIFY_URL, extra));
  expect(res.status).toBe(200);
}

const pay = (outTradeNo: string, mchId?: string) =>
  control(server.url, 'POST', '/sandbox/pay', mchId === undefined ? { outTradeNo } : { outTradeNo, mchId });

describe('POST /sandbox/pay', () => {
  it('pays an unpaid trade once; a second payment is refused with trade_paid', async () => {
    const outTradeNo = newOutTradeNo();
    await order(outTradeNo);
    const paid = await pay(outTradeNo);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ channel: 'wechatpay', outTradeNo, state: 'paid', channelState: 'SUCCESS', amount: 1234 });
    expect(paid.body.transactionId).toMatch(/^4200\d{24}$/);
    const again = await pay(outTradeNo);
    expect([again.status, again.body.error.code]).toEqual([409, 'trade_paid']);
  });

  it('refuses a closed trade with trade_closed', async () => {
    const outTradeNo = newOutTradeNo();
    await order(outTradeNo);
    await client.call('POST', `/v3/pay/transactions/out-trade-no/${outTradeNo}/close`, { mchid: client.merchant.mchId });
    const res = await pay(outTradeNo);
    expect([res.status, res.body.error.code]).toEqual([409, 'trade_closed']);
  });

  it('refuses a trade past its time_expire with trade_expired, and it stays NOTPAY (expiry is not a close)', async () => {
    const outTradeNo = newOutTradeNo();
    const expiresAt = new Date(Date.now() + 1_000);
    await order(outTradeNo, { time_expire: expiresAt.toISOString().slice(0, 19) + 'Z' });
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() - Date.now()) + 50));
    const res = await pay(outTradeNo);
    expect([res.status, res.body.error.code]).toEqual([409, 'trade_expired']);
    const queried = await client.call('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${client.merchant.mchId}`);
    expect(queried.body.trade_state).toBe('NOTPAY');
  });

  it('404s an unknown out_trade_no and 400s a malformed body', async () => {
    const unknown = await pay(newOutTradeNo());
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'trade_not_found']);
    expect((await control(server.url, 'POST', '/sandbox/pay', { outTradeNo: 7 })).status).toBe(400);
    expect((await control(server.url, 'POST', '/sandbox/pay', { outTradeNo: 'x', other: 1 })).status).toBe(400);
  });

  it('asks for mchId when two merchants hold the same out_trade_no', async () => {
    const other = await WechatpayTestClient.registered(server.url);
    const outTradeNo = newOutTradeNo();
    await order(outTradeNo);
    expect((await other.call('POST', NATIVE, other.nativeOrder(outTradeNo, NOTIFY_URL))).status).toBe(200);
    const ambiguous = await pay(outTradeNo);
    expect([ambiguous.status, ambiguous.body.error.code]).toEqual([409, 'ambiguous_out_trade_no']);
    const named = await pay(outTradeNo, other.merchant.mchId);
    expect([named.status, named.body.mchId]).toEqual([200, other.merchant.mchId]);
  });

  it('pays concurrently requested trades exactly once', async () => {
    const outTradeNo = newOutTradeNo();
    await order(outTradeNo);
    const results = await Promise.all(Array.from({ length: 8 }, () => pay(outTradeNo)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 && r.body.error.code === 'trade_paid')).toHaveLength(7);
  });
});

describe('GET /sandbox/ledger', () => {
  it('lists trades with their state, amounts, times and notification counters', async () => {
    const outTradeNo = newOutTradeNo();
    await order(outTradeNo, { time_expire: '2030-01-01T10:00:00+08:00' });
    const { status, body } = await control(server.url, 'GET', `/sandbox/ledger?outTradeNo=${outTradeNo}`);
    expect(status).toBe(200);
    expect(body.trades).toEqual([
      {
        channel: 'wechatpay',
        mchId: client.merchant.mchId,
        outTradeNo,
        transactionId: null,
        state: 'not_paid',
        channelState: 'NOTPAY',
        amount: 1234,
        currency: 'CNY',
        createdAt: expect.any(String),
        paidAt: null,
        closedAt: null,
        timeExpire: '2030-01-01T02:00:00.000Z',
        notificationsSent: 0,
        notificationsAcknowledged: 0,
        notificationsDropped: 0,
      },
    ]);
    const all = await control(server.url, 'GET', '/sandbox/ledger');
    expect(all.body.trades.length).toBeGreaterThan(1);
    expect((await control(server.url, 'GET', '/sandbox/ledger?limit=1')).body.trades).toHaveLength(1);
    expect((await control(server.url, 'GET', '/sandbox/ledger?limit=0')).status).toBe(400);
  });
});

describe('/sandbox/faults', () => {
  it('starts empty, is replaced whole by PUT, and cleared by DELETE', async () => {
    const empty = {
      dropNotifications: false, dropNotificationRate: 0, duplicateNotifications: false, delayNotificationsMs: 0,
      notificationJitterMs: 0, queryErrorRate: 0, queryTimeoutRate: 0, createTimeoutRate: 0, closeErrorRate: 0,
      signtestProbes: false,
    };
    expect((await control(server.url, 'GET', '/sandbox/faults')).body).toEqual(empty);
    await control(server.url, 'PUT', '/sandbox/faults', { queryErrorRate: 0.5, dropNotifications: true });
    await control(server.url, 'PUT', '/sandbox/faults', { delayNotificationsMs: 250 });
    expect((await control(server.url, 'GET', '/sandbox/faults')).body).toEqual({ ...empty, delayNotificationsMs: 250 });
    expect((await control(server.url, 'DELETE', '/sandbox/faults')).status).toBe(200);
    expect((await control(server.url, 'GET', '/sandbox/faults')).body).toEqual(empty);
  });

  it.each([
    ['an unknown fault', { loseMoney: true }],
    ['a rate above 1', { queryErrorRate: 1.5 }],
    ['a negative rate', { closeErrorRate: -0.1 }],
    ['a rate as a string', { createTimeoutRate: '0.5' }],
    ['a non-boolean flag', { dropNotifications: 1 }],
    ['a fractional delay', { delayNotificationsMs: 1.5 }],
    ['a negative delay', { delayNotificationsMs: -1 }],
    ['an array body', [1]],
  ])('rejects %s with 400 and keeps the current set', async (_name, body) => {
    await control(server.url, 'PUT', '/sandbox/faults', { signtestProbes: true });
    const res = await control(server.url, 'PUT', '/sandbox/faults', body);
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_faults']);
    expect((await control(server.url, 'GET', '/sandbox/faults')).body.signtestProbes).toBe(true);
    await control(server.url, 'DELETE', '/sandbox/faults');
  });
});
