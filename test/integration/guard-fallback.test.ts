// The Redis guard's fallback to PostgreSQL (src/guard/fallback.ts), against a redis-server of this
// file's own — stopped and started again without disturbing other files — and a real PostgreSQL.
// A second Paycenter on the same database stands for another process that never saw the outage.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { resolveConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startPaycenter, type RunningPaycenter } from '../../src/runtime/start.ts';
import { withTransaction } from '../../src/store/db.ts';
import {
  coverStep,
  createRedisWithFallbackGuard,
  MARKER_CACHE_MS,
  markerCoverAfterWrite,
  markerDecision,
  markerRead,
} from '../../src/guard/fallback.ts';
import { requireService } from '../helpers/services.ts';
import { freePort } from '../helpers/process.ts';
import { capturedLogger, waitForPort } from '../helpers/broker-fixtures.ts';
import { FAST_ENV, TEST_API_KEY, orderBody, startTestPaycenter, waitFor, type TestPaycenter } from '../helpers/paycenter.ts';

const up = await requireService('redis');

/** Long enough for a Redis restart and a reconnect inside it, short enough to wait out in (4). */
const WINDOW_MS = 8_000;
const REDIS_BOOT_MS = 10_000;
/** The marker outlives the last fallback claim by the window and a lease of 2 s; this leaves room. */
const MARKER_EXPIRY_WAIT_MS = 25_000;
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

