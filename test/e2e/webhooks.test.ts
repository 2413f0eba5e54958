// G4 through webhooks, against real HTTP receivers: retries until acknowledged, one effect per
// event through the client kit's inbox, Standard Webhooks signatures checked by the independent
// `standardwebhooks` package, dead deliveries redelivered, 410 Gone, Retry-After, the event feed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createInbox, createPaycenterClient } from '../../src/client/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { TEST_API_KEY, orderBody, startTestPaycenter, waitFor, withUninformedPaycenter, type TestPaycenter } from '../helpers/paycenter.ts';

const SCHEDULE = '100,100,100,100,100';
const TIMEOUT_MS = 700;

let pc: TestPaycenter;
let business: TestDatabase;
const receivers: Receiver[] = [];

beforeAll(async () => {
  pc = await startTestPaycenter({ PAYCENTER_DELIVERY_SCHEDULE: SCHEDULE, PAYCENTER_DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS) });
  business = await createTestDatabase();
  await business.pool.query('CREATE TABLE shipments (order_id text NOT NULL, event_id text NOT NULL)');
});
afterAll(async () => {
  for (const r of receivers) await r.close();
  await pc?.stop();
  await business?.drop();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

async function addEndpoint(url: string, events?: string[]): Promise<{ id: string; secret: string }> {
  const res = await pc.api('POST', '/v1/webhook-endpoints', { url, ...(events ? { events } : {}) });
  expect(res.status).toBe(201);
  return res.body;
}

async function paidOrder(): Promise<string> {
  const order = await pc.api('POST', '/v1/orders', orderBody());
  const pay = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
  expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: pay.body.payment.outTradeNo })).status).toBe(200);
  await waitFor(
    async () => (await pc.api('GET', `/v1/orders/${order.body.id}`)).body.state,
    (s) => s === 'PAID',
  );
  return order.body.id;
}

async function eventOf(orderId: string, type: string): Promise<string> {
  const { rows } = await pc.db.pool.query('SELECT id FROM events WHERE order_id = $1 AND type = $2', [orderId, type]);
  expect(rows).toHaveLength(1);
  return rows[0].id;
}

/** The event's delivery to one endpoint (other tests' endpoints may get the same event). */
async function deliveryTo(eventId: string, endpointId: string) {
  const event = await pc.api('GET', `/v1/events/${eventId}`);
  expect(event.status).toBe(200);
  return event.body.deliveries.find((d: { endpointId: string }) => d.endpointId === endpointId);
}

async function deleteEndpoint(id: string): Promise<void> {
  expect((await pc.api('DELETE', `/v1/webhook-endpoints/${id}`)).status).toBe(204);
}

