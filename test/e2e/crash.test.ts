// G1 across a crash: Paycenter is SIGKILLed after the buyer paid and before any notification
// was acknowledged; started again, it ends with the order PAID through its durable query job. The
// same for a refund the bank took while Paycenter was down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, spawnPaycenter, type PaycenterProcess } from '../helpers/process.ts';
import { FAST_ENV, TEST_API_KEY, orderBody, waitFor } from '../helpers/paycenter.ts';
import { buyerPays } from '../../src/harness/buyer.ts';

let db: TestDatabase;
let current: PaycenterProcess | undefined;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  current?.child.kill('SIGKILL');
  await db?.drop();
});

const CHANNELS = [
  { channel: 'wechatpay', method: 'native' },
  { channel: 'alipay', method: 'qr' },
  { channel: 'alipay', method: 'page' },
  { channel: 'unionpay', method: 'gateway' },
];

describe.each(CHANNELS)('SIGKILL and restart, $channel $method', ({ channel, method }) => {
  it('ends with the order PAID when killed after the buyer paid and before any notification was acknowledged', async () => {
    const port = await freePort();
    // The first query waits 3 s so the kill lands before it; notifications are all dropped, so
    // only the durable query job written with the attempt can find the payment.
    const env = { ...FAST_ENV, DATABASE_URL: db.url, PAYCENTER_QUERY_SCHEDULE: '3000,300,300,300,300,300,300,300' };
    current = await spawnPaycenter(env, port);
    const base = current.baseUrl;
    const auth = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
    await fetch(`${base}/sandbox/faults`, { method: 'PUT', headers: auth, body: JSON.stringify({ dropNotifications: true }) });
    const order = await (await fetch(`${base}/v1/orders`, { method: 'POST', headers: auth, body: JSON.stringify(orderBody()) })).json();
    const pay = await (
      await fetch(`${base}/v1/orders/${order.id}/pay`, { method: 'POST', headers: auth, body: JSON.stringify({ channel, method }) })
    ).json();
    const outTradeNo = pay.payment.outTradeNo;
    expect((await buyerPays(base, pay.payment)).status).toBe(200);

    current.child.kill('SIGKILL');
    await current.exited;
    const atKill = await db.pool.query('SELECT state FROM orders WHERE id = $1', [order.id]);
    expect(atKill.rows[0].state).toBe('PAYING');
    // The bank's ledger, read from its own tables: paid, and no notification acknowledged.
    const trade = await db.pool.query(`SELECT state FROM sandbox_${channel}.ledger WHERE out_trade_no = $1`, [outTradeNo]);
    expect(trade.rows[0].state).toBe('paid');
    const acked = await db.pool.query(
      `SELECT count(*)::int AS n FROM sandbox_${channel}.notifications WHERE out_trade_no = $1 AND state = 'acknowledged'`,
      [outTradeNo],
    );
    expect(acked.rows[0].n).toBe(0);

    current = await spawnPaycenter(env, port);
    const final = await waitFor(
      async () => (await fetch(`${base}/v1/orders/${order.id}`, { headers: auth })).json(),
      (o: { state: string }) => o.state === 'PAID',
      20_000,
    );
    expect(final.state).toBe('PAID');
    current.child.kill('SIGTERM');
    expect(await current.exited).toBe(0);
    current = undefined;
  });
});

// A refund across a crash: the bank took the refund and its notification was lost; Paycenter was
// SIGKILLed before its refund query ran. Started again, the durable job learns the refund.
describe.each(['wechatpay', 'unionpay'])('SIGKILL and restart with a refund in flight, %s', (channel) => {
  it('ends with the refund SUCCEEDED, once, on the bank’s word', async () => {
    const port = await freePort();
    // The bank finishes a refund 2 s × time scale after taking it: 500 ms here, so the request is
    // surely answered PROCESSING (on a busy machine 2 ms could pass before the answer is made);
    // the first refund query waits 5 s, so the kill lands before it.
    const env = { ...FAST_ENV, DATABASE_URL: db.url, PAYCENTER_SANDBOX_TIME_SCALE: '0.25', PAYCENTER_REFUND_QUERY_SCHEDULE: '5000,300' };
    current = await spawnPaycenter(env, port);
    const base = current.baseUrl;
    const auth = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
    const call = async (method: string, path: string, body?: unknown) =>
      (await fetch(`${base}${path}`, { method, headers: auth, ...(body !== undefined && { body: JSON.stringify(body) }) })).json();
    const order = await call('POST', '/v1/orders', orderBody({ amount: 1000 }));
    const pay = await call('POST', `/v1/orders/${order.id}/pay`, { channel });
    expect((await buyerPays(base, pay.payment)).status).toBe(200);
    await waitFor(() => call('GET', `/v1/orders/${order.id}`), (o: { state: string }) => o.state === 'PAID');
    await call('PUT', '/sandbox/faults', { dropNotifications: true });
    const refund = await call('POST', `/v1/orders/${order.id}/refunds`, { amount: 400, merchantRefundNo: `crash-${channel}-${Date.now()}` });
    expect(refund.state).toBe('PENDING');
    const atBank = async () =>
      (await db.pool.query(`SELECT state FROM sandbox_${channel}.refunds WHERE out_refund_no = $1`, [refund.outRefundNo])).rows[0]?.state;
    expect(await waitFor(atBank, (s) => s === 'succeeded')).toBe('succeeded');

    current.child.kill('SIGKILL');
    await current.exited;
    const atKill = await db.pool.query('SELECT state FROM refunds WHERE id = $1', [refund.id]);
    expect(atKill.rows[0].state).toBe('PENDING');

    current = await spawnPaycenter(env, port);
    const refunds = await waitFor(
      async () => (await call('GET', `/v1/orders/${order.id}/refunds`)).data,
      (rs: { state: string }[]) => rs[0]?.state === 'SUCCEEDED',
      20_000,
    );
    expect(refunds).toEqual([expect.objectContaining({ id: refund.id, state: 'SUCCEEDED', amount: 400 })]);
    expect((await call('GET', `/v1/orders/${order.id}`)).refund).toEqual({ state: 'PARTIAL', refundedAmount: 400 });
    const bank = await db.pool.query(`SELECT count(*)::int AS n FROM sandbox_${channel}.refunds WHERE out_trade_no = $1`, [pay.payment.outTradeNo]);
    expect(bank.rows[0].n).toBe(1);
    current.child.kill('SIGTERM');
    expect(await current.exited).toBe(0);
    current = undefined;
  });
});
