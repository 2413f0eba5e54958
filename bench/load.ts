// The load driver: a keep-alive HTTP client, N tasks run by a fixed number of workers, and the
// statistics of their latencies. Kept lean (node:http, no fetch) because the driver shares the
// machine's cores with Paycenter and PostgreSQL.
import http from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface HttpClient {
  request(method: string, path: string, body?: unknown): Promise<HttpAnswer>;
  close(): void;
}

/** One keep-alive connection per worker at most, to one origin. */
export function httpClient(baseUrl: string, maxSockets: number, headers: Record<string, string> = {}): HttpClient {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  return {
    request(method, path, body) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise<HttpAnswer>((resolve, reject) => {
        const req = http.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method,
            path,
            headers: {
              ...headers,
              ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

export interface RunResult {
  /** Tasks that completed without throwing. */
  ok: number;
  errors: number;
  /** First few error messages, for the report. */
  errorSamples: string[];
  elapsedMs: number;
  /** Per successful task, sorted ascending. */
  latenciesMs: number[];
}

/**
 * Runs tasks 0..n-1 on `concurrency` workers. A task returns its own latency (ms) when it measures
 * it itself (e.g. up to a server-side timestamp), or undefined to be timed here with performance.now().
 */
export async function runConcurrent(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<number | void>,
): Promise<RunResult> {
  const latenciesMs: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const t0 = performance.now();
      try {
        const own = await task(i);
        latenciesMs.push(typeof own === 'number' ? own : performance.now() - t0);
      } catch (err) {
        errors += 1;
        if (errorSamples.length < 5) errorSamples.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  const elapsedMs = performance.now() - started;
  latenciesMs.sort((a, b) => a - b);
  return { ok: latenciesMs.length, errors, errorSamples, elapsedMs, latenciesMs };
}

/** Nearest-rank percentile of ascending samples (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Stats {
  n: number;
  errors: number;
  errorSamples: string[];
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function stats(r: RunResult): Stats {
  return {
    n: r.ok,
    errors: r.errors,
    errorSamples: r.errorSamples,
    perSecond: r.ok / (r.elapsedMs / 1000),
    p50Ms: percentile(r.latenciesMs, 50),
    p99Ms: percentile(r.latenciesMs, 99),
    maxMs: r.latenciesMs.at(-1) ?? Number.NaN,
  };
}

/** Throws with the status and the start of the body unless the answer is `expected`. */
export function expectStatus(answer: HttpAnswer, expected: number, what: string): HttpAnswer {
  if (answer.status !== expected) throw new Error(`${what}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
  return answer;
}