describe('webhook delivery', () => {
  it('500 three times, then a timeout, then 2xx: one applied effect per event, every signature valid', async () => {
    const inbox = createInbox({
      pool: business.pool,
      handler: async (event, tx) => {
        await tx.query('INSERT INTO shipments (order_id, event_id) VALUES ($1, $2)', [event.data.order.id, event.id]);
      },
    });
    await inbox.ensureTable();
    let secret = '';
    const verified: boolean[] = [];
    const r = await receiver(async (req) => {
      try {
        new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
        verified.push(true);
      } catch {
        verified.push(false);
      }
      if (req.n <= 3) return { status: 500 };
      // The 4th: the effect is applied, but the answer comes after Paycenter gave up waiting.
      const answer = await inbox.handleWebhook({ headers: req.headers, rawBody: req.body }, secret);
      return req.n === 4 ? { status: answer.status, delayMs: TIMEOUT_MS + 500 } : { status: answer.status, body: answer.body };
    });
    const endpoint = await addEndpoint(r.url);
    secret = endpoint.secret;

    const orders = await Promise.all([paidOrder(), paidOrder(), paidOrder()]);
    const eventIds = await Promise.all(orders.map((o) => eventOf(o, 'order.paid')));
    for (const eventId of eventIds) {
      const delivery = await waitFor(
        () => deliveryTo(eventId, endpoint.id),
        (d) => d?.state === 'delivered',
        20_000,
      );
      expect(delivery).toMatchObject({ target: 'webhook', endpointId: endpoint.id, state: 'delivered', attempts: 5 });
      expect(delivery.log.map((a: { outcome: string; statusCode: number | null }) => [a.outcome, a.statusCode])).toEqual([
        ['failed', 500],
        ['failed', 500],
        ['failed', 500],
        ['failed', null],
        ['delivered', 200],
      ]);
      expect(delivery.log[3].error).toMatch(/no answer within/);
      expect(delivery.log[0].response).toBe('answer 500');
    }
    const shipments = await business.pool.query('SELECT order_id, event_id FROM shipments ORDER BY order_id');
    expect(shipments.rows.map((s) => s.event_id).sort()).toEqual([...eventIds].sort());
    expect(r.requests.filter((q) => eventIds.includes(q.id))).toHaveLength(15);
    expect(verified.every(Boolean)).toBe(true);
    // The webhook-id is the event id on every retry, and the body is the event.
    const body = JSON.parse(r.requests[0]!.body);
    expect(body).toMatchObject({ id: r.requests[0]!.id, type: 'order.paid', sequence: expect.any(Number) });
    expect(body.data.order.state).toBe('PAID');
    await deleteEndpoint(endpoint.id);
  });

  it('dead after the whole schedule, visible on the event, and delivered by redeliver', async () => {
    const r = await receiver(() => ({ status: 503 }));
    const endpoint = await addEndpoint(r.url);
    const eventId = await eventOf(await paidOrder(), 'order.paid');
    const dead = await waitFor(
      () => deliveryTo(eventId, endpoint.id),
      (d) => d?.state === 'dead',
      20_000,
    );
    expect(dead.attempts).toBe(SCHEDULE.split(',').length + 1);
    expect(dead.log).toHaveLength(SCHEDULE.split(',').length + 1);
    expect(dead.lastError).toBe('receiver answered HTTP 503');
    const metrics = await pc.api('GET', '/metrics');
    expect(metrics.body).toMatch(/^paycenter_deliveries_dead [1-9]/m);

    r.setBehaviour(() => ({ status: 204 }));
    const redelivered = await pc.api('POST', `/v1/events/${eventId}/redeliver`);
    expect(redelivered.status).toBe(202);
    const delivered = await waitFor(
      () => deliveryTo(eventId, endpoint.id),
      (d) => d?.state === 'delivered',
    );
    expect(delivered.log.at(-1)).toMatchObject({ outcome: 'delivered', statusCode: 204 });
    await deleteEndpoint(endpoint.id);
  });

  it('410 Gone disables the endpoint: no more deliveries are made to it', async () => {
    const r = await receiver(() => ({ status: 410 }));
    const endpoint = await addEndpoint(r.url);
    const eventId = await eventOf(await paidOrder(), 'order.paid');
    const delivery = await waitFor(
      () => deliveryTo(eventId, endpoint.id),
      (d) => d?.state === 'dead',
    );
    expect(delivery.log).toHaveLength(1);
    expect(delivery.log[0]).toMatchObject({ outcome: 'gone', statusCode: 410 });
    const after = await pc.api('GET', `/v1/webhook-endpoints/${endpoint.id}`);
    expect(after.body.disabledAt).not.toBeNull();
    expect(after.body.disabledReason).toMatch(/410/);
    const next = await eventOf(await paidOrder(), 'order.paid');
    expect(await deliveryTo(next, endpoint.id)).toBeUndefined();
    expect((await pc.api('POST', `/v1/events/${eventId}/redeliver`)).body.error.code).toBe('nothing_to_redeliver');
  });

  it('honours Retry-After when it asks for more time than the schedule', async () => {
    const r = await receiver((req) => (req.n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 }));
    const endpoint = await addEndpoint(r.url);
    const eventId = await eventOf(await paidOrder(), 'order.paid');
    await waitFor(
      async () => r.requests.filter((q) => q.id === eventId).length,
      (n) => n === 2,
    );
    const [first, second] = r.requests.filter((q) => q.id === eventId);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_900);
    await deleteEndpoint(endpoint.id);
  });

  it('sends only the event types an endpoint asked for', async () => {
    const closedOnly = await receiver();
    const endpoint = await addEndpoint(closedOnly.url, ['order.closed']);
    const paid = await eventOf(await paidOrder(), 'order.paid');
    const order = await pc.api('POST', '/v1/orders', orderBody());
    expect((await pc.api('POST', `/v1/orders/${order.body.id}/close`)).status).toBe(200);
    const closed = await eventOf(order.body.id, 'order.closed');
    await waitFor(
      async () => closedOnly.requests.length,
      (n) => n >= 1,
    );
    expect(closedOnly.requests.map((q) => q.id)).toEqual([closed]);
    expect(await deliveryTo(paid, endpoint.id)).toBeUndefined();
    await deleteEndpoint(endpoint.id);
  });
});

