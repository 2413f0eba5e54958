// The console's dashboard, order search, order page and order actions over HTTP, as a browser
// without JavaScript uses them, against a real Paycenter and its sandbox. The first query is 10
// minutes away and the exception queries too, so only the operator's action can settle what the
// tests leave unsettled (an order expiring in 2 s still has its first query at its expiry).
import { beforeAll, describe, expect, it } from 'vitest';
import { orderBody, paycenterPerFile, sleep, waitFor } from '../helpers/paycenter.ts';
import { csrfOf, signInConsole, type ConsoleClient } from '../helpers/console-client.ts';
import { paidOrder as paidOrderOf, payingOrder as payingOrderOf } from '../helpers/orders.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { buyerPays } from '../../src/harness/buyer.ts';
import { createOperator } from '../../src/services/operators.ts';
import { beijingDate } from '../../src/domain/reconciliation.ts';

const pc = paycenterPerFile({ PAYCENTER_QUERY_SCHEDULE: '600000', PAYCENTER_EXCEPTION_QUERY_INTERVAL_MS: '600000' });
const VIEWER_PASSWORD = 'viewer-password-long-enough';
let admin: ConsoleClient;
let viewer: ConsoleClient;

beforeAll(async () => {
  admin = await signInConsole(pc.baseUrl);
  await createOperator(pc.db.pool, { username: 'vera', role: 'viewer', password: VIEWER_PASSWORD });
  viewer = await signInConsole(pc.baseUrl, 'vera', VIEWER_PASSWORD);
});

/** Alipay by QR code, which needs no browser to pay. */
const payingOrder = (order: Record<string, unknown> = {}, channel = 'wechatpay') =>
  payingOrderOf(pc, { channel, order, ...(channel === 'alipay' && { method: 'qr' }) });
const paidOrder = (order: Record<string, unknown> = {}, channel = 'wechatpay') =>
  paidOrderOf(pc, { channel, order, ...(channel === 'alipay' && { method: 'qr' }) });

const orderIdsOn = (html: string) => [...html.matchAll(/<a class="mono" href="\/console\/orders\/(ord_[^"]+)"/g)].map((m) => m[1]);
const actionsOf = async (orderId: string) =>
  (await pc.db.pool.query('SELECT username, action, target, note, outcome FROM operator_actions WHERE order_id = $1 ORDER BY id', [orderId])).rows;
const stateOf = async (id: string) => (await pc.getOrder(id)).state as string;
/** An action answered done: 303 back to the order page with a notice. */
function expectDone(res: { status: number; location: string | null; html: string }, orderId: string) {
  expect(res.status, res.html.slice(0, 2000)).toBe(303);
  expect(res.location).toMatch(new RegExp(`^/console/orders/${orderId}\\?notice=`));
}
function expectRefused(res: { status: number; html: string }, status: number, code: string) {
  expect(res.status, res.html.slice(0, 2000)).toBe(status);
  expect(res.html).toContain(`error: ${code}`);
}

