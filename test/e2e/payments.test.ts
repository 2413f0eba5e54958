// Paying orders through HTTP against the WeChat Pay sandbox: notifications lost, duplicated and
// forged; the active query; expiry and merchant close at the channel first; channel timeouts.
import { beforeAll, describe, expect, it } from 'vitest';
import { orderBody, paycenterPerFile, waitFor, withUninformedPaycenter } from '../helpers/paycenter.ts';
import { expectCloseRevealsPayment, expectPaidOnceDespiteDuplicates, expectPaidThroughQuery } from '../helpers/payment-checks.ts';
import { generateKeyPairSync } from 'node:crypto';
import { forgeNotification, readForgeKeys as readKeys, type ForgeKeys } from '../../src/chaos/forge-wechatpay.ts';
import { getSetting } from '../../src/store/settings.ts';
import type { Pool } from '../../src/store/db.ts';

/** A key the bank does not have. */
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

/** The in-process sandbox's merchant is kept in Paycenter's settings. */
async function readForgeKeys(pool: Pool): Promise<ForgeKeys> {
  const merchant = await getSetting<{ mchId: string; appId: string; apiV3Key: string }>(pool, 'sandbox.wechatpay.merchant');
  return readKeys(pool, merchant!);
}

const pc = paycenterPerFile();
const { getOrder, waitForState, timeline, orderTransitions, ledger } = pc;
let keys: ForgeKeys;
beforeAll(async () => {
  keys = await readForgeKeys(pc.db.pool);
});

async function newPayingOrder(overrides: Record<string, unknown> = {}) {
  const order = await pc.api('POST', '/v1/orders', orderBody(overrides));
  expect(order.status).toBe(201);
  const pay = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
  expect(pay.status).toBe(200);
  return { id: order.body.id as string, outTradeNo: pay.body.payment.outTradeNo as string, pay };
}

describe('pay', () => {
  it('answers a QR code; concurrent pay calls share one attempt', async () => {
    const order = await pc.api('POST', '/v1/orders', orderBody());
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' })),
    );
    for (const a of answers) expect(a.status).toBe(200);
    expect(new Set(answers.map((a) => a.body.payment.id)).size).toBe(1);
    const payment = answers[0]!.body.payment;
    expect(payment).toMatchObject({ channel: 'wechatpay', method: 'native', state: 'PENDING', amount: 1999 });
    expect(payment.action.type).toBe('qr_code');
    expect(payment.action.codeUrl).toMatch(/^weixin:\/\//);
    expect(answers[0]!.body.order.state).toBe('PAYING');
    const { rows } = await pc.db.pool.query('SELECT count(*)::int AS n FROM payment_attempts WHERE order_id = $1', [order.body.id]);
    expect(rows[0].n).toBe(1);
  });

  it('refuses unknown channels and methods with 400 invalid_request', async () => {
    const order = await pc.api('POST', '/v1/orders', orderBody());
    const channel = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'paypal' });
    expect(channel.status).toBe(400);
    expect(channel.body.error.field).toBe('channel');
    const method = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay', method: 'jsapi' });
    expect(method.status).toBe(400);
    expect(method.body.error.field).toBe('method');
  });

  it('becomes PAID through the notification; a paid order refuses pay and close', async () => {
    const { id, outTradeNo } = await newPayingOrder();
    expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo })).status).toBe(200);
    const order = await waitForState(id, 'PAID');
    expect(order.state).toBe('PAID');
    expect(order.payments[0].state).toBe('SUCCEEDED');
    expect(order.payments[0].channelTradeNo).toBe((await ledger(outTradeNo)).transactionId);
    const pay = await pc.api('POST', `/v1/orders/${id}/pay`, { channel: 'wechatpay' });
    expect(pay.status).toBe(409);
    expect(pay.body.error.code).toBe('order_paid');
    const close = await pc.api('POST', `/v1/orders/${id}/close`);
    expect(close.status).toBe(409);
    expect(close.body.error.code).toBe('order_paid');
    const notifications = (await timeline(id)).filter((e) => e.kind === 'notification');
    expect(notifications[0]).toMatchObject({ verified: true, outcome: 'paid' });
  });

  it('with every notification dropped, a paid order becomes PAID through the active query', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    const { id, outTradeNo } = await newPayingOrder();
    await pc.sandbox('POST', '/sandbox/pay', { outTradeNo });
    await expectPaidThroughQuery(pc, id, outTradeNo);
  });

  it('with every notification duplicated, the timeline shows exactly one PAYING→PAID and one event', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { duplicateNotifications: true });
    const { id, outTradeNo } = await newPayingOrder();
    await pc.sandbox('POST', '/sandbox/pay', { outTradeNo });
    await expectPaidOnceDespiteDuplicates(pc, id, outTradeNo);
  });

  it('GET ?sync=true asks the channel before answering', async () => {
    await withUninformedPaycenter(async (slow) => {
      const order = await slow.api('POST', '/v1/orders', orderBody());
      const pay = await slow.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
      await slow.sandbox('POST', '/sandbox/pay', { outTradeNo: pay.body.payment.outTradeNo });
      expect((await slow.api('GET', `/v1/orders/${order.body.id}`)).body.state).toBe('PAYING');
      expect((await slow.api('GET', `/v1/orders/${order.body.id}?sync=true`)).body.state).toBe('PAID');
    });
  });
});

