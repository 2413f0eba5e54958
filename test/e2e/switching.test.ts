// Switching an order between channels and methods through HTTP against the sandboxes: the open
// attempt is closed at its channel first; a close that reveals a payment opens nothing; a trade
// the channel can only refuse from its expiry on stays watched (CLOSING); an order paid through
// one attempt has its other open attempts closed at once.
import { describe, expect, it } from 'vitest';
import { orderBody, paycenterPerFile, waitFor, withUninformedPaycenter } from '../helpers/paycenter.ts';
import { buyerPays, openCashier } from '../../src/harness/buyer.ts';

const pc = paycenterPerFile();
const { getOrder, ledger } = pc;
const pay = (id: string, channel: string, method?: string) => pc.api('POST', `/v1/orders/${id}/pay`, { channel, ...(method && { method }) });
const payment = (order: { payments: { id: string; state: string }[] }, id: string) => order.payments.find((p) => p.id === id)!;
const openAttempts = async (orderId: string) =>
  (await pc.db.pool.query("SELECT count(*)::int AS n FROM payment_attempts WHERE order_id = $1 AND state IN ('CREATING', 'PENDING')", [orderId]))
    .rows[0].n as number;

async function newOrder(overrides: Record<string, unknown> = {}): Promise<string> {
  const order = await pc.api('POST', '/v1/orders', orderBody(overrides));
  expect(order.status).toBe(201);
  return order.body.id;
}

