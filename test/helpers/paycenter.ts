// Starts a whole Paycenter (API, job runner, in-process sandbox) on its own test database, on a
// random port, with schedules compressed so the real shapes run in seconds.
import { resolveConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startPaycenter, type RunningPaycenter } from '../../src/runtime/start.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export const TEST_API_KEY = 'pk_test_0123456789abcdefghijklmnop';

export interface TestPaycenter {
  running: RunningPaycenter;
  db: TestDatabase;
  baseUrl: string;
  /** Calls the merchant API with the default app's key unless `headers.authorization` says otherwise. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Calls the sandbox control API. */
  sandbox(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  stop(): Promise<void>;
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
  PAYCENTER_WORKER_POLL_INTERVAL_MS: '50',
  PAYCENTER_API_KEY: TEST_API_KEY,
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
};

export async function startTestPaycenter(env: Record<string, string> = {}): Promise<TestPaycenter> {
  const db = await createTestDatabase();
  const config = resolveConfig({}, { ...FAST_ENV, DATABASE_URL: db.url, ...env });
  const running = await startPaycenter(config, createLogger(config.logLevel));
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
  return {
    running,
    db,
    baseUrl: running.baseUrl,
    api: (method, path, body, headers = {}) =>
      call(method, running.baseUrl + path, body, { authorization: `Bearer ${TEST_API_KEY}`, ...headers }),
    sandbox: (method, path, body) => call(method, running.baseUrl + path, body),
    async stop() {
      await running.stop();
      await db.drop();
    },
  };
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