describe('forged notifications (G5)', () => {
  const cases: [string, (o: { outTradeNo: string }) => ReturnType<typeof forgeNotification>, string][] = [
    ['a bad signature', (o) => forgeNotification(keys, { outTradeNo: o.outTradeNo, amount: 1999, wrongSigningKey: strangerKey }), 'bad_signature'],
    [
      'a stale timestamp',
      (o) => forgeNotification(keys, { outTradeNo: o.outTradeNo, amount: 1999, timestampSeconds: Math.floor(Date.now() / 1000) - 600 }),
      'stale_timestamp',
    ],
    ['a wrong amount', (o) => forgeNotification(keys, { outTradeNo: o.outTradeNo, amount: 1 }), 'amount_mismatch'],
    ['a wrong mchid', (o) => forgeNotification(keys, { outTradeNo: o.outTradeNo, amount: 1999, mchId: '1999999999' }), 'wrong_merchant'],
    ['an unknown order', () => forgeNotification(keys, { outTradeNo: 'pcunknownorder000000000000000000', amount: 1999 }), 'unknown_order'],
  ];
  it.each(cases)('refuses %s: non-2xx, stored, order unchanged', async (_name, forge, reason) => {
    const { id, outTradeNo } = await newPayingOrder();
    const forged = forge({ outTradeNo });
    const res = await fetch(`${pc.baseUrl}/notify/wechatpay`, { method: 'POST', headers: forged.headers, body: forged.body });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await res.json()).toMatchObject({ code: 'FAIL' });
    const { rows } = await pc.db.pool.query('SELECT verified, refusal_reason FROM notifications WHERE body = $1', [forged.body]);
    expect(rows).toEqual([{ verified: false, refusal_reason: reason }]);
    const order = await getOrder(id);
    expect(order.state).toBe('PAYING');
    expect(order.payments[0].state).toBe('PENDING');
    expect(await orderTransitions(id, 'PAYING', 'PAID')).toHaveLength(0);
  });

  it('a refused notification triggers an active query at once', async () => {
    await withUninformedPaycenter(async (slow) => {
      const slowKeys = await readForgeKeys(slow.db.pool);
      const order = await slow.api('POST', '/v1/orders', orderBody());
      const pay = await slow.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
      await slow.sandbox('POST', '/sandbox/pay', { outTradeNo: pay.body.payment.outTradeNo });
      const forged = forgeNotification(slowKeys, { outTradeNo: pay.body.payment.outTradeNo, amount: 1999, wrongSigningKey: strangerKey });
      const res = await fetch(`${slow.baseUrl}/notify/wechatpay`, { method: 'POST', headers: forged.headers, body: forged.body });
      expect(res.status).toBe(400);
      // Only the triggered query can find this payment: the genuine notifications are dropped and the
      // schedule's first query is 10 minutes away. The forgery itself changed nothing.
      const paid = await waitFor(
        async () => (await slow.api('GET', `/v1/orders/${order.body.id}`)).body,
        (o: { state: string }) => o.state === 'PAID',
      );
      expect(paid.state).toBe('PAID');
    });
  });

  it('answers WeChat Pay SIGNTEST probes with an error and still applies the real notification', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { signtestProbes: true });
    const { id, outTradeNo } = await newPayingOrder();
    await pc.sandbox('POST', '/sandbox/pay', { outTradeNo });
    expect((await waitForState(id, 'PAID')).state).toBe('PAID');
    const probes = await waitFor(
      async () => (await pc.db.pool.query('SELECT refusal_reason FROM notifications WHERE order_id = $1 AND NOT verified', [id])).rows,
      (rows) => rows.length > 0,
    );
    expect(probes.length).toBeGreaterThan(0);
    for (const probe of probes) expect(probe.refusal_reason).toBe('bad_signature');
    expect(await orderTransitions(id, 'PAYING', 'PAID')).toHaveLength(1);
  });

  it('counts orders, refused notifications and channel calls in /metrics', async () => {
    const metrics = await pc.api('GET', '/metrics');
    expect(metrics.body).toMatch(/paycenter_notifications_refused_total\{channel="wechatpay",reason="bad_signature"\} [1-9]/);
    expect(metrics.body).toMatch(/paycenter_orders\{state="PAYING"\} [1-9]/);
    expect(metrics.body).toMatch(/paycenter_channel_call_seconds_count\{channel="wechatpay",operation="create",outcome="created"\} [1-9]/);
    expect(metrics.body).toContain('paycenter_paying_overdue');
    expect(metrics.body).toContain('paycenter_orders_exception');
  });
});

