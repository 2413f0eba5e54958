// Alipay (QR and page pay) and UnionPay (gateway) through HTTP against their sandboxes, in the
// scenarios WeChat Pay passes in payments.test.ts: every notification lost, every notification
// duplicated, forged notifications refused, expiry and merchant close at the channel first.
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { orderBody, paycenterPerFile, waitFor } from '../helpers/paycenter.ts';
import { expectCloseRevealsPayment, expectPaidOnceDespiteDuplicates, expectPaidThroughQuery } from '../helpers/payment-checks.ts';
import { buyerPays, openCashier } from '../../src/harness/buyer.ts';
import { forgeAlipayNotification, readAlipayForgeKeys, type AlipayForgeKeys } from '../../src/chaos/forge-alipay.ts';
import { forgeUnionpayNotification, readUnionpayForgeKeys, strangerCertificate, type UnionpayForgeKeys } from '../../src/chaos/forge-unionpay.ts';
import { getSetting } from '../../src/store/settings.ts';

/** A key the bank does not have. */
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const stranger = strangerCertificate();

const pc = paycenterPerFile();
const { getOrder, waitForState, timeline, ledger } = pc;
let alipayKeys: AlipayForgeKeys;
let unionpayKeys: UnionpayForgeKeys;
beforeAll(async () => {
  const alipay = await getSetting<{ appId: string; sellerId: string }>(pc.db.pool, 'sandbox.alipay.merchant');
  alipayKeys = await readAlipayForgeKeys(pc.db.pool, alipay!);
  const unionpay = await getSetting<{ merId: string }>(pc.db.pool, 'sandbox.unionpay.merchant');
  unionpayKeys = await readUnionpayForgeKeys(pc.db.pool, unionpay!);
});

type Forger = (o: { outTradeNo: string; amount: number }) => { headers: Record<string, string>; body: string };

interface ChannelCase {
  channel: string;
  method: string;
  action: string;
  /** Each forgery and the reason Paycenter must refuse it with. */
  forgeries: [string, Forger, string][];
}

const alipayForgeries: ChannelCase['forgeries'] = [
  ['a bad signature', (o) => forgeAlipayNotification(alipayKeys, { ...o, wrongSigningKey: strangerKey }), 'bad_signature'],
  ['a wrong amount', (o) => forgeAlipayNotification(alipayKeys, { ...o, amount: o.amount - 1 }), 'amount_mismatch'],
  ['another seller', (o) => forgeAlipayNotification(alipayKeys, { ...o, sellerId: '2088999999999999' }), 'wrong_merchant'],
  ['another app', (o) => forgeAlipayNotification(alipayKeys, { ...o, appId: '2021999999999999' }), 'wrong_app'],
  ['an unknown order', (o) => forgeAlipayNotification(alipayKeys, { ...o, outTradeNo: 'pcunknownorder000000000000000000' }), 'unknown_order'],
];

const CASES: ChannelCase[] = [
  { channel: 'alipay', method: 'qr', action: 'qr_code', forgeries: alipayForgeries },
  { channel: 'alipay', method: 'page', action: 'redirect', forgeries: alipayForgeries },
  {
    channel: 'unionpay',
    method: 'gateway',
    action: 'form_post',
    forgeries: [
      ['a bad signature', (o) => forgeUnionpayNotification(unionpayKeys, { ...o, wrongSigningKey: strangerKey }), 'bad_signature'],
      [
        'a certificate not issued by UnionPay',
        (o) => forgeUnionpayNotification(unionpayKeys, { ...o, wrongCertPem: stranger.certPem, wrongSigningKey: stranger.privateKey }),
        'bad_certificate',
      ],
      ['a wrong amount', (o) => forgeUnionpayNotification(unionpayKeys, { ...o, amount: o.amount + 1 }), 'amount_mismatch'],
      ['another merchant', (o) => forgeUnionpayNotification(unionpayKeys, { ...o, merId: '777999999999999' }), 'wrong_merchant'],
      ['an unknown order', (o) => forgeUnionpayNotification(unionpayKeys, { ...o, outTradeNo: 'pcunknownorder000000000000000000' }), 'unknown_order'],
    ],
  },
];

