// Refunds through HTTP against the three sandboxes: merchant refunds (idempotent, never beyond
// what was paid, also under concurrency), refunds settled by notification or by query, failed
// refunds, and the automatic refund of a duplicate and of a late payment. The bank's `refunds`
// view is the judge of what money moved.
import { describe, expect, it } from 'vitest';
import { orderBody, paycenterPerFile, startTestPaycenter, waitFor, type TestPaycenter } from '../helpers/paycenter.ts';
import { paidOrder } from '../helpers/orders.ts';
import { buyerPays } from '../../src/harness/buyer.ts';
import { withTransaction } from '../../src/store/db.ts';
import { insertRefund, reserveRefund } from '../../src/store/refunds.ts';
import { sweepPendingRefunds } from '../../src/services/refunds.ts';
import { newId, newOutRefundNo } from '../../src/domain/ids.ts';

const pc = paycenterPerFile();
const { getOrder } = pc;

interface BankRefund {
  outRefundNo: string;
  amount: number;
  state: string;
}

const bankRefunds = async (p: TestPaycenter, outTradeNo: string): Promise<BankRefund[]> =>
  (await p.sandbox('GET', `/sandbox/refunds?outTradeNo=${outTradeNo}`)).body.refunds;
const refundsOf = async (p: TestPaycenter, orderId: string) => (await p.api('GET', `/v1/orders/${orderId}/refunds`)).body.data;
const refund = (p: TestPaycenter, orderId: string, body: Record<string, unknown>) => p.api('POST', `/v1/orders/${orderId}/refunds`, body);
let refundCounter = 0;
const refundNo = () => `rf-${Date.now()}-${++refundCounter}`;
const eventsOf = async (p: TestPaycenter, orderId: string, type: string) =>
  (await p.db.pool.query('SELECT data FROM events WHERE order_id = $1 AND type = $2 ORDER BY sequence', [orderId, type])).rows.map((r) => r.data);

/** A PAID order of `amount`, paid through `channel`. */
const paid = (p: TestPaycenter, channel: string, method?: string, amount = 1000) => paidOrder(p, { channel, method, order: { amount } });

async function waitForRefund(p: TestPaycenter, orderId: string, refundId: string, timeoutMs = 10_000) {
  return waitFor(
    async () => (await refundsOf(p, orderId)).find((r: { id: string }) => r.id === refundId),
    (r) => r.state !== 'PENDING',
    timeoutMs,
  );
}

describe.each([
  ['wechatpay', undefined],
  ['alipay', 'qr'],
  ['unionpay', 'gateway'],
])('refunds through %s', (channel, method) => {
  it('a partial then the remaining refund succeed on the channel’s word; the order goes PARTIAL then FULL; the bank agrees', async () => {
    const { id, payment } = await paid(pc, channel, method);
    const first = await refund(pc, id, { amount: 300, merchantRefundNo: refundNo(), reason: 'one item returned' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ orderId: id, paymentId: payment.id, kind: 'merchant', amount: 300, state: 'PENDING' });
    expect((await waitForRefund(pc, id, first.body.id)).state).toBe('SUCCEEDED');
    expect((await getOrder(id)).refund).toEqual({ state: 'PARTIAL', refundedAmount: 300 });

    const rest = await refund(pc, id, { amount: 700, merchantRefundNo: refundNo() });
    expect(rest.status).toBe(201);
    expect((await waitForRefund(pc, id, rest.body.id)).state).toBe('SUCCEEDED');
    const order = await getOrder(id);
    expect(order.refund).toEqual({ state: 'FULL', refundedAmount: 1000 });
    expect(order.state).toBe('PAID');

    const bank = await bankRefunds(pc, payment.outTradeNo);
    expect(bank.filter((r) => r.state === 'succeeded').map((r) => r.amount).sort()).toEqual([300, 700]);
    const events = await eventsOf(pc, id, 'refund.succeeded');
    expect(events.map((e) => e.refund.amount)).toEqual([300, 700]);
    expect(events[1].order.refund.state).toBe('FULL');
    // Nothing is left to refund.
    const more = await refund(pc, id, { amount: 1, merchantRefundNo: refundNo() });
    expect(more.status).toBe(409);
    expect(more.body.error).toMatchObject({ code: 'refund_exceeds_paid', refundable: 0 });
  });

  it('twenty concurrent refunds that together exceed the paid amount: exactly those that fit succeed, and the bank agrees', async () => {
    const { id, payment } = await paid(pc, channel, method, 1000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => refund(pc, id, { amount: 70, merchantRefundNo: refundNo() })));
    const accepted = answers.filter((a) => a.status === 201);
    expect(accepted).toHaveLength(14);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.error.code === 'refund_exceeds_paid')).toBe(true);
    for (const a of accepted) expect((await waitForRefund(pc, id, a.body.id)).state).toBe('SUCCEEDED');
    const bank = await bankRefunds(pc, payment.outTradeNo);
    expect(bank.filter((r) => r.state === 'succeeded').reduce((sum, r) => sum + r.amount, 0)).toBe(980);
    expect((await getOrder(id)).refund).toEqual({ state: 'PARTIAL', refundedAmount: 980 });
  });
});