describe('the webhook endpoint API', () => {
  it('shows the secret once, lists, gets and deletes', async () => {
    const created = await pc.api('POST', '/v1/webhook-endpoints', { url: 'https://shop.example/hooks', events: ['order.paid'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: 'https://shop.example/hooks', events: ['order.paid'], disabledAt: null });
    expect(created.body.id).toMatch(/^we_/);
    expect(created.body.secret).toMatch(/^whsec_/);
    const got = await pc.api('GET', `/v1/webhook-endpoints/${created.body.id}`);
    expect(got.body.secret).toBeUndefined();
    const list = await pc.api('GET', '/v1/webhook-endpoints');
    expect(list.body.data.map((e: { id: string }) => e.id)).toContain(created.body.id);
    await deleteEndpoint(created.body.id);
    expect((await pc.api('GET', `/v1/webhook-endpoints/${created.body.id}`)).status).toBe(404);
    expect((await pc.api('DELETE', `/v1/webhook-endpoints/${created.body.id}`)).status).toBe(404);
  });

  it('refuses bad URLs and unknown event types, storing nothing', async () => {
    const before = (await pc.api('GET', '/v1/webhook-endpoints')).body.data.length;
    for (const url of ['not a url', 'ftp://shop.example/x', 'https://user:pw@shop.example/x']) {
      const res = await pc.api('POST', '/v1/webhook-endpoints', { url });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_webhook_url', field: 'url' });
    }
    const unknown = await pc.api('POST', '/v1/webhook-endpoints', { url: 'https://shop.example/x', events: ['order.shipped'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('invalid_request');
    const extra = await pc.api('POST', '/v1/webhook-endpoints', { url: 'https://shop.example/x', secret: 'mine' });
    expect(extra.status).toBe(400);
    expect((await pc.api('GET', '/v1/webhook-endpoints')).body.data.length).toBe(before);
  });

  it('answers only to an API key', async () => {
    const res = await pc.api('GET', '/v1/webhook-endpoints', undefined, { authorization: 'Bearer nope' });
    expect(res.status).toBe(401);
  });
});

describe('the event feed', () => {
  it('lists events oldest first, page by page, without skipping or repeating', async () => {
    await Promise.all([paidOrder(), paidOrder(), paidOrder()]);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await pc.api('GET', `/v1/events?limit=2${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((e: { id: string }) => e.id));
      if (!page.body.hasMore) break;
      after = page.body.data.at(-1).id;
    }
    const { rows } = await pc.db.pool.query('SELECT id FROM events ORDER BY txid, position');
    expect(seen).toEqual(rows.map((r) => r.id));
    const one = await pc.api('GET', `/v1/events/${seen[0]}`);
    expect(one.body).toMatchObject({ id: seen[0], data: { order: { id: expect.stringMatching(/^ord_/) } } });
  });

  it('refuses an unknown cursor and a bad limit', async () => {
    expect((await pc.api('GET', '/v1/events?after=evt_nope')).body.error).toMatchObject({ code: 'invalid_request', field: 'after' });
    expect((await pc.api('GET', '/v1/events?limit=0')).status).toBe(400);
    expect((await pc.api('GET', '/v1/events?limit=101')).status).toBe(400);
    expect((await pc.api('GET', '/v1/events/evt_nope')).status).toBe(404);
  });
});

describe('waitForPayment', () => {
  it('returns PAID for an order whose notifications and webhooks were all lost', async () => {
    const lost = await receiver(() => ({ status: 500 }));
    // Paycenter's own active query waits 10 minutes: only the business side's query can find it.
    await withUninformedPaycenter(
      async (slow) => {
        const order = await slow.api('POST', '/v1/orders', orderBody());
        const pay = await slow.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
        await slow.sandbox('POST', '/sandbox/pay', { outTradeNo: pay.body.payment.outTradeNo });
        const client = createPaycenterClient({ baseUrl: slow.baseUrl, apiKey: TEST_API_KEY });
        const result = await client.waitForPayment(order.body.id, { timeoutMs: 500 });
        expect(result.source).toBe('query');
        expect(result.order.state).toBe('PAID');
        // The order.paid its query produced goes to a receiver that loses it too.
        expect(await waitFor(async () => lost.requests.length, (n) => n > 0)).toBeGreaterThan(0);
      },
      { PAYCENTER_WEBHOOK_URL: lost.url },
    );
  });
});
