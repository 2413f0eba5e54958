// Brokers of a test's own: a RabbitMQ node and a nats-server with JetStream, on free ports, that the
// test can stop, kill and start again without touching the machine's shared services.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import amqp, { type Channel, type GetMessage } from 'amqplib';
import type { JsMsg, NatsConnection } from 'nats';
import { runSuffix, waitFor, waitForPort } from './broker-fixtures.ts';
import { freePort } from './process.ts';

/** A RabbitMQ node boots in 5 to 7 s here; this leaves room for a slow machine. */
const NODE_BOOT_MS = 60_000;
const NATS_SERVER = '/usr/sbin/nats-server';
const SERVER_START_MS = 10_000;

/**
 * A RabbitMQ node needs the Debian package and root (its script hands the node to the rabbitmq
 * user, who must own the data directory). Under CI both are required.
 */
export const canRunRabbitNode = process.env.CI === 'true' || (process.getuid?.() === 0 && onPath('rabbitmq-server'));

export interface RabbitNode {
  url: string;
  /** Boots the node unless it runs already; resolves once it takes connections. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SIGKILL, as a crash or the OOM killer would. */
  kill(): Promise<void>;
  /** Stops the node however it can and removes its data; safe to call in any state. */
  destroy(): Promise<void>;
}

const exec = promisify(execFile);

/** A RabbitMQ node of this test's own, on free ports, with its data in a fresh directory. */
export async function rabbitNode(): Promise<RabbitNode> {
  const [port, distPort] = [await freePort(), await freePort()];
  const name = `paycenter-test-${runSuffix()}@localhost`;
  const dir = await mkdtemp(path.join(tmpdir(), 'paycenter-rabbitmq-'));
  // The machine's rabbitmq.conf names 5672; this node listens on its own port only.
  await writeFile(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n`, { mode: 0o644 });
  await exec('chown', ['rabbitmq:rabbitmq', dir]);
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: name,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_MNESIA_BASE: dir,
    RABBITMQ_LOG_BASE: dir,
    // No plugins: the node boots faster, and management would want ports of its own.
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
  };
  let running = false;
  const stop = async (): Promise<void> => {
    await exec('rabbitmqctl', ['-n', name, 'stop'], { env });
    await waitForPort(port, false, NODE_BOOT_MS);
    running = false;
  };
  const kill = async (): Promise<void> => {
    const pid = Number(await readFile(path.join(dir, `${name}.pid`), 'utf8').catch(() => ''));
    try {
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await waitForPort(port, false, NODE_BOOT_MS);
    running = false;
  };
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    async start() {
      if (running) return;
      await exec('rabbitmq-server', ['-detached'], { env });
      await waitForPort(port, true, NODE_BOOT_MS);
      running = true;
    },
    stop,
    kill,
    async destroy() {
      await stop().catch(kill);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => existsSync(path.join(dir, command)));
}

export interface NatsServer {
  url: string;
  start(): Promise<void>;
  /** SIGTERM, and waits for the exit; the port and the store directory stay for the next start. */
  stop(): Promise<void>;
  /** Stops it and removes its store; safe to call in any state. */
  destroy(): Promise<void>;
}

/** A nats-server with JetStream of this test's own on `port`, keeping its store across restarts. */
export function natsServer(port: number): NatsServer {
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

/** Runs `use` on a channel of its own connection to `url`, closed afterwards. */
async function withChannel<T>(url: string, use: (channel: Channel) => Promise<T>): Promise<T> {
  const admin = await amqp.connect(url);
  try {
    return await use(await admin.createChannel());
  } finally {
    await admin.close();
  }
}

export function declareDurableQueue(url: string, exchange: string, queue: string): Promise<void> {
  return withChannel(url, async (channel) => {
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, exchange, '#');
  });
}

/** Takes every message off `queue`, in order. */
export function drainQueue(url: string, queue: string): Promise<GetMessage[]> {
  return withChannel(url, async (channel) => {
    const messages: GetMessage[] = [];
    for (let m = await channel.get(queue, { noAck: true }); m; m = await channel.get(queue, { noAck: true })) messages.push(m);
    return messages;
  });
}

/** What `stream` holds on `subject` (wildcards allowed), read back by a JetStream consumer. */
export async function storedMessages(reader: NatsConnection, stream: string, subject: string, timeoutMs: number): Promise<JsMsg[]> {
  let messages: JsMsg[] = [];
  // Right after a restart JetStream may time out a request: read everything again until it answers.
  await waitFor(`the messages on ${subject}`, () => readStored(reader, stream, subject).then((m) => ((messages = m), true), () => false), timeoutMs);
  return messages;
}

async function readStored(reader: NatsConnection, stream: string, subject: string): Promise<JsMsg[]> {
  const { state } = await (await reader.jetstreamManager()).streams.info(stream, { subjects_filter: subject });
  const count = Object.values(state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  const consumer = await reader.jetstream().consumers.get(stream, { filterSubjects: subject });
  const messages: JsMsg[] = [];
  while (messages.length < count) {
    const batch = await consumer.fetch({ max_messages: count - messages.length, expires: 1_000 });
    const before = messages.length;
    for await (const message of batch) messages.push(message);
    if (messages.length === before) throw new Error(`only ${messages.length} of ${count} messages on ${subject} so far`);
  }
  return messages;
}