describe('refund requests', () => {
  it('are idempotent by merchantRefundNo: the same body answers the same refund, another body 409; one refund at the bank', async () => {
    const { id, payment } = await paid(pc, 'wechatpay');
    const no = refundNo();
    const answers = await Promise.all(Array.from({ length: 5 }, () => refund(pc, id, { amount: 100, merchantRefundNo: no })));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
    const other = await refund(pc, id, { amount: 101, merchantRefundNo: no });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('merchant_refund_no_exists');
    await waitForRefund(pc, id, answers[0]!.body.id);
    expect(await bankRefunds(pc, payment.outTradeNo)).toHaveLength(1);
  });

  it('refuse bad input with stable codes and store nothing', async () => {
    const unpaid = await pc.api('POST', '/v1/orders', orderBody());
    const notPaid = await refund(pc, unpaid.body.id, { amount: 1, merchantRefundNo: refundNo() });
    expect(notPaid.status).toBe(409);
    expect(notPaid.body.error.code).toBe('order_not_paid');
    expect((await refund(pc, 'ord_nothing', { amount: 1, merchantRefundNo: refundNo() })).status).toBe(404);
    const { id } = await paid(pc, 'wechatpay');
    for (const [body, field] of [
      [{ amount: 0, merchantRefundNo: refundNo() }, 'amount'],
      [{ amount: 1.5, merchantRefundNo: refundNo() }, 'amount'],
      [{ amount: 10, merchantRefundNo: 'has space' }, 'merchantRefundNo'],
      [{ amount: 10 }, 'merchantRefundNo'],
      [{ amount: 10, merchantRefundNo: refundNo(), reason: 'x'.repeat(81) }, 'reason'],
      [{ amount: 10, merchantRefundNo: refundNo(), extra: 1 }, 'extra'],
    ] as const) {
      const answer = await refund(pc, id, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'invalid_request', field });
    }
    const tooMuch = await refund(pc, id, { amount: 1001, merchantRefundNo: refundNo() });
    expect(tooMuch.body.error).toMatchObject({ code: 'refund_exceeds_paid', refundable: 1000 });
    expect(await refundsOf(pc, id)).toEqual([]);
    const { rows } = await pc.db.pool.query('SELECT refund_reserved_minor AS n FROM payment_attempts WHERE order_id = $1', [id]);
    expect(rows.map((r) => Number(r.n))).toEqual([0]);
  });

  it('with every refund notification lost, the refund query settles it', async () => {
    const { id } = await paid(pc, 'unionpay', 'gateway');
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    const r = await refund(pc, id, { amount: 50, merchantRefundNo: refundNo() });
    const done = await waitForRefund(pc, id, r.body.id);
    expect(done.state).toBe('SUCCEEDED');
    const settled = (await pc.timeline(id)).find((e) => e.entity === 'refund' && e.to === 'SUCCEEDED');
    expect(String(settled?.reason)).toMatch(/^query: /);
  });

  it('a refund the bank fails ends FAILED with refund.failed, and its amount can be refunded again', async () => {
    const { id, payment } = await paid(pc, 'alipay', 'qr');
    await pc.sandbox('POST', '/sandbox/refund-failures', { outTradeNo: payment.outTradeNo });
    const r = await refund(pc, id, { amount: 1000, merchantRefundNo: refundNo() });
    const failed = await waitForRefund(pc, id, r.body.id);
    expect(failed.state).toBe('FAILED');
    expect(failed.failureCode).toBeTruthy();
    expect(await eventsOf(pc, id, 'refund.failed')).toHaveLength(1);
    expect((await getOrder(id)).refund).toEqual({ state: 'NONE', refundedAmount: 0 });
    expect((await bankRefunds(pc, payment.outTradeNo)).every((b) => b.state !== 'succeeded')).toBe(true);
    // The hold was given back: the whole amount may be asked for again.
    expect((await refund(pc, id, { amount: 1000, merchantRefundNo: refundNo() })).status).toBe(201);
  });
});

describe('the refund sweeper', () => {
  it('restarts a PENDING refund whose job is gone, and the channel settles it', async () => {
    const { id, payment } = await paid(pc, 'wechatpay');
    // A refund whose job chain ended (the runner gave up after its attempts): the row without its job.
    const refundId = await withTransaction(pc.db.pool, async (tx) => {
      expect(await reserveRefund(tx, payment.id, 250)).toBe(true);
      const row = await insertRefund(
        tx,
        { id: newId('re'), orderId: id, attemptId: payment.id, appId: pc.running.appId, kind: 'merchant', merchantRefundNo: refundNo(), outRefundNo: newOutRefundNo(), amountMinor: 250, currency: 'CNY', reason: null },
        'planted without its job',
      );
      return row!.id;
    });
    const ctx = pc.running.ctx;
    expect(await sweepPendingRefunds(ctx)).toBe(0); // too young: its first job may still be coming
    expect(await sweepPendingRefunds({ ...ctx, now: () => new Date(Date.now() + 120_000) })).toBe(1);
    expect((await waitForRefund(pc, id, refundId)).state).toBe('SUCCEEDED');
    expect((await bankRefunds(pc, payment.outTradeNo)).map((r) => [r.amount, r.state])).toEqual([[250, 'succeeded']]);
  });
});

