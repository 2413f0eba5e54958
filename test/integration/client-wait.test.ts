// waitForPayment and getOrder against a small HTTP stand-in for Paycenter's order API: the real
// end-to-end run against Paycenter lives with the e2e tests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createEventHub,
  createPaycenterClient,
  PaycenterApiError,
  type EventHub,
  type PaycenterOrder,
  type PaycenterOrderState,
} from '../../src/client/index.ts';
import { eventFixture, orderFixture } from '../helpers/client-fixtures.ts';

const API_KEY = 'pk_test_key_for_the_client_kit_0001';
/** Long enough that a test finishing well inside it proves the wait ended early. */
const LONG_WAIT_MS = 10_000;
const SHORT_WAIT_MS = 200;

interface Seen {
  url: string;
  authorization: string | undefined;
  at: number;
}

/** Orders the stand-in serves: what a plain read says, and what `?sync=true` finds at the channel. */
const orders = new Map<string, { state: PaycenterOrderState; stateAfterSync: PaycenterOrderState; order: PaycenterOrder }>();
let seen: Seen[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ url: url.pathname + url.search, authorization: req.headers.authorization, at: Date.now() });
    const id = decodeURIComponent(url.pathname.replace(/^\/v1\/orders\//, ''));
    const entry = orders.get(id);
    res.setHeader('content-type', 'application/json');
    if (req.headers.authorization !== `Bearer ${API_KEY}`) {
      res.writeHead(401).end(JSON.stringify({ error: { code: 'unauthorized', message: 'bad key' } }));
    } else if (!entry) {
      res.writeHead(404).end(JSON.stringify({ error: { code: 'not_found', message: `no order ${id}` } }));
    } else {
      const state = url.searchParams.get('sync') === 'true' ? entry.stateAfterSync : entry.state;
      res.end(JSON.stringify({ ...entry.order, state }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
});

function serveOrder(state: PaycenterOrderState, stateAfterSync = state): PaycenterOrder {
  const order = orderFixture({ state });
  orders.set(order.id, { state, stateAfterSync, order });
  return order;
}

/** A hub that counts its listeners, to show that every wait unsubscribes. */
function countingHub(): EventHub & { listeners(): number } {
  const hub = createEventHub();
  let count = 0;
  return {
    publish: hub.publish,
    on(listener) {
      count++;
      const off = hub.on(listener);
      return () => {
        count--;
        off();
      };
    },
    listeners: () => count,
  };
}

describe('waitForPayment', () => {
  it('returns at once, from the first read, when the order is already PAID, sending the API key', async () => {
    const hub = countingHub();
    const order = serveOrder('PAID');
    const client = createPaycenterClient({ baseUrl, apiKey: API_KEY, hub });
    const result = await client.waitForPayment(order.id, { timeoutMs: LONG_WAIT_MS });
    expect(result).toMatchObject({ source: 'query', order: { id: order.id, state: 'PAID' } });
    expect(seen).toEqual([{ url: `/v1/orders/${order.id}`, authorization: `Bearer ${API_KEY}`, at: expect.any(Number) }]);
    expect(hub.listeners()).toBe(0);
  });

  it('returns with source event when the hub hears order.paid before the timeout, ignoring other events', async () => {
    const hub = countingHub();
    const order = serveOrder('PAYING');
    const client = createPaycenterClient({ baseUrl, apiKey: API_KEY, hub });
    const started = Date.now();
    const waiting = client.waitForPayment(order.id, { timeoutMs: LONG_WAIT_MS });
    setTimeout(() => {
      hub.publish(eventFixture('order.paid', { id: 'ord_someone_else' }));
      hub.publish(eventFixture('order.exception', { id: order.id }));
      hub.publish(eventFixture('order.paid', { id: order.id }));
    }, 50);
    const result = await waiting;
    expect(result).toMatchObject({ source: 'event', order: { id: order.id, state: 'PAID' } });
    expect(Date.now() - started).toBeLessThan(LONG_WAIT_MS / 2);
    expect(seen.map((s) => s.url)).toEqual([`/v1/orders/${order.id}`]);
    expect(hub.listeners()).toBe(0);
  });

  it('hears an event published while the first read is still on its way', async () => {
    const hub = createEventHub();
    const order = serveOrder('PAYING');
    const publishingFetch: typeof fetch = async (input, init) => {
      hub.publish(eventFixture('order.closed', { id: order.id }));
      return fetch(input, init);
    };
    const client = createPaycenterClient({ baseUrl, apiKey: API_KEY, hub, fetch: publishingFetch });
    const result = await client.waitForPayment(order.id, { timeoutMs: LONG_WAIT_MS });
    expect(result).toMatchObject({ source: 'event', order: { state: 'CLOSED' } });
  });

  it('asks Paycenter to query the channel (?sync=true) after timeoutMs when no event comes', async () => {
    const hub = countingHub();
    const order = serveOrder('PAYING', 'PAID');
    const client = createPaycenterClient({ baseUrl, apiKey: API_KEY, hub });
    const result = await client.waitForPayment(order.id, { timeoutMs: SHORT_WAIT_MS });
    expect(result).toMatchObject({ source: 'query', order: { id: order.id, state: 'PAID' } });
    expect(seen.map((s) => [s.url, s.authorization])).toEqual([
      [`/v1/orders/${order.id}`, `Bearer ${API_KEY}`],
      [`/v1/orders/${order.id}?sync=true`, `Bearer ${API_KEY}`],
    ]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(SHORT_WAIT_MS - 5);
    expect(hub.listeners()).toBe(0);
  });

  it('returns whatever state the query finds, EXCEPTION included, and works without a hub', async () => {
    const order = serveOrder('PAYING', 'EXCEPTION');
    const client = createPaycenterClient({ baseUrl, apiKey: API_KEY });
    const result = await client.waitForPayment(order.id, { timeoutMs: 0 });
    expect(result).toMatchObject({ source: 'query', order: { state: 'EXCEPTION' } });
  });

  it('rejects with the signal’s reason when aborted, and unsubscribes', async () => {
    const hub = countingHub();
    const order = serveOrder('PAYING');
    const client = createPaycenterClient({ baseUrl, apiKey: API_KEY, hub });
    const controller = new AbortController();
    const waiting = client.waitForPayment(order.id, { timeoutMs: LONG_WAIT_MS, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('buyer left the page')), 50);
    await expect(waiting).rejects.toThrow('buyer left the page');
    expect(hub.listeners()).toBe(0);
    expect(seen.map((s) => s.url)).toEqual([`/v1/orders/${order.id}`]);
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 31])('refuses timeoutMs %s', async (timeoutMs) => {
    const client = createPaycenterClient({ baseUrl, apiKey: API_KEY });
    await expect(client.waitForPayment('ord_x', { timeoutMs })).rejects.toThrow(RangeError);
  });
});

describe('getOrder', () => {
  it('throws PaycenterApiError with Paycenter’s status, code and message', async () => {
    const client = createPaycenterClient({ baseUrl, apiKey: API_KEY });
    const err = await client.getOrder('ord_missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaycenterApiError);
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'no order ord_missing' });
    const wrongKey = createPaycenterClient({ baseUrl, apiKey: 'pk_wrong' });
    await expect(wrongKey.getOrder('ord_missing')).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('throws code unreachable, status 0, when nothing answers', async () => {
    const client = createPaycenterClient({ baseUrl: 'http://127.0.0.1:1', apiKey: API_KEY });
    await expect(client.getOrder('ord_x')).rejects.toMatchObject({ status: 0, code: 'unreachable' });
  });

  it('gives up after requestTimeoutMs on a server that never answers', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const client = createPaycenterClient({ baseUrl: url, apiKey: API_KEY, requestTimeoutMs: 100 });
      await expect(client.getOrder('ord_x')).rejects.toMatchObject({ code: 'unreachable' });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