describe.each(CASES)('$channel $method', ({ channel, method, action, forgeries }) => {
  async function newPayingOrder(overrides: Record<string, unknown> = {}) {
    const order = await pc.api('POST', '/v1/orders', orderBody(overrides));
    expect(order.status).toBe(201);
    const pay = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel, method });
    expect(pay.status).toBe(200);
    return { id: order.body.id as string, payment: pay.body.payment };
  }

  it('answers its pay action; concurrent pay calls share one attempt', async () => {
    const order = await pc.api('POST', '/v1/orders', orderBody());
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel, method })),
    );
    for (const a of answers) expect(a.status).toBe(200);
    expect(new Set(answers.map((a) => a.body.payment.id)).size).toBe(1);
    const payment = answers[0]!.body.payment;
    expect(payment).toMatchObject({ channel, method, state: 'PENDING', amount: 1999 });
    expect(payment.action.type).toBe(action);
  });

  it('becomes PAID through the verified notification', async () => {
    const { id, payment } = await newPayingOrder();
    expect((await buyerPays(pc.baseUrl, payment)).status).toBe(200);
    const order = await waitForState(id, 'PAID');
    expect(order.state).toBe('PAID');
    expect(order.payments[0].channelTradeNo).toBe((await ledger(payment.outTradeNo)).transactionId);
    const notifications = (await timeline(id)).filter((e) => e.kind === 'notification');
    expect(notifications[0]).toMatchObject({ verified: true, outcome: 'paid' });
  });

  it('with every notification dropped, becomes PAID through the active query', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    const { id, payment } = await newPayingOrder();
    await buyerPays(pc.baseUrl, payment);
    await expectPaidThroughQuery(pc, id, payment.outTradeNo);
  });

  it('with every notification duplicated, shows exactly one PAYING→PAID and one order.paid', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { duplicateNotifications: true });
    const { id, payment } = await newPayingOrder();
    await buyerPays(pc.baseUrl, payment);
    await expectPaidOnceDespiteDuplicates(pc, id, payment.outTradeNo);
  });

  it.each(forgeries)('refuses a forged notification with %s: 4xx, stored with its reason, order unchanged', async (_name, forge, reason) => {
    const { id, payment } = await newPayingOrder();
    const forged = forge({ outTradeNo: payment.outTradeNo, amount: 1999 });
    const res = await fetch(`${pc.baseUrl}/notify/${channel}`, { method: 'POST', headers: forged.headers, body: forged.body });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('fail');
    const { rows } = await pc.db.pool.query('SELECT verified, refusal_reason FROM notifications WHERE body = $1', [forged.body]);
    expect(rows).toEqual([{ verified: false, refusal_reason: reason }]);
    const order = await getOrder(id);
    expect(order.state).toBe('PAYING');
    expect(order.payments[0].state).toBe('PENDING');
  });

  it('an expired order is closed at the channel before it is CLOSED here; the buyer can no longer pay', async () => {
    const { id, payment } = await newPayingOrder({ expiresInSeconds: 2 });
    if (payment.action.type !== 'qr_code') expect(await openCashier(payment.action)).toBe(200);
    const order = await waitForState(id, 'CLOSED', 15_000);
    expect(order.state).toBe('CLOSED');
    // Before the order closed, Paycenter closed the trade at the channel, or heard from the
    // channel that it had closed it itself (Alipay closes a trade past its time_expire).
    const closing = (await timeline(id)).filter(
      (e) => e.kind === 'channel_call' && (e.operation === 'close' || (e.operation === 'query' && e.outcome === 'closed')),
    );
    expect(closing.length).toBeGreaterThan(0);
    expect(Date.parse(String(closing[0]!.at))).toBeLessThanOrEqual(Date.parse(order.closedAt));
    const buyer = await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: payment.outTradeNo });
    expect(buyer.status).toBe(409);
    const final = await waitFor(() => getOrder(id), (o) => o.payments[0].state === 'CLOSED', 15_000);
    expect(final.payments[0].state).toBe('CLOSED');
    // An Alipay QR code nobody scanned never became a trade at the bank.
    const trade = await ledger(payment.outTradeNo);
    if (trade || method !== 'qr') expect(trade.state).toBe('closed');
  });

  it('a close that reveals a payment makes the order PAID', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    await expectCloseRevealsPayment({ channel, method });
  });
});

describe('returnUrl: where a redirect method sends the buyer back', () => {
  const attemptsOf = async (orderId: string) =>
    Number((await pc.db.pool.query('SELECT count(*) AS n FROM payment_attempts WHERE order_id = $1', [orderId])).rows[0].n);

  it("is signed into Alipay's page-pay URL and UnionPay's form, kept when the payment is reused", async () => {
    const returnUrl = 'https://shop.example.com/orders/42?from=pay';
    const alipayOrder = (await pc.api('POST', '/v1/orders', orderBody())).body.id;
    const alipay = await pc.api('POST', `/v1/orders/${alipayOrder}/pay`, { channel: 'alipay', method: 'page', returnUrl });
    expect(alipay.status).toBe(200);
    expect(new URL(alipay.body.payment.action.url).searchParams.get('return_url')).toBe(returnUrl);
    const again = await pc.api('POST', `/v1/orders/${alipayOrder}/pay`, { channel: 'alipay', method: 'page', returnUrl: 'https://other.example.com/' });
    expect(again.body.payment.id).toBe(alipay.body.payment.id);
    expect(again.body.payment.action).toEqual(alipay.body.payment.action);

    const unionpayOrder = (await pc.api('POST', '/v1/orders', orderBody())).body.id;
    const unionpay = await pc.api('POST', `/v1/orders/${unionpayOrder}/pay`, { channel: 'unionpay', returnUrl });
    expect(unionpay.status).toBe(200);
    expect(unionpay.body.payment.action.fields.frontUrl).toBe(returnUrl);
  });

  it.each([
    [{ channel: 'wechatpay', returnUrl: 'https://shop.example.com/' }, 'returnUrl applies only to redirect methods'],
    [{ channel: 'alipay', method: 'qr', returnUrl: 'https://shop.example.com/' }, 'returnUrl applies only to redirect methods'],
    [{ channel: 'alipay', method: 'page', returnUrl: '/orders/1' }, 'returnUrl must be an absolute URL'],
    [{ channel: 'unionpay', returnUrl: 'javascript:alert(1)' }, 'returnUrl must be an http or https URL'],
    [{ channel: 'unionpay', returnUrl: `https://shop.example.com/${'x'.repeat(250)}` }, 'returnUrl must NOT have more than 256 characters'],
  ])('refuses %j with 400 and opens nothing', async (body, message) => {
    const orderId = (await pc.api('POST', '/v1/orders', orderBody())).body.id;
    const res = await pc.api('POST', `/v1/orders/${orderId}/pay`, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', field: 'returnUrl' });
    expect(res.body.error.message).toContain(message);
    expect(await attemptsOf(orderId)).toBe(0);
    expect((await pc.getOrder(orderId)).state).toBe('CREATED');
  });
});
