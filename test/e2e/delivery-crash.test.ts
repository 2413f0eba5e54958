// G4 across a crash: Paycenter is SIGKILLed after the event committed and while its webhook is
// in flight, unacknowledged; started again, it delivers the same event (same webhook-id).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { newWebhookSecret } from '../../src/domain/webhook-signature.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, spawnPaycenter, type PaycenterProcess } from '../helpers/process.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { FAST_ENV, TEST_API_KEY, orderBody, waitFor } from '../helpers/paycenter.ts';

let db: TestDatabase;
let receiver: Receiver;
let current: PaycenterProcess | undefined;
beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startReceiver();
});
afterAll(async () => {
  current?.child.kill('SIGKILL');
  await receiver?.close();
  await db?.drop();
});

describe('SIGKILL between commit and delivery', () => {
  it('delivers the event after the restart', async () => {
    const secret = newWebhookSecret();
    const port = await freePort();
    const env = {
      ...FAST_ENV,
      DATABASE_URL: db.url,
      PAYCENTER_WEBHOOK_URL: receiver.url,
      PAYCENTER_WEBHOOK_SECRET: secret,
      PAYCENTER_DELIVERY_TIMEOUT_MS: '1000',
      PAYCENTER_DELIVERY_SCHEDULE: '200,200,200',
      PAYCENTER_DELIVERY_POLL_INTERVAL_MS: '100',
    };
    // The first request is never answered: the process dies while it waits for the receiver.
    receiver.setBehaviour((req) => (req.n === 1 ? { status: 200, delayMs: 60_000 } : { status: 200 }));
    current = await spawnPaycenter(env, port);
    const auth = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
    const order = await (await fetch(`${current.baseUrl}/v1/orders`, { method: 'POST', headers: auth, body: JSON.stringify(orderBody()) })).json();
    const close = await fetch(`${current.baseUrl}/v1/orders/${order.id}/close`, { method: 'POST', headers: { authorization: auth.authorization } });
    expect(close.status).toBe(200);
    await waitFor(async () => receiver.requests.length, (n) => n === 1);

    current.child.kill('SIGKILL');
    await current.exited;
    const { rows: atKill } = await db.pool.query(
      `SELECT e.id, d.state FROM events e JOIN deliveries d ON d.event_id = e.id WHERE e.order_id = $1 AND e.type = 'order.closed'`,
      [order.id],
    );
    expect(atKill).toEqual([{ id: receiver.requests[0]!.id, state: 'pending' }]);

    current = await spawnPaycenter(env, port);
    const delivered = await waitFor(
      async () => (await db.pool.query('SELECT state FROM deliveries WHERE event_id = $1', [atKill[0].id])).rows[0].state,
      (state) => state === 'delivered',
      30_000,
    );
    expect(delivered).toBe('delivered');
    const again = receiver.requests.filter((r) => r.id === atKill[0].id);
    expect(again.length).toBeGreaterThanOrEqual(2);
    for (const r of again) expect(() => new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    expect(JSON.parse(again.at(-1)!.body)).toMatchObject({ id: atKill[0].id, type: 'order.closed', data: { order: { id: order.id, state: 'CLOSED' } } });
    current.child.kill('SIGTERM');
    expect(await current.exited).toBe(0);
    current = undefined;
  });
});
