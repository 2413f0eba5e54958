// The duplicate guard with Redis in front of PostgreSQL (src/guard/redis-first.ts), against a
// redis-server of this file's own — stopped and started again without disturbing other files — and
// a real PostgreSQL. A second Paycenter on the same database stands for another process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { resolveConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startPaycenter, type RunningPaycenter } from '../../src/runtime/start.ts';
import { requireService } from '../helpers/services.ts';
import { freePort } from '../helpers/process.ts';
import { waitForPort } from '../helpers/broker-fixtures.ts';
import { FAST_ENV, TEST_API_KEY, orderBody, startTestPaycenter, waitFor, type TestPaycenter } from '../helpers/paycenter.ts';

const up = await requireService('redis');

/** Long enough for a Redis restart and a reconnect inside it. */
const WINDOW_MS = 30_000;
const REDIS_BOOT_MS = 10_000;
const COPIES = 20;

/** A redis-server of this file's own, without persistence: a restart forgets every key. */
function ownRedis(port: number) {
  let child: ChildProcess | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    async start(): Promise<void> {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      await waitForPort(port, true, REDIS_BOOT_MS);
    },
    /** SIGSTOP or SIGCONT: a Redis that holds its connections but answers nothing, and back. */
    signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
      child!.kill(signal);
    },
    async kill(): Promise<void> {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read what the API answers
}

async function postOrder(baseUrl: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${baseUrl}/v1/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** `copies` identical submissions at once (each with its own merchantOrderNo), spread over `baseUrls` in turn. */
function submitCopies(baseUrls: string[], content: Record<string, unknown>, copies: number): Promise<Answer[]> {
  return Promise.all(
    Array.from({ length: copies }, (_, i) =>
      postOrder(baseUrls[i % baseUrls.length]!, { ...content, merchantOrderNo: `${String(content.merchantOrderNo)}-${i}` }),
    ),
  );
}

function expectAllDuplicatesOf(answers: Answer[], orderId: string): void {
  for (const a of answers) {
    expect(a.status).toBe(409);
    expect(a.body.error).toMatchObject({ code: 'duplicate_submission', orderId });
  }
}

/** Exactly one 201 and the rest duplicate_submission naming it; returns the order id. */
function expectOneCreated(answers: Answer[]): string {
  const created = answers.filter((a) => a.status === 201);
  expect(created).toHaveLength(1);
  const orderId = created[0]!.body.id as string;
  expectAllDuplicatesOf(
    answers.filter((a) => a !== created[0]),
    orderId,
  );
  return orderId;
}

describe.skipIf(!up)('duplicate guard: Redis in front of PostgreSQL', () => {
  let redis: ReturnType<typeof ownRedis>;
  let reader: Redis;
  let pc: TestPaycenter;
  /** Another process on the same database. */
  let other: RunningPaycenter;
  // Small pools: two Paycenters share a PostgreSQL server with every other test file running at once.
  const env = (poolSize: number): Record<string, string> => ({
    REDIS_URL: redis.url,
    PAYCENTER_DUPLICATE_WINDOW_MS: String(WINDOW_MS),
    PAYCENTER_DB_POOL_SIZE: String(poolSize),
  });

  beforeAll(async () => {
    redis = ownRedis(await freePort());
    await redis.start();
    reader = new Redis(redis.url);
    reader.on('error', () => undefined);
    pc = await startTestPaycenter(env(8));
    const config = resolveConfig({}, { ...FAST_ENV, DATABASE_URL: pc.db.url, ...env(4) });
    other = await startPaycenter(config, createLogger(config.logLevel), 'api');
  });

  afterAll(async () => {
    reader?.disconnect();
    await other?.stop();
    await pc?.stop();
    await redis?.kill();
  });

  const redisHolds = async (orderId: string): Promise<boolean> => {
    const keys = await reader.keys(`paycenter:submission:${pc.running.appId}:*`);
    return keys.length > 0 && ((await reader.mget(keys)) as string[]).includes(orderId);
  };
  const postgresClaims = async (orderId: string): Promise<number> =>
    (await pc.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM submission_guard WHERE order_id = $1', [orderId])).rows[0]!.n;
  const urls = () => [pc.baseUrl, other.baseUrl];

  it('(1) with Redis up: one order of 20 copies, claimed in Redis and in PostgreSQL', async () => {
    const orderId = expectOneCreated(await submitCopies(urls(), orderBody(), COPIES));
    expect(await redisHolds(orderId)).toBe(true);
    expect(await postgresClaims(orderId)).toBe(1);
    expect(pc.running.ctx.guard.mode()).toBe('redis');
  });

  it('(2) an order claimed before Redis died is still protected while Redis is down', async () => {
    const content = orderBody();
    const first = await postOrder(pc.baseUrl, content);
    expect(first.status).toBe(201);
    await redis.kill();
    expectAllDuplicatesOf(await submitCopies(urls(), content, COPIES), first.body.id);
    expect(pc.running.ctx.guard.mode()).toBe('postgres');
  });

  it('(3) with Redis down, submissions still succeed, and 20 copies still give one order', async () => {
    const orderId = expectOneCreated(await submitCopies(urls(), orderBody(), COPIES));
    expect(await postgresClaims(orderId)).toBe(1);
  });

  it('(4) an order claimed while Redis was down is protected after Redis comes back empty, in every process', async () => {
    const content = orderBody();
    const first = await postOrder(other.baseUrl, content);
    expect(first.status).toBe(201);
    await redis.start();
    await waitFor(
      async () => (await postOrder(pc.baseUrl, orderBody())).status === 201 && pc.running.ctx.guard.mode() === 'redis',
      (back) => back,
      15_000,
    );
    expect(await redisHolds(first.body.id)).toBe(false);
    expectAllDuplicatesOf(await submitCopies(urls(), content, COPIES), first.body.id);
  });

  it('(5) a Redis that answers nothing (SIGSTOP) is passed after its timeout; submissions go on', async () => {
    redis.signal('SIGSTOP');
    try {
      const orderId = expectOneCreated(await submitCopies(urls(), orderBody(), 5));
      expect(await postgresClaims(orderId)).toBe(1);
      expect(pc.running.ctx.guard.mode()).toBe('postgres');
    } finally {
      redis.signal('SIGCONT');
    }
  });
});