describe.skipIf(!up)('duplicate guard: Redis with PostgreSQL as fallback', () => {
  let redis: ReturnType<typeof ownRedis>;
  let reader: Redis;
  let pc: TestPaycenter;
  /** Another process on the same database, which submits nothing during the outage. */
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

  /** The order ids named by this app's claims in Redis. */
  const redisClaims = async (): Promise<string[]> => {
    const keys = await reader.keys(`paycenter:submission:${pc.running.appId}:*`);
    return keys.length === 0 ? [] : ((await reader.mget(keys)) as string[]);
  };
  const postgresClaims = async (orderId: string): Promise<number> =>
    (await pc.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM submission_guard WHERE order_id = $1', [orderId])).rows[0]!.n;
  const guard = () => pc.running.ctx.guard;
  const connectedClients = async (): Promise<number> => String(await reader.client('LIST')).trim().split('\n').length;

  it('(1) with Redis up, claims go to Redis only, as before', async () => {
    expect(guard().kind).toBe('redis');
    expect(guard().mode()).toBe('redis');
    const orderId = expectOneCreated(await submitCopies([pc.baseUrl], orderBody(), COPIES));
    expect(await redisClaims()).toEqual([orderId]);
    const { rows } = await pc.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM submission_guard');
    expect(rows[0]!.n).toBe(0);
  });

  it('(2) with Redis killed, submissions still succeed, claimed in PostgreSQL: 20 copies give one order', async () => {
    await redis.kill();
    const first = await postOrder(pc.baseUrl, orderBody());
    expect(first.status).toBe(201);
    expect(guard().mode()).toBe('postgres');
    expect(await postgresClaims(first.body.id)).toBe(1);
    const { rows } = await pc.db.pool.query<{ live: boolean }>('SELECT pg_claims_until > now() AS live FROM submission_guard_fallback');
    expect(rows).toEqual([{ live: true }]);

    const orderId = expectOneCreated(await submitCopies([pc.baseUrl], orderBody(), COPIES));
    expect(await postgresClaims(orderId)).toBe(1);
  });

  it('(3) an order claimed during the outage is still protected after Redis is back, in every process', async () => {
    const x = orderBody();
    const created = await postOrder(pc.baseUrl, x);
    expect(created.status).toBe(201);
    const xId = created.body.id as string;

    await redis.start();
    await waitFor(async () => guard().mode(), (mode) => mode !== 'postgres');
    // Both Paycenters and this test's reader connected again, so every claim below reaches Redis.
    await waitFor(connectedClients, (n) => n >= 3);
    // Half the copies to the process that fell back, half to one that never noticed the outage.
    expectAllDuplicatesOf(await submitCopies([pc.baseUrl, other.baseUrl], x, COPIES), xId);
    // The restarted Redis knows nothing of X: the refusals came from the PostgreSQL claims.
    expect(await redisClaims()).toEqual([]);
    expect(guard().mode()).toBe('redis+postgres');
    expect(other.ctx.guard.mode()).toBe('redis+postgres');

    // While the marker lives, a new order is claimed in both stores, and its copies refused.
    const y = orderBody();
    const yId = expectOneCreated(await submitCopies([pc.baseUrl, other.baseUrl], y, COPIES));
    expect(await redisClaims()).toEqual([yId]);
    expect(await postgresClaims(yId)).toBe(1);
  });

  it(
    '(4) once the claims made in PostgreSQL have expired, claims go to Redis only again',
    async () => {
      const mode = await waitFor(
        async () => [guard().mode(), other.ctx.guard.mode()],
        ([a, b]) => a === 'redis' && b === 'redis',
        MARKER_EXPIRY_WAIT_MS,
      );
      expect(mode).toEqual(['redis', 'redis']);
      const zId = expectOneCreated(await submitCopies([pc.baseUrl, other.baseUrl], orderBody(), COPIES));
      // (Y's key from (3) may expire about now: only Z's is asserted.)
      expect(await redisClaims()).toContain(zId);
      expect(await postgresClaims(zId)).toBe(0);
    },
    MARKER_EXPIRY_WAIT_MS + 15_000,
  );

  it('(5) a Redis that stops answering (SIGSTOP) is left after the command timeout, and logged once each way', async () => {
    const captured = capturedLogger();
    const fallback = await createRedisWithFallbackGuard(redis.url, pc.db.url, captured.log);
    const claim = (fingerprint: string, orderId: string) =>
      withTransaction(pc.db.pool, (tx) => fallback.claim(tx, pc.running.appId, fingerprint, orderId, WINDOW_MS));
    const warnings = (msg: string) => captured.text().split('\n').filter((line) => line.includes('"level":40') && line.includes(msg));
    try {
      expect(await claim('fp-before', 'ord_before')).toBe('ord_before');
      await fallback.release(pc.running.appId, 'fp-before', 'ord_before');
      redis.signal('SIGSTOP');
      expect(await claim('fp-hung', 'ord_hung')).toBe('ord_hung');
      expect(fallback.mode()).toBe('postgres');
      expect(await claim('fp-hung', 'ord_hung_copy')).toBe('ord_hung');
      // Nothing to give back in Redis while it does not answer: no error.
      await fallback.release(pc.running.appId, 'fp-hung', 'ord_hung_copy');
      expect(warnings('redis does not answer')).toHaveLength(1);

      redis.signal('SIGCONT');
      await waitFor(async () => fallback.mode(), (mode) => mode !== 'postgres');
      expect(warnings('redis answers again')).toHaveLength(1);
      // The claim made in PostgreSQL during the hang still holds, in both modes.
      expect(await claim('fp-hung', 'ord_hung_later')).toBe('ord_hung');
    } finally {
      redis.signal('SIGCONT');
      await fallback.close();
    }
  });
});

describe('guard fallback marker: what a process concludes from its reads and writes', () => {
  it('acts on an inactive read only while it is younger than the cache time, on an active one until its expiry', () => {
    const inactive = markerRead(1_000, 1_005, 0);
    expect(markerDecision(undefined, 1_000)).toBe('read');
    expect(markerDecision(inactive, 1_000 + MARKER_CACHE_MS - 1)).toBe('inactive');
    expect(markerDecision(inactive, 1_000 + MARKER_CACHE_MS)).toBe('read');
    // Active for 4 s from the answer (rounded late: the answer, not the send, plus the time left).
    const active = markerRead(1_000, 1_005, 4_000);
    expect(active.activeUntilMs).toBe(5_005);
    expect(markerDecision(active, 5_004)).toBe('active');
    // Past the expiry read: the marker may have been moved later since, so only a young read says no.
    expect(markerDecision(active, 5_005)).toBe('read');
    expect(markerDecision(markerRead(4_500, 4_501, 500), 5_100)).toBe('inactive');
  });

  it.each([
    ['no write yet', undefined, 10_000, { write: true }],
    ['a marker that expires before the claim', { visibleSinceMs: 0, untilMs: 17_999 }, 10_000, { write: true }],
    ['a marker visible for the cache time, covering it', { visibleSinceMs: 9_000, untilMs: 18_000 }, 10_000, { write: false, waitMs: 0 }],
    ['a marker visible for 400 ms only', { visibleSinceMs: 9_600, untilMs: 18_000 }, 10_000, { write: false, waitMs: 600 }],
  ])('a claim in PostgreSQL alone, with %s', (_name, cover, nowMs, expected) => {
    expect(coverStep(cover, nowMs, 8_000)).toEqual(expected);
  });

  it('counts the marker visible since the first write answered, and keeps that while each write lands before the last expiry', () => {
    const first = markerCoverAfterWrite(undefined, 100, 110, 10_000);
    expect(first).toEqual({ visibleSinceMs: 110, untilMs: 10_100 });
    // Written again before it expired: no gap, so visible since the first write.
    expect(markerCoverAfterWrite(first, 10_050, 10_090, 10_000)).toEqual({ visibleSinceMs: 110, untilMs: 20_050 });
    // Answered after the expiry we could prove: it may have lapsed, so visible only from now on.
    expect(markerCoverAfterWrite(first, 10_050, 10_100, 10_000)).toEqual({ visibleSinceMs: 10_100, untilMs: 20_050 });
  });
});
