// The NATS publisher against a real JetStream server. The file runs a nats-server of its own rather
// than the shared one on 4222: a stream on `paycenter.>` refuses to be created beside another stream
// on those subjects, so runs sharing a server would fail each other, and the outage test stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, nanos, StorageType, type JsMsg, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsPublisher } from '../../src/delivery/nats.ts';
import { createLogger } from '../../src/logger.ts';
import type { BrokerPublisher, OutboundMessage } from '../../src/delivery/types.ts';
import { expectConnectOnNextPublish, expectPromptRejection, itRejectsWhenNoBrokerAnswers, outboundMessage, publishConcurrently, runSuffix, waitFor, waitForPort } from '../helpers/broker-fixtures.ts';
import { freePort } from '../helpers/process.ts';
import { requireService } from '../helpers/services.ts';

const NATS_SERVER = '/usr/sbin/nats-server';
const SERVER_START_MS = 10_000;
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

  /** What the stream holds on `subject` (wildcards allowed), read back by a JetStream consumer. */
  async function stored(subject: string): Promise<JsMsg[]> {
    const jsm = await reader.jetstreamManager();
    const { state } = await jsm.streams.info(stream, { subjects_filter: subject });
    const count = Object.values(state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
    const consumer = await reader.jetstream().consumers.get(stream, { filterSubjects: subject });
    const messages: JsMsg[] = [];
    await waitFor(`${count} messages on ${subject}`, async () => {
      const batch = await consumer.fetch({ max_messages: count - messages.length, expires: 1_000 });
      for await (const message of batch) messages.push(message);
      return messages.length >= count;
    }, RECOVERY_WAIT_MS);
    return messages;
  }

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
      await publisher.publish(during!);
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

interface NatsServer {
  url: string;
  start(): Promise<void>;
  /** SIGTERM, and waits for the exit; the port and the store directory stay for the next start. */
  stop(): Promise<void>;
  /** Stops it and removes its store; safe to call in any state. */
  destroy(): Promise<void>;
}

/** A nats-server with JetStream of this test's own on `port`, keeping its store across restarts. */
function natsServer(port: number): NatsServer {
  let child: ChildProcess | undefined;
  let storeDir: string | undefined;
  const stop = async (): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    async start() {
      storeDir ??= await mkdtemp(path.join(tmpdir(), 'paycenter-nats-'));
      const started = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
      child = started;
      const failed = once(started, 'error');
      await Promise.race([waitForPort(port, true, SERVER_START_MS), failed.then(([err]) => Promise.reject(err))]);
    },
    stop,
    async destroy() {
      await stop();
      if (storeDir) await rm(storeDir, { recursive: true, force: true });
    },
  };
}
