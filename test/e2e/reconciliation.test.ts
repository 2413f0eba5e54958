// Daily reconciliation through HTTP against the three sandboxes' bills: a paid day agrees, and
// each planted difference is found, reported by class and acted on.
import { beforeEach, describe, expect, it } from 'vitest';
import { orderBody, paycenterPerFile, waitFor, withUninformedPaycenter } from '../helpers/paycenter.ts';
import { paidOrder } from '../helpers/orders.ts';
import { buyerPays } from '../../src/harness/buyer.ts';
import { insertApp } from '../../src/store/apps.ts';
import { sha256 } from '../../src/domain/fingerprint.ts';
import { beijingDate } from '../../src/domain/reconciliation.ts';
import { addJob } from '../../src/store/jobs.ts';
import { RECONCILE_CHANNELS_TASK } from '../../src/services/reconciliation.ts';
import { expireUnwatchedOrders } from '../../src/services/orders.ts';

const pc = paycenterPerFile();
const today = () => beijingDate(new Date());

beforeEach(async () => {
  expect((await pc.sandbox('DELETE', '/sandbox/bill-plants')).status).toBeLessThan(300);
});

const paid = (channel: string) => paidOrder(pc, { channel });

async function reconcile(channel: string) {
  const res = await pc.api('POST', '/v1/reconciliations', { channel, date: today() });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ channel, date: today(), state: 'DONE', error: null });
  const stored = await pc.api('GET', `/v1/reconciliations/${res.body.id}`);
  expect(stored.status).toBe(200);
  expect(stored.body).toEqual(res.body);
  return stored.body;
}

async function plant(channel: string, p: Record<string, unknown>) {
  expect((await pc.sandbox('POST', '/sandbox/bill-plants', { channel, date: today(), plant: p })).status).toBe(201);
}

