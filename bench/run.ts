// `paycenter bench`: order submissions and whole payment flows over HTTP against a Paycenter child
// process, each next to its raw-SQL floor (floor.ts) measured in the same run on the same
// database, plus Paycenter's peak RSS. Prints a table with the targets and a one-line JSON summary.
//
// Environment knobs (the CLI takes only --orders/--flows/--concurrency):
//   BENCH_SANDBOX=standalone|inprocess   where the simulated bank runs (default standalone, see below)
//   BENCH_CPU_PROF=<dir>                 write a V8 CPU profile of each child to <dir> at exit
//   DATABASE_URL                         the server to create the bench database on
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/logger.ts';
import { createPool, type Pool } from '../src/store/db.ts';
import { findDefaultApp } from '../src/store/apps.ts';
import { flowFloorTask, orderContent, submitFloorTask, type FloorSettings } from './floor.ts';
import { expectStatus, httpClient, runConcurrent, stats, type HttpClient, type Stats } from './load.ts';
import { measureDelivery, type DeliveryFigures } from './delivery.ts';
import { cpuSeconds, machineBusySeconds, sampleRss } from './processes.ts';
import {
  createScratchDatabase,
  freePort,
  openServer,
  spawnPaycenter,
  waitReady,
  type Child,
} from '../src/harness/processes.ts';
import { generateSandboxMerchant, registerSandboxMerchants, sandboxChannelsSection } from '../src/runtime/sandbox-merchants.ts';

export interface BenchOptions {
  orders: number;
  flows: number;
  concurrency: number;
}

const API_KEY = 'pk_bench_0123456789abcdefghijklmnopqrstuvwx';
/** Sandbox notification retries 1000× faster, should one fail. */
const SANDBOX_TIME_SCALE = '0.001';
/**
 * The first active query of each attempt is pushed past the end of the run, so the query jobs of
 * one phase never run inside the next one and each phase measures only its own work. (At the
 * default 30 s a paid attempt's query job later finds it settled: two reads, not measured here.)
 */
const FIRST_QUERY_DELAY_MS = 600_000;
const ORDER_TTL_MS = 15 * 60_000;
const DUPLICATE_WINDOW_MS = 10_000;
const POOL_SIZE_DEFAULT = 20;
const FLOW_PAID_TIMEOUT_MS = 30_000;
/**
 * How often the flow driver looks for PAID transitions: a tenth of the mean wait for one (from the
 * buyer's payment) within these bounds, so the look-up stays a small share of the load and its
 * lag a small share of each worker's time. Latencies themselves do not include the lag.
 */
const PAID_POLL_INTERVAL_MS_MIN = 5;
const PAID_POLL_INTERVAL_MS_MAX = 50;
const WATCH_APPLICATION_NAME = 'paycenter-bench-watch';

const TARGETS = {
  submissionsPerSecond: 2000,
  submissionP99Ms: 25,
  flowsPerSecond: 400,
  floorRatio: 0.5,
  rssMiB: 256,
};

