// `paycenter chaos`: the sandbox bank, N Paycenter processes and a business receiver, a workload
// of shoppers, every fault we know of, and then — once the faults are healed and the system is
// quiet — a check of G1–G6 against the databases and a reconciliation of every channel's bill (R).
// Exit status 1 on any violation.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../logger.ts';
import { createPool, type Queryable } from '../store/db.ts';
import { findDefaultApp } from '../store/apps.ts';
import { newWebhookSecret } from '../domain/webhook-signature.ts';
import { createScratchDatabase, openServer } from '../harness/processes.ts';
import { startCluster } from './cluster.ts';
import { startReceiver } from './receiver.ts';
import { runWorkload, type WorkloadStats } from './workload.ts';
import { startFaults, FAULT_KINDS, type FaultCounts, type FaultKind } from './faults.ts';
import { isQuiet, waitForQuiet, type InFlight } from './quiet.ts';
import { loadForgers } from './forgers.ts';
import { seededRng } from './random.ts';
import { checkInvariants, formatInvariantTable } from './invariants.ts';
import type { InvariantResult, WorkloadLog } from './types.ts';
import { progressLine } from './progress.ts';
import { reconcileRun, runDays } from './reconcile.ts';

const QUIET_REPORT_EVERY_MS = 10_000;

export interface ChaosOptions {
  orders: number;
  instances: number;
  faults: ReadonlySet<FaultKind>;
  seed: number;
  json: boolean;
  redis: boolean;
  concurrency: number;
  quietTimeoutMs: number;
}

export interface ChaosReport {
  seed: number;
  orders: number;
  instances: number;
  faults: FaultKind[];
  database: string;
  redis: boolean;
  durationMs: number;
  workload: WorkloadStats;
  faultCounts: FaultCounts;
  /** Refunds at the end, by kind (merchant, duplicate, late) and state. */
  refunds: Record<string, Record<string, number>>;
  /** What was still in flight when the check ran (all zero when the system went quiet). */
  inFlight: InFlight;
  quiet: boolean;
  invariants: InvariantResult[];
  ok: boolean;
}