describe('expiry and close', () => {
  it('an expired order is closed in the sandbox ledger before it is CLOSED locally; the buyer can no longer pay', async () => {
    const { id, outTradeNo } = await newPayingOrder({ expiresInSeconds: 2 });
    const order = await waitForState(id, 'CLOSED', 15_000);
    expect(order.state).toBe('CLOSED');
    const trade = await ledger(outTradeNo);
    expect(trade.closedAt).not.toBeNull();
    expect(Date.parse(trade.closedAt)).toBeLessThanOrEqual(Date.parse(order.closedAt));
    expect(order.payments[0].state).toBe('CLOSED');
    const buyer = await pc.sandbox('POST', '/sandbox/pay', { outTradeNo });
    expect(buyer.status).toBe(409);
    const pay = await pc.api('POST', `/v1/orders/${id}/pay`, { channel: 'wechatpay' });
    expect(pay.body.error.code).toBe('order_closed');
  });

  it('a CREATED order past its expiry cannot be paid', async () => {
    const order = await pc.api('POST', '/v1/orders', orderBody({ expiresInSeconds: 1 }));
    await new Promise((r) => setTimeout(r, 1100));
    const pay = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
    expect(pay.status).toBe(409);
    expect(pay.body.error.code).toBe('order_closed');
    expect((await getOrder(order.body.id)).state).toBe('CLOSED');
  });

  it('merchant close closes at the channel first', async () => {
    const { id, outTradeNo } = await newPayingOrder();
    const closed = await pc.api('POST', `/v1/orders/${id}/close`);
    expect(closed.status).toBe(200);
    expect(closed.body.state).toBe('CLOSED');
    expect((await ledger(outTradeNo)).closedAt).not.toBeNull();
    expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo })).status).toBe(409);
    expect((await pc.api('POST', `/v1/orders/${id}/close`)).body.state).toBe('CLOSED');
  });

  it('a close that reveals a payment makes the order PAID', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    await expectCloseRevealsPayment({ channel: 'wechatpay' });
  });

  it('a create that times out at the channel is retried with the same attempt', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { createTimeoutRate: 1 });
    const order = await pc.api('POST', '/v1/orders', orderBody());
    const first = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
    expect(first.status).toBe(502);
    expect(first.body.error.code).toBe('channel_unavailable');
    const pending = await getOrder(order.body.id);
    expect(pending.payments).toHaveLength(1);
    expect(pending.payments[0].state).toBe('CREATING');
    await pc.sandbox('DELETE', '/sandbox/faults');
    const retry = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
    expect(retry.status).toBe(200);
    expect(retry.body.payment.id).toBe(pending.payments[0].id);
    expect(retry.body.payment.state).toBe('PENDING');
  });

  it('unresolved after the schedule, an order becomes EXCEPTION and is resolved by the slow query', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { queryErrorRate: 1, closeErrorRate: 1 });
    const { id } = await newPayingOrder({ expiresInSeconds: 1 });
    const exception = await waitForState(id, 'EXCEPTION', 15_000);
    expect(exception.state).toBe('EXCEPTION');
    expect(exception.payments[0].state).toBe('PENDING');
    await pc.sandbox('DELETE', '/sandbox/faults');
    const closed = await waitForState(id, 'CLOSED', 15_000);
    expect(closed.state).toBe('CLOSED');
    const { rows } = await pc.db.pool.query('SELECT type FROM events WHERE order_id = $1 ORDER BY sequence', [id]);
    expect(rows.map((r) => r.type)).toEqual(['order.exception', 'order.closed']);
  });
});
