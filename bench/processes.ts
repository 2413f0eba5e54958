// The processes of a bench run: the database it runs on, Paycenter (and optionally the sandbox)
// as child processes, and the RSS sampler that watches Paycenter alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Logger } from '../src/logger.ts';
import { startEmbeddedPostgres } from '../src/store/embedded.ts';
import { databaseAnswers } from '../src/store/db.ts';

export { freePort } from '../src/store/embedded.ts';

const LOCAL_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_SERVER_CONNECT_TIMEOUT_MS = 2_000;
const CHILD_READY_TIMEOUT_MS = 60_000;
const CHILD_STOP_WAIT_MS = 10_000;
/** Last output lines of a child kept to explain a failure. */
const CHILD_OUTPUT_TAIL_LINES = 40;
const RSS_SAMPLE_INTERVAL_MS = 100;

const PAYCENTER_BIN = fileURLToPath(new URL('../bin/paycenter.js', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Database

export interface BenchServer {
  /** Where the server came from, for the report. */
  source: 'DATABASE_URL' | 'local server' | 'embedded';
  /** A connection string to a database the bench may CREATE/DROP databases from. */
  adminUrl: string;
  stop(): Promise<void>;
}

/** DATABASE_URL if set, else the local server if it answers, else embedded PostgreSQL in a temp dir. */
export async function openServer(log: Logger): Promise<BenchServer> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return { source: 'DATABASE_URL', adminUrl: fromEnv, stop: async () => undefined };
  if (await databaseAnswers(LOCAL_SERVER_URL, LOCAL_SERVER_CONNECT_TIMEOUT_MS)) return { source: 'local server', adminUrl: LOCAL_SERVER_URL, stop: async () => undefined };
  const dataDir = await mkdtemp(join(tmpdir(), 'paycenter-bench-pg-'));
  try {
    const embedded = await startEmbeddedPostgres({ dataDir, log });
    const admin = new URL(embedded.connectionString);
    admin.pathname = '/postgres';
    return {
      source: 'embedded',
      adminUrl: admin.toString(),
      stop: async () => {
        await embedded.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database for this run; Paycenter migrates it when it starts. */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `paycenter_bench_${randomBytes(6).toString('hex')}`;
  try {
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  } catch (err) {
    const where = new URL(adminUrl);
    where.password = '';
    throw new Error(`cannot create the bench database on ${where.toString()}: ${(err as Error).message}`);
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    drop: () =>
      (dropping ??= withClient(adminUrl, async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
      })),
  };
}

async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'paycenter-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Children

export interface Child {
  name: string;
  pid: number;
  /** Warn-or-worse log lines the child printed (pino level >= 40). */
  readonly warnings: number;
  /** Throws with the child's last output when it is no longer running. */
  assertAlive(): void;
  /** The last lines it printed. */
  tail(): string;
  /** SIGTERM (Paycenter drains and stops), SIGKILL after a grace period. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * `node bin/paycenter.js <args>` with `env` added. BENCH_CPU_PROF=<dir> profiles it: V8 writes one
 * profile per thread (main, and tsx's module loader) to <dir>/<name>/ when it exits.
 */
export function spawnPaycenter(name: string, args: string[], env: Record<string, string>): Child {
  const profDir = process.env.BENCH_CPU_PROF;
  const nodeArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', join(profDir, name)] : [];
  const child = spawn(process.execPath, [...nodeArgs, PAYCENTER_BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const lines: string[] = [];
  let warnings = 0;
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (line.length === 0) continue;
        if (/"level":(4|5|6)\d/.test(line)) warnings += 1;
        lines.push(line.length > 2_000 ? `${line.slice(0, 2_000)}…` : line);
        if (lines.length > CHILD_OUTPUT_TAIL_LINES) lines.shift();
      }
    });
  }
  let stopping: Promise<void> | undefined;
  return {
    name,
    pid: child.pid,
    get warnings() {
      return warnings;
    },
    tail: () => lines.join('\n'),
    assertAlive() {
      if (exited(child)) throw new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}):\n${lines.join('\n')}`);
    },
    stop: () => (stopping ??= stopChild(child)),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (await waitExit(child, CHILD_STOP_WAIT_MS)) return;
  child.kill('SIGKILL');
  await waitExit(child, CHILD_STOP_WAIT_MS);
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, waitMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Polls `url` until it answers 200, failing early with the child's output if the child dies. */
export async function waitReady(child: Child, url: string): Promise<void> {
  const deadline = Date.now() + CHILD_READY_TIMEOUT_MS;
  for (;;) {
    if (!isAlive(child.pid)) throw new Error(`${child.name} exited during start:\n${child.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${child.name} not ready at ${url} within ${CHILD_READY_TIMEOUT_MS} ms:\n${child.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const s = state.slice(state.lastIndexOf(')') + 2, state.lastIndexOf(')') + 3);
    return s !== 'Z' && s !== 'X';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Memory

export interface RssSampler {
  /** Starts a named window (e.g. one load phase); the peak is kept per window. */
  mark(window: string): void;
  /** Highest VmRSS sampled (MiB) per window, plus 'all'. */
  peaks(): Record<string, number>;
  /** VmRSS (MiB) when sampling began. */
  readonly startMiB: number;
  /** The kernel's high-water mark (VmHWM, MiB) for the whole life of the process. */
  highWaterMiB(): number;
  stop(): void;
}

/** Samples /proc/<pid>/status VmRSS every 100 ms. */
export function sampleRss(pid: number): RssSampler {
  const peaks: Record<string, number> = { all: 0 };
  let window: string | undefined;
  let lastHwm = 0;
  const sample = () => {
    const status = readStatus(pid);
    if (!status) return;
    lastHwm = Math.max(lastHwm, status.hwmMiB);
    peaks.all = Math.max(peaks.all ?? 0, status.rssMiB);
    if (window) peaks[window] = Math.max(peaks[window] ?? 0, status.rssMiB);
  };
  const timer = setInterval(sample, RSS_SAMPLE_INTERVAL_MS);
  timer.unref();
  sample();
  const startMiB = peaks.all ?? 0;
  return {
    startMiB,
    mark(name) {
      sample();
      window = name;
    },
    peaks: () => ({ ...peaks }),
    highWaterMiB() {
      sample();
      return lastHwm;
    },
    stop: () => clearInterval(timer),
  };
}

function readStatus(pid: number): { rssMiB: number; hwmMiB: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+)\\s*kB`, 'm').exec(text)?.[1] ?? 0);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}
/** USER_HZ; 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_S = 100;

// ---------------------------------------------------------------------------------------------
// A merchant of the standalone sandbox

/**
 * Makes a merchant key pair and APIv3 key, registers them with the sandbox at `sandboxUrl` through
 * its public merchant API, and returns the `channels.wechatpay` config Paycenter needs to use it.
 */
export async function registerSandboxMerchant(sandboxUrl: string, paycenterUrl: string): Promise<Record<string, string>> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const mchId = String(1_900_000_000 + randomBytes(3).readUIntBE(0, 3));
  const appId = `wx${randomBytes(8).toString('hex')}`;
  const certSerialNo = randomBytes(20).toString('hex').toUpperCase();
  const apiV3Key = randomBytes(16).toString('hex');
  const res = await fetch(`${sandboxUrl}/sandbox/wechatpay/merchants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      mchId,
      appId,
      merchantPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      merchantCertSerialNo: certSerialNo,
      apiV3Key,
    }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`sandbox merchant registration failed: HTTP ${res.status} ${text}`);
  const registered = JSON.parse(text) as { platformPublicKey: string; platformPublicKeyId: string };
  return {
    mchId,
    appId,
    apiBaseUrl: `${sandboxUrl}/sandbox/wechatpay`,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certSerialNo,
    apiV3Key,
    platformPublicKey: registered.platformPublicKey,
    platformPublicKeyId: registered.platformPublicKeyId,
    notifyUrl: `${paycenterUrl}/notify/wechatpay`,
  };
}

/** Busy CPU seconds of the whole machine (all cores) so far, from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const busy = cpu.reduce((sum, v, i) => (i === 3 || i === 4 || i > 7 ? sum : sum + v), 0);
    return busy / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}