export async function runBench(opts: BenchOptions): Promise<void> {
  const log = createLogger('warn', 'paycenter-bench');
  // Where the bank runs. Standalone is the default: in production the channel is another
  // system, so its CPU (signing answers and notifications, its own ledger writes) and its memory
  // must not be counted as Paycenter's; in-process it shares Paycenter's event loop and heap, and
  // the RSS and CPU figures mix the two. BENCH_SANDBOX=inprocess measures the `npm start` shape.
  const sandboxMode = process.env.BENCH_SANDBOX === 'inprocess' ? 'inprocess' : 'standalone';
  const poolSize = Number(process.env.PAYCENTER_DB_POOL_SIZE ?? POOL_SIZE_DEFAULT);
  const cleanup: (() => Promise<void>)[] = [];
  const runCleanup = async () => {
    for (const step of cleanup.reverse().splice(0)) await step().catch((err: unknown) => console.error(`bench cleanup: ${String(err)}`));
  };
  const onSignal = () => void runCleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const loadAverage = loadavg()[0]!;
  try {
    const server = await openServer(log);
    cleanup.push(() => server.stop());
    const db = await createScratchDatabase(server.adminUrl, 'paycenter_bench');
    cleanup.push(() => db.drop());
    const tmp = await mkdtemp(join(tmpdir(), 'paycenter-bench-'));
    cleanup.push(() => rm(tmp, { recursive: true, force: true }));

    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      DATABASE_URL: db.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      PAYCENTER_API_KEY: API_KEY,
      LOG_LEVEL: 'warn',
      PAYCENTER_SANDBOX_TIME_SCALE: SANDBOX_TIME_SCALE,
      PAYCENTER_QUERY_SCHEDULE: String(FIRST_QUERY_DELAY_MS),
      PAYCENTER_ORDER_TTL_MS: String(ORDER_TTL_MS),
      PAYCENTER_DUPLICATE_WINDOW_MS: String(DUPLICATE_WINDOW_MS),
      PAYCENTER_DB_POOL_SIZE: String(poolSize),
      // The floor uses the Postgres guard; so must Paycenter.
      REDIS_URL: '',
      PAYCENTER_CONFIG: '',
    };
    let sandbox: Child | undefined;
    let bankUrl = baseUrl;
    if (sandboxMode === 'standalone') {
      const sandboxPort = await freePort();
      bankUrl = `http://127.0.0.1:${sandboxPort}`;
      const child = spawnPaycenter('sandbox', ['sandbox', '--port', String(sandboxPort)], env);
      sandbox = child;
      cleanup.push(() => child.stop());
      await waitReady(child, `${bankUrl}/sandbox/faults`);
      const merchants = { wechatpay: generateSandboxMerchant('wechatpay') };
      const registered = await registerSandboxMerchants(bankUrl, merchants);
      const channels = sandboxChannelsSection(merchants, registered, { sandbox: bankUrl, paycenter: baseUrl });
      const configPath = join(tmp, 'paycenter.json');
      await writeFile(configPath, JSON.stringify({ channels }), { mode: 0o600 });
      Object.assign(env, { PAYCENTER_CONFIG: configPath, PAYCENTER_SANDBOX: 'off' });
    } else {
      env.PAYCENTER_SANDBOX = 'on';
    }
    const paycenter = spawnPaycenter('paycenter', ['serve'], env);
    cleanup.push(() => paycenter.stop());
    await waitReady(paycenter, `${baseUrl}/readyz`);
    const rss = sampleRss(paycenter.pid);
    cleanup.push(async () => rss.stop());

    const pool = createPool(db.url, poolSize, FLOOR_APPLICATION_NAME);
    cleanup.push(() => pool.end());
    const watchPool = createPool(db.url, 2, WATCH_APPLICATION_NAME);
    cleanup.push(() => watchPool.end());
    const api = httpClient(baseUrl, opts.concurrency, { authorization: `Bearer ${API_KEY}` });
    const bank = httpClient(bankUrl, opts.concurrency);
    cleanup.push(async () => {
      api.close();
      bank.close();
    });
    const app = await findDefaultApp(pool);
    if (!app) throw new Error('Paycenter started but created no default app');
    const settings: FloorSettings = {
      appId: app.id,
      orderTtlMs: ORDER_TTL_MS,
      duplicateWindowMs: DUPLICATE_WINDOW_MS,
      queryPolicy: { scheduleMs: [FIRST_QUERY_DELAY_MS], exceptionIntervalMs: 3_600_000, exceptionWindowMs: 0 },
    };
    const run = randomBytes(4).toString('hex');
    const meter = cpuMeter({ paycenter: paycenter.pid, sandbox: sandbox?.pid }, watchPool, db.name);
    const phase = async (name: string, n: number, task: (key: string) => Promise<number | void>): Promise<Phase> => {
      const warmup = Math.min(n, Math.max(50, Math.round(n / 10)));
      rss.mark(name);
      await runConcurrent(warmup, opts.concurrency, (i) => task(`${run}-${name}-w${i}`));
      const before = await meter();
      const result = stats(await runConcurrent(n, opts.concurrency, (i) => task(`${run}-${name}-${i}`)));
      paycenter.assertAlive();
      sandbox?.assertAlive();
      const cpuMsPerOp = perOp(await meter(), before, result.n);
      return { name, ...result, cpuMsPerOp, otherCores: (cpuMsPerOp.other * result.perSecond) / 1000 };
    };

    const submitFloor = await phase('submit-floor', opts.orders, submitFloorTask(pool, settings));
    const submitHttp = await phase('submit-http', opts.orders, async (key) => {
      expectStatus(await api.request('POST', '/v1/orders', orderContent(key)), 201, 'POST /v1/orders');
    });
    const flowFloor = await phase('flow-floor', opts.flows, flowFloorTask(pool, settings));
    const watcher = await PaidWatcher.start(watchPool);
    cleanup.push(async () => watcher.stop());
    const flowHttp = await phase('flow-http', opts.flows, (key) => httpFlow(api, bank, watcher, key));
    watcher.stop();
    rss.mark('deliver');
    const delivery = await measureDelivery(api, pool, opts.flows, opts.concurrency, run);

    const rssPeaks = rss.peaks();
    const report: Report = {
      concurrency: opts.concurrency,
      database: server.source,
      sandbox: sandboxMode,
      poolSize,
      phases: [submitFloor, submitHttp, flowFloor, flowHttp],
      submit: { http: submitHttp, floor: submitFloor },
      flow: { http: flowHttp, floor: flowFloor },
      delivery,
      rssPeakLoadMiB: Math.max(rssPeaks['submit-http'] ?? 0, rssPeaks['flow-http'] ?? 0, rssPeaks.deliver ?? 0),
      rssHighWaterMiB: rss.highWaterMiB(),
      rssReadyMiB: rss.startMiB,
      childWarnings: paycenter.warnings + (sandbox?.warnings ?? 0),
      loadAverage,
    };
    printReport(report);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runCleanup();
  }
}