describe.each(['wechatpay', 'alipay', 'unionpay'])('%s', (channel) => {
  it('a paid day agrees with the bill: DONE, no difference', async () => {
    await paid(channel);
    const report = await reconcile(channel);
    expect(report.differences).toEqual([]);
    expect(report.summary.billLines).toBeGreaterThanOrEqual(1);
    expect(report.summary.localPayments).toBe(report.summary.billLines);
    expect(Object.values(report.summary.differences).every((n) => n === 0)).toBe(true);
  });

  it('omit_payment → paid_locally_only: the order goes EXCEPTION, then PAID again through the query', async () => {
    const { id, outTradeNo } = await paid(channel);
    await plant(channel, { type: 'omit_payment', outTradeNo });
    const report = await reconcile(channel);
    expect(report.differences).toEqual([
      expect.objectContaining({ class: 'paid_locally_only', outTradeNo, orderId: id, channelSide: null, action: 'order_exception' }),
    ]);
    expect(report.summary.differences.paid_locally_only).toBe(1);
    expect(await pc.orderTransitions(id, 'PAID', 'EXCEPTION')).toHaveLength(1);
    const { rows } = await pc.db.pool.query("SELECT count(*)::int AS n FROM events WHERE order_id = $1 AND type = 'order.exception'", [id]);
    expect(rows[0].n).toBe(1);
    expect((await waitFor(() => pc.orderTransitions(id, 'EXCEPTION', 'PAID'), (t) => t.length > 0)).length).toBe(1);
    expect((await pc.getOrder(id)).state).toBe('PAID');
  });

  it('amount → amount_mismatch, alerted; the order is untouched', async () => {
    const { id, outTradeNo } = await paid(channel);
    await plant(channel, { type: 'amount', outTradeNo, amountMinor: 1 });
    const report = await reconcile(channel);
    expect(report.differences).toEqual([
      expect.objectContaining({
        class: 'amount_mismatch',
        outTradeNo,
        orderId: id,
        channelSide: expect.objectContaining({ amountMinor: 1, currency: 'CNY' }),
        localSide: expect.objectContaining({ amountMinor: 1999, state: 'SUCCEEDED' }),
        action: 'alert',
      }),
    ]);
    expect((await pc.getOrder(id)).state).toBe('PAID');
    const metrics = await fetch(`${pc.baseUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`paycenter_reconciliation_differences_total\\{channel="${channel}",class="amount_mismatch"\\} [1-9]`));
  });

  it('extra_payment → unknown_trade', async () => {
    await paid(channel);
    const stranger = `pcunknown${Date.now()}`.padEnd(32, '0').slice(0, 32);
    await plant(channel, { type: 'extra_payment', outTradeNo: stranger, amountMinor: 4200 });
    const report = await reconcile(channel);
    expect(report.differences).toEqual([
      expect.objectContaining({ class: 'unknown_trade', outTradeNo: stranger, orderId: null, localSide: null, action: 'alert' }),
    ]);
    expect(report.differences[0].channelSide).toMatchObject({ amountMinor: 4200 });
  });

  it('omit_refund → refund_locally_only and extra_refund → unknown_refund, alerted; refunds that agree are no difference', async () => {
    const { id, outTradeNo } = await paid(channel);
    const asked = await pc.api('POST', `/v1/orders/${id}/refunds`, { amount: 300, merchantRefundNo: `recon-${Date.now()}-${channel}` });
    expect(asked.status).toBe(201);
    const refund = await waitFor(
      async () => (await pc.api('GET', `/v1/orders/${id}/refunds`)).body.data[0],
      (r) => r.state === 'SUCCEEDED',
    );
    expect(refund.state).toBe('SUCCEEDED');
    expect((await reconcile(channel)).differences).toEqual([]);

    const stranger = `rfunknown${Date.now()}`.padEnd(32, '0').slice(0, 32);
    await plant(channel, { type: 'omit_refund', outRefundNo: refund.outRefundNo });
    await plant(channel, { type: 'extra_refund', outTradeNo, outRefundNo: stranger, amountMinor: 100 });
    const report = await reconcile(channel);
    expect(report.differences).toHaveLength(2);
    expect(report.differences).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ class: 'refund_locally_only', outRefundNo: refund.outRefundNo, orderId: id, action: 'alert' }),
        expect.objectContaining({ class: 'unknown_refund', outRefundNo: stranger, action: 'alert' }),
      ]),
    );
  });
});

describe('an order the reconciliation put in EXCEPTION', () => {
  it('is never closed by the expiry sweep: its money was taken', async () => {
    // A Paycenter whose queries are 10 minutes away, so the order stays EXCEPTION while we look.
    await withUninformedPaycenter(async (slow) => {
      await slow.sandbox('DELETE', '/sandbox/faults');
      const order = await slow.api('POST', '/v1/orders', orderBody());
      const pay = await slow.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
      expect((await buyerPays(slow.baseUrl, pay.body.payment)).status).toBe(200);
      expect((await slow.waitForState(order.body.id, 'PAID')).state).toBe('PAID');
      const plant = { channel: 'wechatpay', date: today(), plant: { type: 'omit_payment', outTradeNo: pay.body.payment.outTradeNo } };
      expect((await slow.sandbox('POST', '/sandbox/bill-plants', plant)).status).toBe(201);
      const report = await slow.api('POST', '/v1/reconciliations', { channel: 'wechatpay', date: today() });
      expect(report.body.differences.map((d: { class: string }) => d.class)).toEqual(['paid_locally_only']);
      expect((await slow.getOrder(order.body.id)).state).toBe('EXCEPTION');
      // A day later, past its expiry with nothing left to watch, the sweep still leaves it alone.
      await expireUnwatchedOrders({ ...slow.running.ctx, now: () => new Date(Date.now() + 86_400_000) });
      expect((await slow.getOrder(order.body.id)).state).toBe('EXCEPTION');
      expect(await slow.orderTransitions(order.body.id, 'EXCEPTION', 'CLOSED')).toHaveLength(0);
    });
  });
});

describe('the reports API', () => {
  it('lists reports newest first, by channel, a page at a time', async () => {
    const first = await reconcile('wechatpay');
    const second = await reconcile('wechatpay');
    const page = await pc.api('GET', '/v1/reconciliations?channel=wechatpay&limit=1');
    expect(page.status).toBe(200);
    expect(page.body.data.map((r: { id: string }) => r.id)).toEqual([second.id]);
    expect(page.body.hasMore).toBe(true);
    const next = await pc.api('GET', `/v1/reconciliations?channel=wechatpay&limit=1&before=${second.id}`);
    expect(next.body.data.map((r: { id: string }) => r.id)).toEqual([first.id]);
    expect(next.body.data[0]).not.toHaveProperty('differences');
  });

  it.each<[string, Record<string, unknown>, number, string]>([
    ['an unknown channel', { channel: 'paypal', date: '2026-01-01' }, 400, 'channel_not_configured'],
    ['a day in the future', { channel: 'wechatpay', date: '2999-01-01' }, 400, 'invalid_request'],
    ['an impossible day', { channel: 'wechatpay', date: '2026-02-30' }, 400, 'invalid_request'],
    ['a badly written day', { channel: 'wechatpay', date: '2026-1-1' }, 400, 'invalid_request'],
  ])('refuses %s', async (_name, body, status, code) => {
    const res = await pc.api('POST', '/v1/reconciliations', body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = await fetch(`${pc.baseUrl}/openapi.json`).then((r) => r.json());
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/reconciliations', '/v1/reconciliations/{id}']));
    expect(doc.paths['/v1/reconciliations'].post.requestBody.content['application/json'].schema.properties.date.description).toMatch(/Beijing/);
  });

  it('an unknown report is 404', async () => {
    const res = await pc.api('GET', '/v1/reconciliations/rec_nosuchreport');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('only the default app may use reconciliations: another app gets 403', async () => {
    const otherKey = 'pk_test_other_app_reconciliation_0001';
    await insertApp(pc.db.pool, 'app_reconciliation_other', 'other', sha256(otherKey));
    const as = { authorization: `Bearer ${otherKey}` };
    for (const [method, path, body] of [
      ['POST', '/v1/reconciliations', { channel: 'wechatpay', date: today() }],
      ['GET', '/v1/reconciliations', undefined],
      ['GET', '/v1/reconciliations/rec_any', undefined],
    ] as const) {
      const res = await pc.api(method, path, body, as);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
  });
});

describe('the daily job', () => {
  it('reconciles yesterday (Beijing) of every configured channel', async () => {
    const yesterday = beijingDate(new Date(), 1);
    await addJob(pc.db.pool, { task: RECONCILE_CHANNELS_TASK, payload: {} });
    const reports = await waitFor(
      async () => (await pc.api('GET', '/v1/reconciliations?limit=100')).body.data.filter((r: { date: string }) => r.date === yesterday),
      (found) => found.length === 3 && found.every((r: { state: string }) => r.state === 'DONE'),
    );
    expect(reports.map((r: { channel: string }) => r.channel).sort()).toEqual(['alipay', 'unionpay', 'wechatpay']);
    expect(reports.every((r: { state: string }) => r.state === 'DONE')).toBe(true);
  });
});
