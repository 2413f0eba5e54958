// G4 through RabbitMQ and NATS JetStream: a consumer on each receives every event of a run with
// matching ids, and stopping both brokers in the middle of the run delays delivery and loses
// nothing. The brokers are the test's own (a RabbitMQ node and a nats-server), so they can be
// stopped without touching the machine's shared ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { requireService } from '../helpers/services.ts';
import {
  canRunRabbitNode,
  declareDurableQueue,
  drainQueue,
  natsServer,
  rabbitNode,
  storedMessages,
  type NatsServer,
  type RabbitNode,
} from '../helpers/broker-servers.ts';
import { freePort } from '../helpers/process.ts';
import { orderBody, startTestPaycenter, waitFor, type TestPaycenter } from '../helpers/paycenter.ts';

const EXCHANGE = 'paycenter.events';
const QUEUE = 'business-system';
const STREAM = 'PAYCENTER';
const ORDERS_PER_PHASE = 10;
const SETTLE_MS = 60_000;

const rabbitUp = await requireService('rabbitmq');
if (rabbitUp && !canRunRabbitNode) {
  process.stderr.write('\n!!! SKIPPING the broker e2e test: it starts its own RabbitMQ node, which takes root and rabbitmq-server\n\n');
}
const nats: NatsServer = natsServer(await freePort());
await nats.start().catch(() => undefined); // requireService reports it, and fails under CI
const natsUp = await requireService('nats', nats.url);

describe.skipIf(!rabbitUp || !canRunRabbitNode || !natsUp)('events to RabbitMQ and NATS JetStream', () => {
  let rabbit: RabbitNode;
  let pc: TestPaycenter;
  let reader: NatsConnection | undefined;

  beforeAll(async () => {
    rabbit = await rabbitNode();
    await rabbit.start();
    // The business system's queue exists before the first event, as a real consumer's would.
    await declareDurableQueue(rabbit.url, EXCHANGE, QUEUE);
    pc = await startTestPaycenter({
      AMQP_URL: rabbit.url,
      NATS_URL: nats.url,
      PAYCENTER_DELIVERY_TIMEOUT_MS: '1000',
      PAYCENTER_DELIVERY_SCHEDULE: '200,500,1000,1000,2000,2000,2000,2000,2000,2000,2000,2000',
      PAYCENTER_DELIVERY_POLL_INTERVAL_MS: '200',
    });
  }, 120_000);

  afterAll(async () => {
    await reader?.close();
    await pc?.stop();
    await rabbit?.destroy();
    await nats.destroy();
  });

  /** Orders paid through the sandbox and orders closed before payment: two event types. */
  async function makeEvents(n: number): Promise<void> {
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const order = await pc.api('POST', '/v1/orders', orderBody());
        expect(order.status).toBe(201);
        if (i % 2 === 0) {
          expect((await pc.api('POST', `/v1/orders/${order.body.id}/close`)).status).toBe(200);
          return;
        }
        const pay = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
        expect(pay.status).toBe(200);
        await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: pay.body.payment.outTradeNo });
      }),
    );
  }

  it('delivers every event to both brokers, across an outage of both, with the event id as message id', async () => {
    await makeEvents(ORDERS_PER_PHASE);
    await rabbit.stop();
    await nats.stop();
    // The API does not wait for the brokers: orders are taken and paid while they are down.
    await makeEvents(ORDERS_PER_PHASE);
    const failedDuringOutage = await waitFor(
      async () =>
        (
          await pc.db.pool.query(
            `SELECT count(DISTINCT d.target)::int AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.outcome = 'failed'`,
          )
        ).rows[0].n,
      (n) => n === 2,
    );
    expect(failedDuringOutage).toBe(2);
    await rabbit.start();
    await nats.start();
    await makeEvents(ORDERS_PER_PHASE);

    const expected = await waitFor(
      async () => (await pc.db.pool.query(`SELECT id, type, app_id FROM events ORDER BY id`)).rows,
      (rows) => rows.length >= ORDERS_PER_PHASE * 3,
      SETTLE_MS,
    );
    await waitFor(
      async () => (await pc.db.pool.query(`SELECT count(*)::int AS n FROM deliveries WHERE state <> 'delivered'`)).rows[0].n,
      (n) => n === 0,
      SETTLE_MS,
    );
    const { rows: deliveries } = await pc.db.pool.query(`SELECT target, count(*)::int AS n FROM deliveries GROUP BY target ORDER BY target`);
    expect(deliveries).toEqual([
      { target: 'amqp', n: expected.length },
      { target: 'nats', n: expected.length },
    ]);

    const amqpMessages = await drainQueue(rabbit.url, QUEUE);
    // At least once: a publish confirmed just as the broker went down may be sent again.
    const amqpIds = new Set(amqpMessages.map((m) => m.properties.messageId as string));
    expect([...amqpIds].sort()).toEqual(expected.map((e) => e.id).sort());
    for (const m of amqpMessages) {
      const event = JSON.parse(m.content.toString('utf8'));
      expect(m.properties.messageId).toBe(event.id);
      expect(m.fields.routingKey).toBe(event.type);
      expect(m.properties.deliveryMode).toBe(2);
    }

    reader = await connect({ servers: nats.url });
    const appId = expected[0]!.app_id;
    const natsMessages = await storedMessages(reader, STREAM, `paycenter.${appId}.>`, SETTLE_MS);
    // JetStream drops a repeated Nats-Msg-Id within its duplicate window: each event once.
    expect(natsMessages.map((m) => m.headers?.get('Nats-Msg-Id')).sort()).toEqual(expected.map((e) => e.id).sort());
    for (const m of natsMessages) {
      const event = JSON.parse(m.string());
      expect(m.subject).toBe(`paycenter.${appId}.${event.type}`);
      expect(m.headers?.get('Nats-Msg-Id')).toBe(event.id);
    }
  }, 180_000);
});