/** Submit, pay with WeChat Pay, the buyer pays at the bank, then wait for the PAID transition. */
async function httpFlow(api: HttpClient, bank: HttpClient, watcher: PaidWatcher, key: string): Promise<number> {
  const started = performance.now();
  const created = expectStatus(await api.request('POST', '/v1/orders', orderContent(key)), 201, 'POST /v1/orders');
  const orderId = (JSON.parse(created.body) as { id: string }).id;
  const pay = expectStatus(await api.request('POST', `/v1/orders/${orderId}/pay`, { channel: 'wechatpay' }), 200, 'POST /pay');
  const outTradeNo = (JSON.parse(pay.body) as { payment: { outTradeNo: string } }).payment.outTradeNo;
  expectStatus(await bank.request('POST', '/sandbox/pay', { outTradeNo }), 200, 'POST /sandbox/pay');
  // The transition is read from the database, so one that happened before this call is found too.
  return (await watcher.expect(orderId)) - started;
}

/**
 * Learns when orders became PAID without asking Paycenter: one indexed query for all waiting
 * orders every few ms reads the time of each order's PAID transition (the audit row's
 * clock_timestamp(), written in the notification's transaction just before its commit), mapped
 * onto this process's performance.now() clock. Polling GET /v1/orders/{id} instead would add
 * requests (two queries each) per flow to the very process being measured; this adds one small
 * query per poll interval to PostgreSQL and nothing to Paycenter, and the latency it reports is
 * the transition's own time rather than the poll's. Its backend is left out of the PG CPU column.
 */
class PaidWatcher {
  private readonly waiting = new Map<string, { resolve(perfMs: number): void; reject(err: Error): void; deadline: number }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private meanLatencyMs = 0;

  private constructor(
    private readonly pool: Pool,
    /** DB epoch ms minus performance.now(). */
    private readonly offsetMs: number,
  ) {}