const pay = (p: TestPaycenter, id: string, channel: string, method?: string) =>
  p.api('POST', `/v1/orders/${id}/pay`, { channel, ...(method && { method }) });

describe('money that arrives twice or late', () => {
  it('a buyer paying one order through WeChat Pay and Alipay at once: one payment kept, the other refunded in full; the banks net to the amount', async () => {
    const order = await pc.api('POST', '/v1/orders', orderBody({ amount: 1000 }));
    const id = order.body.id;
    // An Alipay QR nobody scanned cannot be closed (CLOSING), so after the switch both can be paid.
    const alipay = (await pay(pc, id, 'alipay', 'qr')).body.payment;
    const wechat = (await pay(pc, id, 'wechatpay')).body.payment;
    const [a, w] = await Promise.all([buyerPays(pc.baseUrl, alipay), buyerPays(pc.baseUrl, wechat)]);
    expect([a.status, w.status]).toEqual([200, 200]);
    const settled = await waitFor(
      () => getOrder(id),
      (o) => o.state === 'PAID' && o.payments.filter((p: { state: string }) => p.state === 'SUCCEEDED').length === 2,
    );
    const refunds = await waitFor(() => refundsOf(pc, id), (rs) => rs.length === 1 && rs[0].state === 'SUCCEEDED');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ kind: 'duplicate', amount: 1000, state: 'SUCCEEDED', merchantRefundNo: null });
    const kept = settled.payments.find((p: { id: string }) => p.id !== refunds[0].paymentId);
    expect(refunds[0].paymentId).not.toBe(kept.id);
    expect(settled.refund.state).toBe('NONE');
    const dup = await eventsOf(pc, id, 'payment.duplicate_refunded');
    expect(dup).toHaveLength(1);
    expect(dup[0].refund.paymentId).toBe(refunds[0].paymentId);
    const collected = [alipay, wechat].length * 1000;
    const returned = [...(await bankRefunds(pc, alipay.outTradeNo)), ...(await bankRefunds(pc, wechat.outTradeNo))]
      .filter((r) => r.state === 'succeeded')
      .reduce((sum, r) => sum + r.amount, 0);
    expect(collected - returned).toBe(1000);
  });

  it('a payment after the order was closed is refunded in full (payment.late_refunded); the order stays CLOSED', async () => {
    const order = await pc.api('POST', '/v1/orders', orderBody({ amount: 1000 }));
    const id = order.body.id;
    const qr = (await pay(pc, id, 'alipay', 'qr')).body.payment;
    expect((await pc.api('POST', `/v1/orders/${id}/close`)).body.state).toBe('CLOSED');
    expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: qr.outTradeNo })).status).toBe(200);
    const refunds = await waitFor(() => refundsOf(pc, id), (rs) => rs.length === 1 && rs[0].state === 'SUCCEEDED');
    expect(refunds[0]).toMatchObject({ kind: 'late', amount: 1000, paymentId: qr.id });
    expect((await getOrder(id)).state).toBe('CLOSED');
    expect(await eventsOf(pc, id, 'payment.late_refunded')).toHaveLength(1);
    expect((await bankRefunds(pc, qr.outTradeNo)).map((r) => [r.amount, r.state])).toEqual([[1000, 'succeeded']]);
  });

  it('with PAYCENTER_LATE_PAYMENTS=accept a late payment reopens the order as PAID instead, and nothing is refunded', async () => {
    const accepting = await startTestPaycenter({ PAYCENTER_LATE_PAYMENTS: 'accept' });
    try {
      const order = await accepting.api('POST', '/v1/orders', orderBody({ amount: 1000 }));
      const id = order.body.id;
      const qr = (await pay(accepting, id, 'alipay', 'qr')).body.payment;
      expect((await accepting.api('POST', `/v1/orders/${id}/close`)).body.state).toBe('CLOSED');
      expect((await accepting.sandbox('POST', '/sandbox/pay', { outTradeNo: qr.outTradeNo })).status).toBe(200);
      const paid = await waitFor(() => accepting.getOrder(id), (o) => o.state === 'PAID');
      expect(paid.state).toBe('PAID');
      expect(await accepting.orderTransitions(id, 'CLOSED', 'PAID')).toHaveLength(1);
      expect(await refundsOf(accepting, id)).toEqual([]);
    } finally {
      await accepting.stop();
    }
  });
});