/** Every schedule compressed so a run resolves in minutes, keeping each schedule's shape. */
function paycenterEnv(apiKey: string, webhookUrl: string, webhookSecret: string): Record<string, string> {
  return {
    PAYCENTER_API_KEY: apiKey,
    PAYCENTER_QUERY_SCHEDULE: '1000,1000,2000,2000,3000,3000,5000',
    PAYCENTER_EXCEPTION_QUERY_INTERVAL_MS: '2000',
    PAYCENTER_REFUND_QUERY_SCHEDULE: '1000,2000,3000,5000',
    PAYCENTER_DUPLICATE_WINDOW_MS: '120000',
    PAYCENTER_WEBHOOK_URL: webhookUrl,
    PAYCENTER_WEBHOOK_SECRET: webhookSecret,
    PAYCENTER_DELIVERY_SCHEDULE: '200,500,1000,2000,3000,5000,5000,5000,5000,5000,5000,5000',
    PAYCENTER_DELIVERY_TIMEOUT_MS: '2000',
    PAYCENTER_DELIVERY_POLL_INTERVAL_MS: '500',
    PAYCENTER_WORKER_POLL_INTERVAL_MS: '200',
    // A killed process's locked jobs come back within half a minute instead of five.
    PAYCENTER_JOB_LOCK_TIMEOUT_MS: '20000',
    // Several processes share one server's connections.
    PAYCENTER_DB_POOL_SIZE: '8',
    PAYCENTER_WORKER_CONCURRENCY: '6',
    LOG_LEVEL: 'warn',
  };
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  // Terminated connections make embedded PostgreSQL complain on purpose; only errors are news.
  const log = createLogger('error', 'paycenter-chaos');
  const started = new Date();
  const cleanup: (() => Promise<void>)[] = [];
  const runCleanup = async () => {
    for (const step of cleanup.reverse().splice(0)) await step().catch(() => undefined);
  };
  const onSignal = () => void runCleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const say = (line: string) => process.stderr.write(`${line}\n`);
  try {
    // Embedded PostgreSQL unless DATABASE_URL names a server.
    const server = await openServer(log, false);
    cleanup.push(() => server.stop());
    const db = await createScratchDatabase(server.adminUrl, 'paycenter_chaos');
    cleanup.push(() => db.drop());
    const businessDb = await createScratchDatabase(server.adminUrl, 'paycenter_chaos_business');
    cleanup.push(() => businessDb.drop());
    const tmp = await mkdtemp(join(tmpdir(), 'paycenter-chaos-'));
    cleanup.push(() => rm(tmp, { recursive: true, force: true }));
    const pool = createPool(db.url, 4, 'chaos-checker');
    cleanup.push(() => pool.end());
    const businessPool = createPool(businessDb.url, 16, 'chaos-business');
    cleanup.push(() => businessPool.end());

    const rng = seededRng(opts.seed);
    const secret = newWebhookSecret();
    const receiver = await startReceiver(businessPool, secret, rng.fork('receiver'));
    cleanup.push(() => receiver.close());
    const apiKey = `pk_chaos_${randomBytes(16).toString('hex')}`;
    say(`chaos: seed ${opts.seed}, ${opts.orders} purchases, ${opts.instances} Paycenter processes, database ${server.source}` +
      `${opts.redis ? ', Redis' : ''}; faults: ${[...opts.faults].join(', ') || 'none'}`);
    const cluster = await startCluster({
      instances: opts.instances,
      databaseUrl: db.url,
      env: paycenterEnv(apiKey, receiver.url, secret),
      redis: opts.redis,
      tmpDir: tmp,
      sandboxTimeScale: '0.001',
    });
    cleanup.push(() => cluster.stop());
    const app = await findDefaultApp(pool);
    if (!app) throw new Error('Paycenter started but made no default app');

    const faultErrors: string[] = [];
    const faults = startFaults(opts.faults, {
      cluster,
      receiver,
      admin: pool,
      database: db.name,
      rng: rng.fork('faults'),
      onError: (err) => {
        faultErrors.push(String(err));
        say(`chaos: a fault step failed: ${String(err).slice(0, 2_000)}`);
        // The bank is never a fault target: a step that cannot reach it usually means it died.
        if (faultErrors.length === 1) {
          try {
            cluster.sandbox.assertAlive();
          } catch (dead) {
            say(`chaos: the sandbox bank is not running: ${String(dead).slice(0, 4_000)}`);
          }
        }
      },
    });
    const workloadLog: WorkloadLog = { forged: [], refunds: [] };
    let done = 0;
    const progress = progressLine(() => ({
      done,
      total: opts.orders,
      detail: `kills ${faults.counts.kills} · redis stops ${faults.counts.redisStops} · connections cut ${faults.counts.terminatedConnections} · forged ${workloadLog.forged.length}`,
    }));
    const workload = await runWorkload(
      {
        purchases: opts.orders,
        concurrency: opts.concurrency,
        rng: rng.fork('workload'),
        apiKey,
        liveUrls: () => cluster.liveUrls(),
        sandboxUrl: cluster.sandboxUrl,
        forgers: await loadForgers(pool, cluster.merchants),
        hub: receiver.hub,
        prefix: `s${opts.seed}`,
        onPurchaseDone: () => (done += 1),
      },
      workloadLog,
    );
    progress.stop();
    say('chaos: workload done; healing every fault and waiting for the system to go quiet');
    await faults.heal();
    let lastSaid = 0;
    const inFlight = await waitForQuiet(pool, opts.quietTimeoutMs, (f) => {
      if (Date.now() - lastSaid < QUIET_REPORT_EVERY_MS) return;
      lastSaid = Date.now();
      say(`chaos: still in flight: ${f.openOrders} orders, ${f.openAttempts} attempts, ${f.pendingRefunds} refunds ` +
        `(${f.bankRefundsProcessing} processing at a bank), ${f.pendingDeliveries} deliveries, ${f.pendingNotifications} notifications`);
    });
    const quiet = isQuiet(inFlight);
    const invariants = await checkInvariants({ paycenter: pool, business: businessPool }, workloadLog, { appId: app.id });
    // After G1–G6 are read: a difference's action (a query, an EXCEPTION) must not change what they judge.
    say('chaos: reconciling every channel\'s bill of the run');
    invariants.push(await reconcileRun(() => cluster.liveUrls()[0], apiKey, runDays(started, new Date())));
    const refunds = await countRefunds(pool, app.id);
    const ok = quiet && invariants.every((r) => r.violations.length === 0);
    return {
      seed: opts.seed,
      orders: opts.orders,
      instances: opts.instances,
      faults: [...opts.faults],
      database: server.source,
      redis: opts.redis,
      durationMs: Date.now() - started.getTime(),
      workload,
      faultCounts: faults.counts,
      refunds,
      inFlight,
      quiet,
      invariants,
      ok,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runCleanup();
  }
}

export function formatChaosReport(r: ChaosReport): string {
  const w = r.workload;
  const f = r.faultCounts;
  const lines = [
    '',
    `Paycenter chaos: seed ${r.seed}, ${r.orders} purchases, ${r.instances} processes, PostgreSQL ${r.database}${r.redis ? ', Redis' : ''}, ` +
      `${(r.durationMs / 1000).toFixed(0)} s`,
    `  faults: ${r.faults.join(', ') || 'none'} — ${f.profiles} bank fault mixes, ${f.kills} SIGKILLs, ${f.redisStops} Redis stops, ` +
      `${f.terminatedConnections} connections terminated`,
    `  workload: ${w.paidAtBank} paid at the bank (${Object.entries(w.paidAtBankBy).map(([c, n]) => `${c} ${n}`).join(', ')}), ${w.switches} channel switches (${w.closedPayTries} closed attempts paid anyway, ` +
      `all refused unless G1/G3 say otherwise), ${w.forged} forged notifications, ${w.waits} waitForPayment calls, ` +
      `${w.withoutOrder} purchases left without an order${withoutOrderWhy(w)}, ${w.requestErrors} requests failed and retried`,
    `  refunds: ${w.refunds.asked} asked (${w.refunds.replays} replays of a refund number), ${w.refunds.accepted} accepted, ` +
      `refused: ${countsText(w.refunds.refusedBecause)}; at the end ${countsText(r.refunds.merchant ?? {})}`,
    `  duplicate payments: ${w.doublePays.paidTwice} of ${w.doublePays.tried} buyers paid twice; automatic refunds ${countsText(r.refunds.duplicate ?? {})}`,
    `  late payments: ${w.latePays.paid} of ${w.latePays.tried} buyers paid after the close; automatic refunds ${countsText(r.refunds.late ?? {})}`,
    r.quiet
      ? '  quiet: nothing left in flight when checked'
      : `  NOT QUIET when checked: ${JSON.stringify(r.inFlight)}`,
    '',
    formatInvariantTable(r.invariants),
    '',
    r.ok ? 'OK: no violation.' : 'VIOLATED: see above.',
  ];
  return lines.join('\n');
}

/** `{a: 2, b: 1}` as "2 a, 1 b", or "none". */
function countsText(counts: Record<string, number>): string {
  const parts = Object.entries(counts).map(([what, n]) => `${n} ${what}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

async function countRefunds(q: Queryable, appId: string): Promise<Record<string, Record<string, number>>> {
  const { rows } = await q.query<{ kind: string; state: string; n: number }>(
    'SELECT kind, state, count(*)::int AS n FROM refunds WHERE app_id = $1 GROUP BY 1, 2 ORDER BY 1, 2',
    [appId],
  );
  const counts: Record<string, Record<string, number>> = {};
  for (const r of rows) (counts[r.kind] ??= {})[r.state] = r.n;
  return counts;
}

function withoutOrderWhy(w: WorkloadStats): string {
  return w.withoutOrder === 0 ? '' : ` (every try failed; last answers: ${countsText(w.withoutOrderBecause)})`;
}

export const CHAOS_FAULT_KINDS = Object.keys(FAULT_KINDS) as FaultKind[];
