// Processes and databases for the tools that run Paycenter as other systems would (bench, chaos):
// a PostgreSQL server to make scratch databases on, Paycenter and the sandbox as child processes,
// and a wait for a port to open or close.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { startEmbeddedPostgres } from '../store/embedded.ts';
import { databaseAnswers } from '../store/db.ts';

export { freePort } from '../store/embedded.ts';

const LOCAL_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_SERVER_CONNECT_TIMEOUT_MS = 2_000;
const CHILD_READY_TIMEOUT_MS = 60_000;
const CHILD_STOP_WAIT_MS = 10_000;
/** Last output lines of a child kept to explain a failure. */
const CHILD_OUTPUT_TAIL_LINES = 40;

const PAYCENTER_BIN = fileURLToPath(new URL('../../bin/paycenter.js', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Database

export interface ScratchServer {
  /** Where the server came from, for the report. */
  source: 'DATABASE_URL' | 'local server' | 'embedded';
  /** A connection string to a database the bench may CREATE/DROP databases from. */
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * DATABASE_URL if set, else (with `tryLocal`) the local server if it answers, else embedded
 * PostgreSQL in a temp dir.
 */
export async function openServer(log: Logger, tryLocal = true): Promise<ScratchServer> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return { source: 'DATABASE_URL', adminUrl: fromEnv, stop: async () => undefined };
  if (tryLocal && (await databaseAnswers(LOCAL_SERVER_URL, LOCAL_SERVER_CONNECT_TIMEOUT_MS))) {
    return { source: 'local server', adminUrl: LOCAL_SERVER_URL, stop: async () => undefined };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'paycenter-pg-'));
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

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database named `<prefix>_<random>`; Paycenter migrates it when it starts. */
export async function createScratchDatabase(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  try {
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  } catch (err) {
    const where = new URL(adminUrl);
    where.password = '';
    throw new Error(`cannot create a scratch database on ${where.toString()}: ${(err as Error).message}`);
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
  const client = new pg.Client({ connectionString: url, application_name: 'paycenter-harness' });
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
  /** SIGKILL, as a crash or the OOM killer would; resolves once it has exited. */
  kill(): Promise<void>;
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
    async kill() {
      if (exited(child)) return;
      child.kill('SIGKILL');
      await waitExit(child, CHILD_STOP_WAIT_MS);
    },
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

const PORT_POLL_MS = 50;

/** Resolves once a TCP connection to 127.0.0.1:`port` succeeds (`open`) or is refused (not `open`). */
export async function waitForPort(port: number, open: boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await accepts(port)) !== open) {
    if (Date.now() > until) throw new Error(`port ${port} did not ${open ? 'open' : 'close'} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, PORT_POLL_MS));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
