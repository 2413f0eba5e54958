// Starts a whole Paycenter (API, job runner, in-process sandbox) on its own test database, on a
// random port, with schedules compressed so the real shapes run in seconds.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { resolveConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startPaycenter, type RunningPaycenter } from '../../src/runtime/start.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export const TEST_API_KEY = 'pk_test_0123456789abcdefghijklmnop';
/** The console's first admin (`admin`) in tests. */
export const TEST_ADMIN_PASSWORD = 'correct-horse-battery-staple';

export interface TestPaycenter {
  readonly running: RunningPaycenter;
  readonly db: TestDatabase;
  readonly baseUrl: string;
  /** Calls the merchant API with the default app's key unless `headers.authorization` says otherwise. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Calls the sandbox control API. */
  sandbox(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  stop(): Promise<void>;
  // What tests read back, as plain functions: they may be destructured.
  /** GET /v1/orders/:id, its body. */
  getOrder: (id: string) => Promise<ApiResponse['body']>;
  /** The order as soon as it reaches `state`, or as it is after `timeoutMs`. */
  waitForState: (id: string, state: string, timeoutMs?: number) => Promise<ApiResponse['body']>;
  timeline: (id: string) => Promise<Record<string, unknown>[]>;
  /** The order's `from` → `to` transitions on its timeline. */
  orderTransitions: (id: string, from: string, to: string) => Promise<Record<string, unknown>[]>;
  /** The sandbox bank's ledger row of this trade (undefined when the bank has none). */
  ledger: (outTradeNo: string) => Promise<ApiResponse['body']>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read what the API answers
}

/** Environment for a compressed but faithful run: queries every 300 ms, sandbox 1000× faster. */
export const FAST_ENV: Record<string, string> = {
  PORT: '0',
  PAYCENTER_SANDBOX: 'on',
  PAYCENTER_SANDBOX_TIME_SCALE: '0.001',
  PAYCENTER_QUERY_SCHEDULE: '300,300,300,300,300,300,300,300,300,300',
  PAYCENTER_EXCEPTION_QUERY_INTERVAL_MS: '500',
  PAYCENTER_REFUND_QUERY_SCHEDULE: '300',
  PAYCENTER_WORKER_POLL_INTERVAL_MS: '50',
  PAYCENTER_API_KEY: TEST_API_KEY,
  PAYCENTER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
};

interface Started {
  running: RunningPaycenter;
  db: TestDatabase;
}

async function start(env: Record<string, string>): Promise<Started> {
  const db = await createTestDatabase();
  const config = resolveConfig({}, { ...FAST_ENV, DATABASE_URL: db.url, ...env });
  return { db, running: await startPaycenter(config, createLogger(config.logLevel)) };
}

export async function startTestPaycenter(env: Record<string, string> = {}): Promise<TestPaycenter> {
  const started = await start(env);
  return testPaycenter(() => started);
}

/**
 * One Paycenter for the calling test file: started in a beforeAll that runs before the file's own
 * (registered after this call), stopped in afterAll, with the sandbox's faults cleared before each
 * test. Use it inside tests and hooks.
 */
export function paycenterPerFile(env: Record<string, string> = {}): TestPaycenter {
  let started: Started | undefined;
  const pc = testPaycenter(() => {
    if (!started) throw new Error('the test Paycenter starts in beforeAll: use it inside tests and hooks');
    return started;
  });
  beforeAll(async () => {
    started = await start(env);
  });
  afterAll(async () => {
    if (started) await pc.stop();
  });
  beforeEach(async () => {
    await pc.sandbox('DELETE', '/sandbox/faults');
  });
  return pc;
}

function testPaycenter(current: () => Started): TestPaycenter {
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const res = await fetch(url, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (e.g. /metrics): the text itself.
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  const api: TestPaycenter['api'] = (method, path, body, headers = {}) =>
    call(method, current().running.baseUrl + path, body, { authorization: `Bearer ${TEST_API_KEY}`, ...headers });
  const sandbox: TestPaycenter['sandbox'] = (method, path, body) => call(method, current().running.baseUrl + path, body);
  const getOrder = async (id: string) => (await api('GET', `/v1/orders/${id}`)).body;
  const timeline = async (id: string) => (await api('GET', `/v1/orders/${id}/timeline`)).body.data as Record<string, unknown>[];
  return {
    get running() {
      return current().running;
    },
    get db() {
      return current().db;
    },
    get baseUrl() {
      return current().running.baseUrl;
    },
    api,
    sandbox,
    async stop() {
      const { running, db } = current();
      await running.stop();
      await db.drop();
    },
    getOrder,
    waitForState: (id, state, timeoutMs = 10_000) => waitFor(() => getOrder(id), (o) => o.state === state, timeoutMs),
    timeline,
    orderTransitions: async (id, from, to) =>
      (await timeline(id)).filter((e) => e.kind === 'transition' && e.entity === 'order' && e.from === from && e.to === to),
    ledger: async (outTradeNo) => (await sandbox('GET', `/sandbox/ledger?outTradeNo=${outTradeNo}`)).body.trades[0],
  };
}

/**
 * Runs `work` against a second Paycenter whose first query is 10 minutes away and whose sandbox
 * drops every notification: only the call under test can learn that a trade was paid. Stopped after.
 */
export async function withUninformedPaycenter<T>(work: (slow: TestPaycenter) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const slow = await startTestPaycenter({ PAYCENTER_QUERY_SCHEDULE: '600000', ...env });
  try {
    await slow.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    return await work(slow);
  } finally {
    await slow.stop();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `done` holds or `timeoutMs` passes; returns the last value read. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await sleep(50);
  }
}

let orderCounter = 0;
/** A valid order body with a fresh merchantOrderNo and content unique to this call. */
export function orderBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  orderCounter += 1;
  const n = `${Date.now()}-${orderCounter}-${Math.random().toString(36).slice(2, 8)}`;
  return { merchantOrderNo: `m-${n}`, amount: 1999, currency: 'CNY', subject: `Order ${n}`, ...overrides };
}