describe('the dashboard', () => {
  it('counts orders by state, each a link to the list, and draws the last 24 hours with a table alternative', async () => {
    await payingOrder();
    const page = await admin.get('/console');
    expect(page.status).toBe(200);
    const { rows } = await pc.db.pool.query("SELECT count(*)::int AS n FROM orders WHERE state = 'PAYING'");
    expect(page.html).toMatch(new RegExp(`href="/console/orders\\?state=PAYING"><span class="n">${rows[0].n}</span>PAYING`));
    for (const link of ['/console/orders?state=EXCEPTION', '/console/notifications', '/console/events?delivery=dead', '/console/reconciliations']) {
      expect(page.html).toContain(`href="${link}"`);
    }
    expect(page.html).toContain('PAYING past their first query (older than 600 s)');
    expect(page.html).toMatch(/<svg viewBox="0 0 720 180" aria-hidden="true"/);
    expect(page.html).toContain('<caption>Orders created per hour, last 24 hours (UTC)</caption>');
    expect(page.html).not.toMatch(/style="/);
  });
});

describe('the order search', () => {
  it('finds by merchantOrderNo, customerId, state, channel and creation dates; an exact id opens the order', async () => {
    const customerId = `cust-${Date.now()}`;
    const created = await pc.api('POST', '/v1/orders', orderBody({ customerId }));
    const wechat = await payingOrder({ customerId });
    const alipay = await paidOrder({ customerId }, 'alipay');
    const search = async (query: string) => {
      const page = await admin.get(`/console/orders?${query}`);
      expect(page.status, page.html.slice(0, 1000)).toBe(200);
      return orderIdsOn(page.html);
    };
    expect(await search(`merchantOrderNo=${encodeURIComponent(created.body.merchantOrderNo)}`)).toEqual([created.body.id]);
    expect(await search(`customerId=${customerId}`)).toEqual([alipay.id, wechat.id, created.body.id]);
    expect(await search(`customerId=${customerId}&state=PAYING`)).toEqual([wechat.id]);
    expect(await search(`customerId=${customerId}&channel=alipay`)).toEqual([alipay.id]);
    expect(await search('state=PAID')).toContain(alipay.id);
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect(await search(`customerId=${customerId}&from=${today}&to=${today}`)).toHaveLength(3);
    expect(await search(`customerId=${customerId}&to=${yesterday}`)).toEqual([]);

    const jump = await admin.get(`/console/orders?id=${wechat.id}`);
    expect(jump.status).toBe(303);
    expect(jump.location).toBe(`/console/orders/${wechat.id}`);
    const missing = await admin.get('/console/orders?id=ord_nosuchorder');
    expect(missing.status).toBe(404);
    expect(missing.html).toContain('No order ord_nosuchorder.');
    for (const bad of ['state=LOST', 'channel=paypal', 'from=2024-02-30', 'after=garbage']) {
      const page = await admin.get(`/console/orders?${bad}`);
      expect(page.status, bad).toBe(400);
      expect(page.html).toContain('(invalid_request)');
    }
  });

  it('pages 50 at a time, newest first, with an Older link carrying the cursor: no gap, no repeat', async () => {
    const customerId = `many-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 53; i++) ids.push((await pc.api('POST', '/v1/orders', orderBody({ customerId }))).body.id);
    const first = await admin.get(`/console/orders?customerId=${customerId}`);
    expect(orderIdsOn(first.html)).toEqual(ids.slice(-50).reverse());
    const older = /<a href="([^"]+)" rel="next">Older →<\/a>/.exec(first.html);
    expect(older).not.toBeNull();
    const next = await admin.get(older![1]!.replaceAll('&amp;', '&'));
    expect(orderIdsOn(next.html)).toEqual(ids.slice(0, 3).reverse());
    expect(next.html).not.toContain('Older →');
    expect(next.html).toContain('← Newest');
  });
});

describe('the order page', () => {
  it('tells the status in words, shows facts, payments and one timeline with masked notification evidence', async () => {
    const { id, payment } = await paidOrder({ customerId: 'cust-page' });
    const { html } = await admin.get(`/console/orders/${id}`);
    expect(html).toMatch(/Paid at \d\d:\d\d UTC through WeChat Pay — notification verified at \d\d:\d\d UTC\./);
    expect(html).toContain('19.99 CNY');
    expect(html).toContain('cust-page');
    // The timeline: the attempt opened, the channel's create, the verified notification, the order's transitions, the event.
    expect(html).toContain(`<strong>Payment</strong> <span class="mono">${payment.id}</span> opened: WeChat Pay native, outTradeNo <span class="mono">${payment.outTradeNo}</span>`);
    expect(html).toMatch(/<strong>WeChat Pay create<\/strong>.*→ created/);
    expect(html).toMatch(/<strong>Notification from WeChat Pay<\/strong>: verified, paid/);
    expect(html).toMatch(/<strong>Order<\/strong> <span class="badge PAYING">PAYING<\/span> → <span class="badge PAID">PAID<\/span>/);
    expect(html).toMatch(/<strong>Event order.paid<\/strong> #\d/);
    // The evidence, masked: the real signature header and ciphertext never reach the page.
    const { rows } = await pc.db.pool.query('SELECT headers, body FROM notifications WHERE order_id = $1 AND verified', [id]);
    const signature = rows[0].headers['wechatpay-signature'] as string;
    expect(html).toContain(`wechatpay-signature: ${signature.slice(0, 6)}…(masked)`);
    expect(html).not.toContain(signature);
    const ciphertext = JSON.parse(rows[0].body).resource.ciphertext as string;
    expect(html).not.toContain(ciphertext);
    expect(html).toContain(`&quot;ciphertext&quot;: &quot;${ciphertext.slice(0, 16)}…(${ciphertext.length} characters)&quot;`);

    expectRefused(await admin.get('/console/orders/ord_nosuchorder'), 404, 'not_found');
  });

  it('counts refused notifications as possible forgery, with their evidence masked too', async () => {
    const { id, payment } = await paidOrder({}, 'alipay');
    const forged = new URLSearchParams({
      notify_id: 'forged-notify-1',
      out_trade_no: payment.outTradeNo,
      trade_status: 'TRADE_SUCCESS',
      total_amount: '19.99',
      buyer_id: '2088102177846880',
      sign_type: 'RSA2',
      sign: 'Rk9SR0VEU0lHTkFUVVJF',
    });
    const answer = await fetch(`${pc.baseUrl}/notify/alipay`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: forged.toString() });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    const { html } = await admin.get(`/console/orders/${id}`);
    expect(html).toMatch(/Paid at \d\d:\d\d UTC through Alipay — notification verified/);
    expect(html).toMatch(/Refused notifications: 1 \(possible forgery\) — the last at \d\d:\d\d UTC: [a-z_]+\./);
    expect(html).toMatch(/<li class="refused">.*<strong>Notification from Alipay<\/strong>: <span class="badge refused">refused<\/span>/);
    expect(html).toContain('sign=Rk9SR0…(masked)');
    expect(html).toContain('buyer_id=****6880');
    expect(html).not.toContain('Rk9SR0VEU0lHTkFUVVJF');
    expect(html).not.toContain('2088102177846880');
    const { rows } = await pc.db.pool.query('SELECT body FROM notifications WHERE order_id = $1 AND verified', [id]);
    const real = new URLSearchParams(rows[0].body);
    expect(html).not.toContain(real.get('sign')!);
    expect(html).not.toContain(real.get('buyer_id')!);
  });
});

describe('order actions', () => {
  it('query now: a PAYING order whose notifications were all dropped turns PAID, and the timeline says who and why', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    const { id, payment } = await payingOrder();
    expect((await buyerPays(pc.baseUrl, payment)).status).toBe(200);
    await sleep(300);
    expect(await stateOf(id)).toBe('PAYING');
    const before = await admin.get(`/console/orders/${id}`);
    expect(before.html).toContain('No notification has arrived from WeChat Pay about this payment.');
    expect(before.html).toContain('<button type="submit">Query channel</button>');

    const res = await admin.post(`/console/orders/${id}/query`, { note: 'buyer sent a bank receipt' });
    expectDone(res, id);
    expect(decodeURIComponent(res.location!)).toContain('Asked the channel about 1 payment: the order is PAID.');
    expect(await stateOf(id)).toBe('PAID');
    expect(await actionsOf(id)).toEqual([{ username: 'admin', action: 'query_channel', target: null, note: 'buyer sent a bank receipt', outcome: 'done' }]);
    const after = await admin.get(res.location!);
    expect(after.html).toContain('Asked the channel about 1 payment: the order is PAID.');
    expect(after.html).toContain('confirmed by WeChat Pay&#39;s answer to a query');
    expect(after.html).toMatch(/<li class="operator">.*<strong>Operator admin<\/strong>: query channel — “buyer sent a bank receipt” → done/);
  });

  it('close: a PAYING order is closed at the channel first; an order closed by the console names the operator and the note', async () => {
    const { id, payment } = await payingOrder();
    expectDone(await admin.post(`/console/orders/${id}/close`, { note: 'customer cancelled by phone' }), id);
    expect(await stateOf(id)).toBe('CLOSED');
    expect((await pc.ledger(payment.outTradeNo)).closedAt).not.toBeNull();
    // The channel's confirmation of the close is what closed this order; the console's record says who asked and why.
    expect(await pc.orderTransitions(id, 'PAYING', 'CLOSED')).toHaveLength(1);
    expect(await actionsOf(id)).toEqual([{ username: 'admin', action: 'close_order', target: null, note: 'customer cancelled by phone', outcome: 'done' }]);

    const created = (await pc.api('POST', '/v1/orders', orderBody())).body.id as string;
    expectDone(await admin.post(`/console/orders/${created}/close`, { note: 'duplicate order by the shop' }), created);
    const closed = await pc.orderTransitions(created, 'CREATED', 'CLOSED');
    expect(closed.map((t) => t.reason)).toEqual(['closed by operator admin: duplicate order by the shop']);
    expect((await admin.get(`/console/orders/${created}`)).html).toContain('Closed at');
    expectRefused(await admin.post(`/console/orders/${(await paidOrder()).id}/close`, { note: 'too late' }), 409, 'order_paid');
  });

  it('refund: yuan become fen, one refund per form even sent twice; bad amounts are refused with nothing stored', async () => {
    const { id } = await paidOrder({ amount: 1000 });
    const page = await admin.get(`/console/orders/${id}`);
    const refundNo = /name="refundNo" value="([^"]+)"/.exec(page.html)![1]!;
    expect(refundNo).toMatch(/^console-admin-/);
    const form = { refundNo, amount: '3.5', note: 'one cup arrived broken' };
    expectDone(await admin.post(`/console/orders/${id}/refund`, form), id);
    expectDone(await admin.post(`/console/orders/${id}/refund`, form), id);
    const refunds = await waitFor(
      async () => (await pc.api('GET', `/v1/orders/${id}/refunds`)).body.data,
      (r) => r[0]?.state === 'SUCCEEDED',
    );
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: 350, merchantRefundNo: refundNo, reason: 'one cup arrived broken', state: 'SUCCEEDED' });
    expect((await admin.get(`/console/orders/${id}`)).html).toMatch(/<td class="num">3.50 CNY<\/td><td><span class="badge SUCCEEDED">/);

    const actions = (await actionsOf(id)).length;
    for (const amount of ['', 'abc', '1.234', '-1', '0', '0.00', '1e3', '12,5']) {
      expectRefused(await admin.post(`/console/orders/${id}/refund`, { amount, note: 'typo test' }), 400, 'invalid_request');
    }
    expectRefused(await admin.post(`/console/orders/${id}/refund`, { amount: '1.00', note: ' ' }), 400, 'invalid_request');
    expect((await pc.api('GET', `/v1/orders/${id}/refunds`)).body.data).toHaveLength(1);
    expect(await actionsOf(id)).toHaveLength(actions);
    // Beyond what is left: refused by the refund flow, and the refusal is on record.
    expectRefused(await admin.post(`/console/orders/${id}/refund`, { amount: '9.51', note: 'too much' }), 409, 'refund_exceeds_paid');
    expect((await actionsOf(id)).at(-1)).toMatchObject({ action: 'refund', outcome: 'refund_exceeds_paid' });
  });

  it('redeliver: the event goes to the receiver again; an event of another order is not found', async () => {
    const receiver = await startReceiver();
    const endpoint = await pc.api('POST', '/v1/webhook-endpoints', { url: receiver.url, events: ['order.paid'] });
    expect(endpoint.status).toBe(201);
    try {
      const { id } = await paidOrder();
      const other = await paidOrder();
      const { rows } = await pc.db.pool.query("SELECT id FROM events WHERE order_id = $1 AND type = 'order.paid'", [id]);
      const eventId = rows[0].id as string;
      await waitFor(async () => receiver.requests.filter((r) => r.id === eventId).length, (n) => n === 1);
      const page = await admin.get(`/console/orders/${id}`);
      expect(page.html).toMatch(/webhook <span class="mono">http:\/\/127.0.0.1:\d+\/webhooks<\/span>: <span class="badge delivered">delivered<\/span>/);
      expect(page.html).toContain(`action="/console/orders/${id}/events/${eventId}/redeliver"`);

      expectDone(await admin.post(`/console/orders/${id}/events/${eventId}/redeliver`, { note: 'merchant lost it' }), id);
      const received = await waitFor(async () => receiver.requests.filter((r) => r.id === eventId).length, (n) => n === 2);
      expect(received).toBe(2);
      expect((await actionsOf(id)).at(-1)).toMatchObject({ action: 'redeliver_event', target: eventId, outcome: 'done' });
      expectRefused(await admin.post(`/console/orders/${other.id}/events/${eventId}/redeliver`, { note: 'wrong order' }), 404, 'not_found');
    } finally {
      await pc.api('DELETE', `/v1/webhook-endpoints/${endpoint.body.id}`);
      await receiver.close();
    }
  });

  it('resolve: an EXCEPTION never paid is settled by the channel’s word, here CLOSED; a PAID order is not an exception', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { queryErrorRate: 1, closeErrorRate: 1 });
    const { id } = await payingOrder({ expiresInSeconds: 2 });
    expect((await pc.waitForState(id, 'EXCEPTION', 15_000)).state).toBe('EXCEPTION');
    const page = await admin.get(`/console/orders/${id}`);
    expect(page.html).toContain('Needs an operator: query schedule exhausted with the payment unresolved.');
    expect(page.html).toContain('<button type="submit">Resolve exception</button>');
    // The channel still does not answer: nothing is decided without its word.
    expectRefused(await admin.post(`/console/orders/${id}/resolve`, { note: 'buyer says never paid' }), 502, 'channel_unavailable');
    expect(await stateOf(id)).toBe('EXCEPTION');
    await pc.sandbox('DELETE', '/sandbox/faults');
    expectDone(await admin.post(`/console/orders/${id}/resolve`, { note: 'buyer says never paid' }), id);
    expect(await stateOf(id)).toBe('CLOSED');
    expect((await actionsOf(id)).map((a) => a.outcome)).toEqual(['channel_unavailable', 'done']);

    const paid = await paidOrder();
    expectRefused(await admin.post(`/console/orders/${paid.id}/resolve`, { note: 'just checking' }), 409, 'order_not_exception');
    expect(await stateOf(paid.id)).toBe('PAID');
  });

  it('resolve: an EXCEPTION paid while the channel cannot confirm it is refused (take it up with the channel); PAID once the channel confirms', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true, queryErrorRate: 1, closeErrorRate: 1 });
    const { id, payment } = await payingOrder({ expiresInSeconds: 2 });
    expect((await buyerPays(pc.baseUrl, payment)).status).toBe(200);
    expect((await pc.waitForState(id, 'EXCEPTION', 15_000)).state).toBe('EXCEPTION');
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    expectDone(await admin.post(`/console/orders/${id}/resolve`, { note: 'buyer shows a receipt' }), id);
    expect(await stateOf(id)).toBe('PAID');
  });

  it('resolve: the reconciliation’s EXCEPTION (paid here, missing from the bill) stays until the channel confirms it', async () => {
    const { id, payment } = await paidOrder();
    await pc.sandbox('DELETE', '/sandbox/bill-plants');
    const plant = { channel: 'wechatpay', date: beijingDate(new Date()), plant: { type: 'omit_payment', outTradeNo: payment.outTradeNo } };
    expect((await pc.sandbox('POST', '/sandbox/bill-plants', plant)).status).toBe(201);
    const report = await pc.api('POST', '/v1/reconciliations', { channel: 'wechatpay', date: beijingDate(new Date()) });
    expect(report.status, JSON.stringify(report.body)).toBe(201);
    expect(await stateOf(id)).toBe('EXCEPTION');
    // The channel does not answer queries now: its word cannot be had.
    await pc.sandbox('PUT', '/sandbox/faults', { queryErrorRate: 1 });
    expect((await admin.get(`/console/orders/${id}`)).html).toContain('but WeChat Pay does not confirm the payment');
    const refused = await admin.post(`/console/orders/${id}/resolve`, { note: 'merchant asks to close it' });
    expectRefused(refused, 409, 'exception_unresolved');
    expect(refused.html).toContain('take it up with the channel');
    expect(await stateOf(id)).toBe('EXCEPTION');
    await pc.sandbox('DELETE', '/sandbox/faults');
    expectDone(await admin.post(`/console/orders/${id}/resolve`, { note: 'channel support confirmed it' }), id);
    expect(await stateOf(id)).toBe('PAID');
    expect((await actionsOf(id)).map((a) => a.outcome)).toEqual(['exception_unresolved', 'done']);
    await pc.sandbox('DELETE', '/sandbox/bill-plants');
  });
});

describe('who may act', () => {
  it('a viewer sees no action form and gets 403 forbidden on every action; nothing changes, nothing is recorded', async () => {
    const paying = await payingOrder();
    const paid = await paidOrder();
    const page = await viewer.get(`/console/orders/${paying.id}`);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('<textarea');
    expect(page.html).not.toMatch(/action="\/console\/orders\/[^"]+\/(query|close|refund|resolve)"/);
    expect(page.html).toContain('Your role (viewer) may look at orders but not act on them.');
    const { rows } = await pc.db.pool.query("SELECT id FROM events WHERE order_id = $1 AND type = 'order.paid'", [paid.id]);
    const posts: [string, Record<string, string>][] = [
      [`/console/orders/${paying.id}/query`, { note: 'peek' }],
      [`/console/orders/${paying.id}/close`, { note: 'peek' }],
      [`/console/orders/${paid.id}/refund`, { amount: '1.00', note: 'peek' }],
      [`/console/orders/${paid.id}/events/${rows[0].id}/redeliver`, { note: 'peek' }],
      [`/console/orders/${paying.id}/resolve`, { note: 'peek' }],
    ];
    for (const [path, form] of posts) expectRefused(await viewer.post(path, form), 403, 'forbidden');
    expect(await stateOf(paying.id)).toBe('PAYING');
    expect(await stateOf(paid.id)).toBe('PAID');
    expect((await pc.api('GET', `/v1/orders/${paid.id}/refunds`)).body.data).toEqual([]);
    expect(await actionsOf(paying.id)).toEqual([]);
    expect(await actionsOf(paid.id)).toEqual([]);
  });

  it('a POST without the CSRF token, or with a wrong one, is refused 403 csrf_refused; nothing changes', async () => {
    const { id } = await payingOrder();
    const wrong = await admin.post(`/console/orders/${id}/close`, { _csrf: 'not-the-token', note: 'forged' });
    expectRefused(wrong, 403, 'csrf_refused');
    const missing = await fetch(`${pc.baseUrl}/console/orders/${id}/close`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ note: 'forged' }).toString(),
      redirect: 'manual',
    });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('error: csrf_refused');
    // The page's own token still works for the admin, so the refusals were about the token alone.
    expect(csrfOf((await admin.get(`/console/orders/${id}`)).html)).toBe(admin.csrfToken);
    expect(await stateOf(id)).toBe('PAYING');
    expect(await actionsOf(id)).toEqual([]);
  });
});