  static async start(pool: Pool): Promise<PaidWatcher> {
    let best = { spanMs: Infinity, offsetMs: 0 };
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const { rows } = await pool.query<{ ms: number }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms');
      const t1 = performance.now();
      if (t1 - t0 < best.spanMs) best = { spanMs: t1 - t0, offsetMs: rows[0]!.ms - (t0 + t1) / 2 };
    }
    const watcher = new PaidWatcher(pool, best.offsetMs);
    watcher.schedule();
    return watcher;
  }

  /** Resolves with the performance.now() time of the order's PAID transition. */
  expect(orderId: string): Promise<number> {
    const since = performance.now();
    return new Promise((resolve, reject) => {
      const done = (paidMs: number) => {
        this.meanLatencyMs = this.meanLatencyMs === 0 ? paidMs - since : 0.95 * this.meanLatencyMs + 0.05 * (paidMs - since);
        resolve(paidMs);
      };
      this.waiting.set(orderId, { resolve: done, reject, deadline: since + FLOW_PAID_TIMEOUT_MS });
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    const intervalMs = Math.min(PAID_POLL_INTERVAL_MS_MAX, Math.max(PAID_POLL_INTERVAL_MS_MIN, this.meanLatencyMs / 10));
    if (!this.stopped) this.timer = setTimeout(() => void this.poll(), intervalMs);
  }

  private async poll(): Promise<void> {
    try {
      if (this.waiting.size === 0) return;
      const { rows } = await this.pool.query<{ orderId: string; atMs: number }>(
        `SELECT order_id AS "orderId", (extract(epoch FROM at) * 1000)::float8 AS "atMs"
           FROM transitions WHERE order_id = ANY($1::text[]) AND entity = 'order' AND to_state = 'PAID'`,
        [[...this.waiting.keys()]],
      );
      for (const row of rows) {
        this.waiting.get(row.orderId)?.resolve(row.atMs - this.offsetMs);
        this.waiting.delete(row.orderId);
      }
      const now = performance.now();
      for (const [orderId, w] of this.waiting) {
        if (w.deadline > now) continue;
        w.reject(new Error(`order ${orderId} not PAID within ${FLOW_PAID_TIMEOUT_MS} ms`));
        this.waiting.delete(orderId);
      }
    } catch (err) {
      for (const w of this.waiting.values()) w.reject(err as Error);
      this.waiting.clear();
    } finally {
      this.schedule();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting: where the cores went during a phase

/** Whose work a PostgreSQL backend does, by its application_name. */
type PgOwner = 'paycenter' | 'bank' | 'floor';
const FLOOR_APPLICATION_NAME = 'paycenter-bench-floor';

function pgOwner(applicationName: string): PgOwner {
  if (applicationName === FLOOR_APPLICATION_NAME) return 'floor';
  if (applicationName.startsWith('paycenter-sandbox')) return 'bank';
  // 'paycenter' (the API pool) and '' (graphile-worker's pool, which names none).
  return 'paycenter';
}

interface CpuSnapshot {
  paycenter: number;
  sandbox: number;
  driver: number;
  machine: number;
  /** Per backend pid: whose it is and its CPU seconds so far. */
  postgres: Map<number, { owner: PgOwner; seconds: number }>;
}

/**
 * CPU seconds so far of each process of the run. PostgreSQL is counted per backend connected to
 * the bench database (read from /proc, so only for a server on this machine) and split by whose
 * work it does; the machine's total shows what everything else took (other users of the machine,
 * PostgreSQL's WAL writer and checkpointer).
 */
function cpuMeter(pids: { paycenter: number; sandbox: number | undefined }, admin: Pool, database: string): () => Promise<CpuSnapshot> {
  return async () => {
    const { rows } = await admin.query<{ pid: number; applicationName: string }>(
      'SELECT pid, application_name AS "applicationName" FROM pg_stat_activity WHERE datname = $1 AND application_name <> $2',
      [database, WATCH_APPLICATION_NAME],
    );
    const own = process.cpuUsage();
    return {
      paycenter: cpuSeconds(pids.paycenter),
      sandbox: pids.sandbox === undefined ? 0 : cpuSeconds(pids.sandbox),
      driver: (own.user + own.system) / 1e6,
      machine: machineBusySeconds(),
      postgres: new Map(rows.map((r) => [r.pid, { owner: pgOwner(r.applicationName), seconds: cpuSeconds(r.pid) }])),
    };
  };
}

interface CpuPerOp {
  paycenter: number;
  sandbox: number;
  driver: number;
  pg: Record<PgOwner, number>;
  /** Everything else the machine did meanwhile. */
  other: number;
}

function perOp(after: CpuSnapshot, before: CpuSnapshot, n: number): CpuPerOp {
  const perOpMs = (seconds: number) => (seconds * 1000) / Math.max(1, n);
  const pg: Record<PgOwner, number> = { paycenter: 0, bank: 0, floor: 0 };
  for (const [pid, b] of after.postgres) pg[b.owner] += perOpMs(b.seconds - (before.postgres.get(pid)?.seconds ?? 0));
  const c = {
    paycenter: perOpMs(after.paycenter - before.paycenter),
    sandbox: perOpMs(after.sandbox - before.sandbox),
    driver: perOpMs(after.driver - before.driver),
    pg,
  };
  const ours = c.paycenter + c.sandbox + c.driver + pg.paycenter + pg.bank + pg.floor;
  return { ...c, other: Math.max(0, perOpMs(after.machine - before.machine) - ours) };
}

/**
 * CPU per operation of what is under test, leaving out the bank and the HTTP client: for an HTTP
 * phase, Paycenter and its backends; for a floor phase, the node-pg driver running the statements
 * and its backends, plus Paycenter's job runner, which every add_job's NOTIFY wakes.
 */
function cpuUnderTest(p: Phase): number {
  const c = p.cpuMsPerOp;
  return p.name.endsWith('floor') ? c.driver + c.pg.floor + c.paycenter + c.pg.paycenter : c.paycenter + c.pg.paycenter;
}

// ---------------------------------------------------------------------------------------------
// Report

interface Phase extends Stats {
  name: string;
  cpuMsPerOp: CpuPerOp;
  /** Cores busy with work not of this run during the phase (other users of the machine). */
  otherCores: number;
}

interface Report {
  concurrency: number;
  database: string;
  sandbox: string;
  poolSize: number;
  phases: Phase[];
  submit: { http: Phase; floor: Phase };
  flow: { http: Phase; floor: Phase };
  delivery: DeliveryFigures;
  rssPeakLoadMiB: number;
  rssHighWaterMiB: number;
  rssReadyMiB: number;
  childWarnings: number;
  loadAverage: number;
}

function printReport(r: Report): void {
  const f0 = (v: number) => v.toFixed(0);
  const f1 = (v: number) => v.toFixed(1);
  const f2 = (v: number) => v.toFixed(2);
  const submitRatio = r.submit.http.perSecond / r.submit.floor.perSecond;
  const flowRatio = r.flow.http.perSecond / r.flow.floor.perSecond;
  const rssMiB = Math.max(r.rssPeakLoadMiB, r.rssHighWaterMiB);
  const clean = (p: Phase) => p.errors === 0;
  const checks = [
    {
      what: 'submissions/s',
      value: `${f0(r.submit.http.perSecond)}/s`,
      target: `>= ${TARGETS.submissionsPerSecond}/s`,
      pass: r.submit.http.perSecond >= TARGETS.submissionsPerSecond && clean(r.submit.http),
    },
    { what: 'submission p99', value: `${f1(r.submit.http.p99Ms)} ms`, target: `<= ${TARGETS.submissionP99Ms} ms`, pass: r.submit.http.p99Ms <= TARGETS.submissionP99Ms },
    { what: 'submissions vs floor', value: `${f2(submitRatio)} x`, target: `>= ${TARGETS.floorRatio} x`, pass: submitRatio >= TARGETS.floorRatio },
    {
      what: 'flows/s',
      value: `${f0(r.flow.http.perSecond)}/s`,
      target: `>= ${TARGETS.flowsPerSecond}/s`,
      pass: r.flow.http.perSecond >= TARGETS.flowsPerSecond && clean(r.flow.http),
    },
    { what: 'flows vs floor', value: `${f2(flowRatio)} x`, target: `>= ${TARGETS.floorRatio} x`, pass: flowRatio >= TARGETS.floorRatio },
    { what: 'peak RSS (Paycenter)', value: `${f0(rssMiB)} MiB`, target: `< ${TARGETS.rssMiB} MiB`, pass: rssMiB < TARGETS.rssMiB },
  ];
  const row = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out: string[] = [];
  out.push('');
  out.push(
    `Paycenter bench: concurrency ${r.concurrency}, PostgreSQL ${r.database}, sandbox ${r.sandbox}, ` +
      `pool ${r.poolSize} connections (Paycenter and floor alike), ${cpus().length} cores, load average ${r.loadAverage.toFixed(2)} at start`,
  );
  out.push('');
  const w1 = [18, 5, 6, 6, 7, 7, 7, 14, 12, 7, 7, 7];
  out.push(row(['', '', '', '', '', '', '', 'CPU ms/op:', '', '', '', 'others'], w1));
  out.push(row(['phase', 'n', 'errors', 'per s', 'p50 ms', 'p99 ms', 'max ms', 'Paycenter+PG', 'bank+PG', 'driver', 'floorPG', 'cores'], w1));
  const label: Record<string, string> = {
    'submit-http': 'submissions HTTP',
    'submit-floor': 'submissions floor',
    'flow-http': 'flows HTTP',
    'flow-floor': 'flows floor',
  };
  for (const p of r.phases) {
    const c = p.cpuMsPerOp;
    out.push(
      row(
        [
          label[p.name] ?? p.name,
          String(p.n),
          String(p.errors),
          f0(p.perSecond),
          f2(p.p50Ms),
          f2(p.p99Ms),
          f1(p.maxMs),
          `${f2(c.paycenter)}+${f2(c.pg.paycenter)}`,
          `${f2(c.sandbox)}+${f2(c.pg.bank)}`,
          f2(c.driver),
          f2(c.pg.floor),
          f2(p.otherCores),
        ],
        w1,
      ),
    );
  }
  out.push(
    '  CPU ms/op: each process and (+) its PostgreSQL backends; driver: this process (HTTP client, or node-pg for the floor);' +
      ' others: cores the rest of the machine kept busy meanwhile (noise)',
  );
  const submitCpuRatio = cpuUnderTest(r.submit.floor) / cpuUnderTest(r.submit.http);
  const flowCpuRatio = cpuUnderTest(r.flow.floor) / cpuUnderTest(r.flow.http);
  out.push(
    `  CPU under test (no bank, no HTTP client): submissions ${f2(cpuUnderTest(r.submit.http))} ms vs floor ` +
      `${f2(cpuUnderTest(r.submit.floor))} ms (floor/HTTP ${f2(submitCpuRatio)}); flows ${f2(cpuUnderTest(r.flow.http))} ms vs floor ` +
      `${f2(cpuUnderTest(r.flow.floor))} ms (floor/HTTP ${f2(flowCpuRatio)})`,
  );
  out.push(
    `  HTTP / floor: submissions ${f2(submitRatio)} x throughput, p50 ${f1(r.submit.http.p50Ms / r.submit.floor.p50Ms)} x; ` +
      `flows ${f2(flowRatio)} x throughput, p50 ${f1(r.flow.http.p50Ms / r.flow.floor.p50Ms)} x`,
  );
  out.push(
    `  RSS of Paycenter: ${f0(r.rssReadyMiB)} MiB when ready, peak ${f0(r.rssPeakLoadMiB)} MiB sampled every 100 ms under HTTP load, ` +
      `VmHWM ${f0(r.rssHighWaterMiB)} MiB over its life`,
  );
  out.push('  flow latency: from POST /v1/orders to the PAID transition in the database (read by the driver, not polled over HTTP)');
  const d = r.delivery;
  out.push(
    `  webhooks to a local receiver: ${d.live.n} events made at ${f0(d.live.perSecond)}/s (create + close), transaction to receipt ` +
      `p50 ${f1(d.live.p50Ms)} ms, p99 ${f1(d.live.p99Ms)} ms; a backlog of ${d.drain.n} drained at ${f0(d.drain.perSecond)} events/s`,
  );
  for (const p of r.phases) for (const e of p.errorSamples) out.push(`  error in ${p.name}: ${e}`);
  if (r.childWarnings > 0) out.push(`  children logged ${r.childWarnings} warnings or errors`);
  out.push('');
  const w2 = [22, 12, 12, 6];
  out.push(row(['target', 'measured', 'goal', ''], w2));
  for (const c of checks) out.push(row([c.what, c.value, c.target, c.pass ? 'PASS' : 'MISS'], w2));
  out.push('');
  const pass = checks.every((c) => c.pass);
  const summary = {
    bench: 'paycenter',
    concurrency: r.concurrency,
    database: r.database,
    sandbox: r.sandbox,
    submissions: phaseSummary(r.submit),
    flows: phaseSummary(r.flow),
    delivery: {
      liveEvents: r.delivery.live.n,
      livePerSecond: round(r.delivery.live.perSecond),
      lagP50Ms: round(r.delivery.live.p50Ms, 1),
      lagP99Ms: round(r.delivery.live.p99Ms, 1),
      drainEvents: r.delivery.drain.n,
      drainPerSecond: round(r.delivery.drain.perSecond),
    },
    peakRssMiB: round(rssMiB),
    pass,
    missed: checks.filter((c) => !c.pass).map((c) => c.what),
  };
  out.push(JSON.stringify(summary));
  console.log(out.join('\n'));
}

/** One HTTP phase beside its floor, for the JSON summary line. */
function phaseSummary({ http, floor }: { http: Phase; floor: Phase }) {
  return {
    perSecond: round(http.perSecond),
    p50Ms: round(http.p50Ms, 2),
    p99Ms: round(http.p99Ms, 2),
    errors: http.errors,
    floorPerSecond: round(floor.perSecond),
    floorRatio: round(http.perSecond / floor.perSecond, 2),
    cpuMsUnderTest: round(cpuUnderTest(http), 2),
    floorCpuMs: round(cpuUnderTest(floor), 2),
  };
}

function round(v: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
