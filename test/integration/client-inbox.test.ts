// The client kit's inbox on a real PostgreSQL standing in for the business system's database:
// each event's effect is applied exactly once, whatever the redeliveries, concurrency and failures.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEventHub, createInbox, type PaycenterEvent } from '../../src/client/index.ts';
import { newWebhookSecret } from '../../src/domain/webhook-signature.ts';
import { eventFixture, signedDelivery } from '../helpers/client-fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const CONCURRENT_DELIVERIES = 10;
const secret = newWebhookSecret();

let db: TestDatabase;
/** Its own pool, large enough that all concurrent deliveries hold a connection at once. */
let pool: pg.Pool;
/** How many of the next handler runs fail, as a business system's bug or outage would. */
let failuresLeft = 0;
const FAILURE = 'password authentication failed for user "shop"';
const hub = createEventHub();

/** The business effect: one shipment per paid order, in the inbox's transaction. */
async function shipOrder(event: PaycenterEvent, tx: pg.PoolClient): Promise<void> {
  const fail = failuresLeft > 0;
  if (fail) failuresLeft--;
  // Held open a moment so concurrent deliveries really overlap the first one's transaction.
  await tx.query('SELECT pg_sleep(0.05)');
  await tx.query('INSERT INTO shipments (order_id, event_id) VALUES ($1, $2)', [event.data.order.id, event.id]);
  if (fail) throw new Error(FAILURE);
}

const inbox = () => createInbox({ pool, hub, handler: shipOrder });

async function shipments(orderId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM shipments WHERE order_id = $1', [orderId]);
  return rows[0]!.n;
}

async function inboxRows(eventId: string): Promise<Array<{ type: string; order_id: string; sequence: number }>> {
  const { rows } = await pool.query('SELECT type, order_id, sequence::int AS sequence FROM paycenter_inbox WHERE event_id = $1', [eventId]);
  return rows;
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: CONCURRENT_DELIVERIES });
  await pool.query('CREATE TABLE shipments (id serial PRIMARY KEY, order_id text NOT NULL, event_id text NOT NULL)');
  await inbox().ensureTable();
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

beforeEach(() => {
  failuresLeft = 0;
});

describe('inbox.consume', () => {
  it('ensureTable can run again', async () => {
    await expect(inbox().ensureTable()).resolves.toBeUndefined();
  });

  it('applies an event delivered 5 times exactly once, and records it', async () => {
    const event = eventFixture();
    const neighbour = eventFixture();
    await inbox().consume(neighbour);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await inbox().consume(event));
    expect(results.map((r) => r.applied)).toEqual([true, false, false, false, false]);
    expect(await shipments(event.data.order.id)).toBe(1);
    expect(await inboxRows(event.id)).toEqual([{ type: 'order.paid', order_id: event.data.order.id, sequence: 2 }]);
    expect(await shipments(neighbour.data.order.id)).toBe(1);
  });

  it(`applies an event delivered ${CONCURRENT_DELIVERIES} times at once exactly once`, async () => {
    const event = eventFixture();
    const consumer = inbox();
    const results = await Promise.all(Array.from({ length: CONCURRENT_DELIVERIES }, () => consumer.consume(event)));
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(await shipments(event.data.order.id)).toBe(1);
    expect(await inboxRows(event.id)).toHaveLength(1);
  });

  it('a handler that throws leaves neither effect nor inbox row, and the next delivery applies it', async () => {
    const event = eventFixture();
    failuresLeft = 1;
    await expect(inbox().consume(event)).rejects.toThrow(FAILURE);
    expect(await shipments(event.data.order.id)).toBe(0);
    expect(await inboxRows(event.id)).toEqual([]);

    await expect(inbox().consume(event)).resolves.toEqual({ applied: true });
    expect(await shipments(event.data.order.id)).toBe(1);
  });

  it('when one of two concurrent deliveries fails, the other applies the event once', async () => {
    const event = eventFixture();
    failuresLeft = 1;
    // The one that gets the inbox row first fails; the other waits on that uncommitted row and
    // inserts it after the rollback.
    const results = await Promise.allSettled([inbox().consume(event), inbox().consume(event)]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason))).sort()).toEqual([
      `Error: ${FAILURE}`,
      { applied: true },
    ]);
    expect(await shipments(event.data.order.id)).toBe(1);
  });

  it('refuses a malformed event before touching the database', async () => {
    const bad = { ...eventFixture(), id: 'not-an-event-id' };
    await expect(inbox().consume(bad)).rejects.toMatchObject({ code: 'bad_payload' });
    expect(await inboxRows('not-an-event-id')).toEqual([]);
  });

  it('publishes every consumed event to the hub after commit, duplicates included, failures not', async () => {
    const heard: string[] = [];
    const off = hub.on((e) => heard.push(e.id));
    const event = eventFixture();
    const failing = eventFixture();
    await inbox().consume(event);
    await inbox().consume(event);
    failuresLeft = 1;
    await inbox().consume(failing).catch(() => undefined);
    off();
    expect(heard).toEqual([event.id, event.id]);
  });

  it('takes a schema-qualified table, and refuses a table name that is not a plain identifier', async () => {
    await pool.query('CREATE SCHEMA IF NOT EXISTS billing');
    const billing = createInbox({ pool, table: 'billing.inbox', handler: shipOrder });
    await billing.ensureTable();
    const event = eventFixture();
    expect(await billing.consume(event)).toEqual({ applied: true });
    expect(await inboxRows(event.id)).toEqual([]);
    for (const table of ['inbox; DROP TABLE shipments', 'a.b.c', '"quoted"', '1inbox', '']) {
      expect(() => createInbox({ pool, table, handler: shipOrder })).toThrow(/plain identifier/);
    }
  });
});

describe('inbox.handleWebhook', () => {
  it('answers 200 on the first delivery and on a redelivery, applying the event once', async () => {
    const event = eventFixture();
    const delivery = signedDelivery(secret, event);
    const first = await inbox().handleWebhook(delivery, secret);
    const again = await inbox().handleWebhook(delivery, secret);
    expect([first.status, JSON.parse(first.body)]).toEqual([200, { received: true, applied: true }]);
    expect([again.status, JSON.parse(again.body)]).toEqual([200, { received: true, applied: false }]);
    expect(await shipments(event.data.order.id)).toBe(1);
  });

  it('answers 400 bad_signature to a forged delivery and stores nothing', async () => {
    const event = eventFixture();
    const forged = signedDelivery(newWebhookSecret(), event);
    const answer = await inbox().handleWebhook(forged, secret);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'bad_signature' } });
    expect(await inboxRows(event.id)).toEqual([]);
    expect(await shipments(event.data.order.id)).toBe(0);
  });

  it('answers 500 handler_failed when the handler throws, keeping its internals out of the body', async () => {
    const event = eventFixture();
    failuresLeft = 1;
    const answer = await inbox().handleWebhook(signedDelivery(secret, event), secret);
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'handler_failed' } });
    expect(answer.body).not.toContain('password');
    expect(answer.error).toEqual(new Error(FAILURE));
    expect(await inboxRows(event.id)).toEqual([]);
  });

  it('answers 500 receiver_misconfigured when the secret is malformed, so Paycenter retries', async () => {
    const event = eventFixture();
    const answer = await inbox().handleWebhook(signedDelivery(secret, event), 'whsec_oops');
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'receiver_misconfigured' } });
    expect(await inboxRows(event.id)).toEqual([]);
  });
});
