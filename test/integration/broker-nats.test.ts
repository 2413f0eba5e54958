// The NATS publisher against a real JetStream server. The file runs a nats-server of its own rather
// than the shared one on 4222: a stream on `paycenter.>` refuses to be created beside another stream
// on those subjects, so runs sharing a server would fail each other, and the outage test stops it.
import { connect, nanos, StorageType, type JsMsg, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsPublisher } from '../../src/delivery/nats.ts';
import { createLogger } from '../../src/logger.ts';
import type { BrokerPublisher, OutboundMessage } from '../../src/delivery/types.ts';
import { expectConnectOnNextPublish, expectPromptRejection, itRejectsWhenNoBrokerAnswers, outboundMessage, publishConcurrently, runSuffix, waitFor } from '../helpers/broker-fixtures.ts';
import { freePort } from '../helpers/process.ts';
import { requireService } from '../helpers/services.ts';
import { natsServer, storedMessages } from '../helpers/broker-servers.ts';

const TIMEOUT_MS = 2_000;
/** nats.js retries a lost server every 2 s; a few rounds of that, and of the publish timeout. */
const RECOVERY_WAIT_MS = 20_000;
const MESSAGES = 200;

const run = runSuffix();
const stream = `PAYCENTER_TEST_${run}`;
const silent = createLogger('silent');

const server = natsServer(await freePort());
await server.start().catch(() => undefined); // requireService tells, and fails under CI, when it did not start
const up = await requireService('nats', server.url);
if (!up) await server.destroy();

describe.skipIf(!up)('nats publisher', () => {
  let reader: NatsConnection;

  beforeAll(async () => {
    reader = await connect({ servers: server.url });
  });

  afterAll(async () => {
    await reader?.close();
    await server.destroy();
  });

  const stored = (subject: string): Promise<JsMsg[]> => storedMessages(reader, stream, subject, RECOVERY_WAIT_MS);
  const idsOf = (messages: JsMsg[]): (string | undefined)[] => messages.map((m) => m.headers?.get('Nats-Msg-Id'));

  it('creates the stream, publishes concurrently, and the stream holds each message once on its subject', async () => {
    const publisher = createNatsPublisher({ url: server.url, stream, timeoutMs: TIMEOUT_MS, log: silent });
    const messages = await publishConcurrently(publisher, run, MESSAGES);

    const { config } = await (await reader.jetstreamManager()).streams.info(stream);
    expect(config).toMatchObject({ subjects: ['paycenter.>'], storage: StorageType.File, duplicate_window: nanos(120_000) });
    const received = await stored(`paycenter.${messages[0]!.appId}.>`);
    expect(received).toHaveLength(MESSAGES);
    const byId = new Map(received.map((m) => [m.headers?.get('Nats-Msg-Id'), m]));
    for (const message of messages) {
      const got = byId.get(message.eventId);
      expect(got, message.eventId).toBeDefined();
      expect(got!.subject).toBe(`paycenter.${message.appId}.${message.type}`);
      expect(got!.string()).toBe(message.body);
    }
  });

  it('stores an event id published twice, concurrently and again later, once', async () => {
    const publisher = createNatsPublisher({ url: server.url, stream, timeoutMs: TIMEOUT_MS, log: silent });
    const message = outboundMessage(`${run}-dup`, 'twice');
    try {
      await Promise.all([publisher.publish(message), publisher.publish(message)]);
      await publisher.publish({ ...message, body: '{"changed":"body, same id"}' });
    } finally {
      await publisher.close();
    }
    const received = await stored(`paycenter.${message.appId}.>`);
    expect(idsOf(received)).toEqual([message.eventId]);
    expect(received[0]!.string()).toBe(message.body);
  });

  itRejectsWhenNoBrokerAnswers(
    (port) => createNatsPublisher({ url: `nats://127.0.0.1:${port}`, stream, timeoutMs: TIMEOUT_MS, log: silent }),
    TIMEOUT_MS,
  );

  it('connects on a later publish when the server was down at the first one', async () => {
    const late = natsServer(await freePort());
    const publisher = createNatsPublisher({ url: late.url, stream, timeoutMs: TIMEOUT_MS, log: silent });
    try {
      await expectConnectOnNextPublish(publisher, () => late.start());
    } finally {
      await late.destroy();
    }
  });

  it('rejects while the server is down, and the same publisher publishes again once it is back', async () => {
    const publisher = createNatsPublisher({ url: server.url, stream, timeoutMs: TIMEOUT_MS, log: silent });
    const outageRun = `${run}-outage`;
    const [before, during, after] = ['before', 'during', 'after'].map((n) => outboundMessage(outageRun, n));
    try {
      await publisher.publish(before!);
      await server.stop();
      await expectPromptRejection(() => publisher.publish(during!), TIMEOUT_MS);

      await server.start();
      await publishEventually(publisher, after!);
      // The dispatcher retries what failed, with the same event id. The failed publish may have
      // been stored after all (nats.js sends its buffer on reconnecting): the retry adds no copy.
      await publishEventually(publisher, during!);
    } finally {
      await publisher.close();
    }
    const received = await stored(`paycenter.${before!.appId}.>`);
    expect(idsOf(received).sort()).toEqual([after!.eventId, before!.eventId, during!.eventId].sort());
  }, 60_000);
});

/** Publishes until the broker takes it, as the dispatcher's retries would, with the same event id. */
async function publishEventually(publisher: BrokerPublisher, message: OutboundMessage): Promise<void> {
  await waitFor(`a publish of ${message.eventId} to succeed`, () => publisher.publish(message).then(() => true, () => false), RECOVERY_WAIT_MS);
}