describe('switching channel or method', () => {
  it('WeChat Pay → Alipay: the WeChat trade is closed at WeChat first, then the Alipay attempt opens and is paid', async () => {
    const id = await newOrder();
    const first = (await pay(id, 'wechatpay')).body.payment;
    const second = await pay(id, 'alipay', 'qr');
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.payment).toMatchObject({ channel: 'alipay', method: 'qr', state: 'PENDING' });
    expect((await ledger(first.outTradeNo)).state).toBe('closed');
    expect(payment(second.body.order, first.id).state).toBe('CLOSED');
    expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: first.outTradeNo })).status).toBe(409);
    expect((await buyerPays(pc.baseUrl, second.body.payment)).status).toBe(200);
    const paid = await waitFor(() => getOrder(id), (o) => o.state === 'PAID');
    expect(paid.state).toBe('PAID');
    expect(payment(paid, second.body.payment.id).state).toBe('SUCCEEDED');
  });

  it('Alipay page → Alipay QR: another method of the same channel is a switch too', async () => {
    const id = await newOrder();
    const first = (await pay(id, 'alipay', 'page')).body.payment;
    expect(await openCashier(first.action)).toBe(200);
    const second = await pay(id, 'alipay', 'qr');
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(payment(second.body.order, first.id).state).toBe('CLOSED');
    expect((await ledger(first.outTradeNo)).state).toBe('closed');
  });

  it('an Alipay QR nobody scanned yet cannot be closed: it stays CLOSING and watched, and a late scan and payment is still learned', async () => {
    const id = await newOrder({ expiresInSeconds: 4 });
    const first = (await pay(id, 'alipay', 'qr')).body.payment;
    const second = await pay(id, 'wechatpay');
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(payment(second.body.order, first.id).state).toBe('CLOSING');
    expect(await openAttempts(id)).toBe(1);
    // The buyer scans the old QR code and pays it after all: Paycenter learns it (G1).
    expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: first.outTradeNo })).status).toBe(200);
    const paid = await waitFor(() => getOrder(id), (o) => o.state === 'PAID');
    expect(paid.state).toBe('PAID');
    expect(payment(paid, first.id).state).toBe('SUCCEEDED');
    // …and the WeChat attempt that is now pointless is closed at WeChat before the buyer pays it too.
    const closed = await waitFor(() => ledger(second.body.payment.outTradeNo), (t) => t.state === 'closed');
    expect(closed.state).toBe('closed');
    const settled = await waitFor(() => getOrder(id), (o) => payment(o, second.body.payment.id).state === 'CLOSED');
    expect(payment(settled, second.body.payment.id).state).toBe('CLOSED');
  });

  it('a payment through a CLOSING attempt after the merchant closed the order is learned and flagged as late, not lost', async () => {
    const id = await newOrder();
    const qr = (await pay(id, 'alipay', 'qr')).body.payment;
    const closed = await pc.api('POST', `/v1/orders/${id}/close`);
    expect(closed.status).toBe(200);
    expect(closed.body.state).toBe('CLOSED');
    expect(payment(closed.body, qr.id).state).toBe('CLOSING');
    // The buyer scans the QR code anyway, before its time_expire: the bank takes the money.
    expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: qr.outTradeNo })).status).toBe(200);
    const learned = await waitFor(() => getOrder(id), (o) => payment(o, qr.id).state === 'SUCCEEDED');
    expect(payment(learned, qr.id).state).toBe('SUCCEEDED');
    expect(learned.state).toBe('CLOSED');
    const succeeded = (await pc.timeline(id)).find((e) => e.kind === 'transition' && e.to === 'SUCCEEDED');
    expect(String(succeeded?.reason)).toContain('late payment');
    const metrics = await pc.api('GET', '/metrics');
    expect(metrics.body).toMatch(/paycenter_payment_anomalies_total\{kind="late_payment"\} [1-9]/);
  });

  it('UnionPay has no close: the old attempt is CLOSING until its payTimeout, then CLOSED', async () => {
    const id = await newOrder({ expiresInSeconds: 3 });
    const first = (await pay(id, 'unionpay')).body.payment;
    expect(await openCashier(first.action)).toBe(200);
    const second = await pay(id, 'alipay', 'qr');
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(payment(second.body.order, first.id).state).toBe('CLOSING');
    const settled = await waitFor(() => getOrder(id), (o) => payment(o, first.id).state === 'CLOSED', 15_000);
    expect(payment(settled, first.id).state).toBe('CLOSED');
    expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: first.outTradeNo })).status).toBe(409);
  });

  it('a close that reveals the old attempt was paid makes the order PAID and opens nothing', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    await withUninformedPaycenter(async (slow) => {
      const order = await slow.api('POST', '/v1/orders', orderBody());
      const first = (await slow.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'alipay', method: 'qr' })).body.payment;
      expect((await buyerPays(slow.baseUrl, first)).status).toBe(200);
      const second = await slow.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'unionpay' });
      expect(second.status).toBe(409);
      expect(second.body.error.code).toBe('order_paid');
      const after = (await slow.api('GET', `/v1/orders/${order.body.id}`)).body;
      expect(after.state).toBe('PAID');
      expect(after.payments).toHaveLength(1);
    });
  });

  it('while the old channel cannot confirm the close, nothing new opens; the same call later switches', async () => {
    const id = await newOrder();
    const first = (await pay(id, 'wechatpay')).body.payment;
    await pc.sandbox('PUT', '/sandbox/faults', { closeErrorRate: 1 });
    const refused = await pay(id, 'alipay', 'qr');
    expect(refused.status).toBe(502);
    expect(refused.body.error.code).toBe('channel_unavailable');
    const during = await getOrder(id);
    expect(during.payments).toHaveLength(1);
    expect(payment(during, first.id).state).toBe('PENDING');
    await pc.sandbox('DELETE', '/sandbox/faults');
    const retried = await pay(id, 'alipay', 'qr');
    expect(retried.status).toBe(200);
    expect(payment(retried.body.order, first.id).state).toBe('CLOSED');
  });

  it('concurrent switches between three channels leave one open attempt and every other one closed at its channel', async () => {
    const id = await newOrder();
    const targets = [
      ['wechatpay', 'native'],
      ['alipay', 'qr'],
      ['unionpay', 'gateway'],
      ['alipay', 'page'],
    ];
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => pay(id, ...(targets[i % targets.length] as [string, string]))));
    for (const a of answers) expect([200, 409, 502]).toContain(a.status);
    expect(await openAttempts(id)).toBe(1);
    const order = await getOrder(id);
    expect(order.state).toBe('PAYING');
    for (const p of order.payments) expect(['PENDING', 'CLOSED', 'CLOSING']).toContain(p.state);
    for (const p of order.payments.filter((x: { state: string }) => x.state === 'CLOSED')) {
      const trade = await ledger(p.outTradeNo);
      if (trade) expect(trade.state).toBe('closed');
    }
  });
});
