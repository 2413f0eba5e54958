// The embedded PostgreSQL that a Paycenter without DATABASE_URL runs: its data survives restarts,
// and a Paycenter that was SIGKILLed (leaving its postgres running) does not block the next start.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logger.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EMBEDDED_TS = path.join(ROOT, 'src/store/embedded.ts');
const CHILD_READY_TIMEOUT_MS = 60_000;

/** A logger whose lines the test can read. */
function capturingLogger(): { log: Logger; messages: () => string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    log: pino({ level: 'debug' }, sink),
    messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg),
  };
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function postmasterPid(pgDir: string): number | undefined {
  const file = path.join(pgDir, 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}

/** Running (not zombie) processes whose command line names this cluster's directory. */
function processesUsing(pgDir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
      if (cmdline.split('\0').includes(pgDir) && state !== 'Z') found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * A separate Paycenter-like process that starts embedded PostgreSQL on `dataDir`, prints its
 * connection string, and then waits to be killed.
 */
async function startInChildProcess(dataDir: string): Promise<{ url: string; kill9(): Promise<void> }> {
  const script = `
    import { pino } from 'pino';
    import { startEmbeddedPostgres } from ${JSON.stringify(EMBEDDED_TS)};
    const pg = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, log: pino({ level: 'warn' }, pino.destination(2)) });
    console.log(JSON.stringify({ url: pg.connectionString }));
    setInterval(() => undefined, 60_000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`child did not start postgres: ${stderr}`)), CHILD_READY_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('startEmbeddedPostgres', () => {
  let dataDir: string;
  let pgDir: string;
  const started: EmbeddedPostgres[] = [];

  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paycenter-embedded-test-'));
    pgDir = path.join(await fs.realpath(dataDir), 'pg');
  });

  afterEach(async () => {
    for (const server of started.splice(0)) await server.stop();
    for (const pid of processesUsing(pgDir)) process.kill(pid, 'SIGKILL');
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  async function start(log: Logger = capturingLogger().log): Promise<EmbeddedPostgres> {
    const server = await startEmbeddedPostgres({ dataDir, log });
    started.push(server);
    return server;
  }

  it('starts, answers queries in the paycenter database, stops, and keeps its data across restarts', async () => {
    const first = await start();
    expect(first.connectionString).toMatch(/^postgres:\/\/postgres:[0-9a-f]+@127\.0\.0\.1:\d+\/paycenter$/);
    await query(first.connectionString, 'CREATE TABLE kept (note text)');
    await query(first.connectionString, 'INSERT INTO kept VALUES ($1)', ['订单 survives a restart']);
    const [encoding] = await query<{ server_encoding: string }>(first.connectionString, 'SHOW server_encoding');
    expect(encoding?.server_encoding).toBe('UTF8');

    await first.stop();
    await first.stop(); // idempotent
    expect(postmasterPid(pgDir)).toBeUndefined();
    expect(processesUsing(pgDir)).toEqual([]);

    const second = await start();
    expect(await query(second.connectionString, 'SELECT note FROM kept')).toEqual([{ note: '订单 survives a restart' }]);
    await second.stop();
    expect(processesUsing(pgDir)).toEqual([]);
  });

  it('as root, leaves the data directory ours and only pg/ to the postgres user', async () => {
    if (process.getuid?.() !== 0) return;
    const server = await start();
    await server.stop();
    const [outer, inner, password] = await Promise.all([
      fs.stat(dataDir),
      fs.stat(pgDir),
      fs.stat(path.join(dataDir, 'pg.password')),
    ]);
    expect(outer.uid).toBe(0);
    expect(inner.uid).not.toBe(0);
    expect(password.uid).toBe(0);
    expect(password.mode & 0o077).toBe(0);
  });

  it('takes over from a SIGKILLed Paycenter whose postgres is still running', async () => {
    const crashed = await startInChildProcess(dataDir);
    await query(crashed.url, 'CREATE TABLE kept (note text)');
    await query(crashed.url, "INSERT INTO kept VALUES ('written before the crash')");
    await crashed.kill9();
    const orphan = postmasterPid(pgDir);
    expect(orphan).toBeDefined();
    expect(isRunning(orphan!)).toBe(true); // the precondition: the orphaned postgres outlived its parent

    const { log, messages } = capturingLogger();
    const next = await start(log);
    expect(messages()).toContain('postgres from a previous Paycenter run is still running; shutting it down');
    expect(isRunning(orphan!)).toBe(false);
    expect(await query(next.connectionString, 'SELECT note FROM kept')).toEqual([{ note: 'written before the crash' }]);

    await next.stop();
    expect(processesUsing(pgDir)).toEqual([]);
    expect(postmasterPid(pgDir)).toBeUndefined();
  });

  it('recovers when the orphaned postgres was killed too, leaving a stale postmaster.pid', async () => {
    const crashed = await startInChildProcess(dataDir);
    await query(crashed.url, 'CREATE TABLE kept (note text)');
    await query(crashed.url, "INSERT INTO kept VALUES ('committed, never checkpointed')");
    await crashed.kill9();
    const orphan = postmasterPid(pgDir);
    process.kill(orphan!, 'SIGKILL');
    await expect.poll(() => isRunning(orphan!)).toBe(false);
    // Its pid may linger as a zombie that nothing reaps; postgres alone would take that for alive.
    expect(existsSync(path.join(pgDir, 'postmaster.pid'))).toBe(true);

    const { log, messages } = capturingLogger();
    const next = await start(log);
    expect(messages()).toContain('postgres was not shut down cleanly; it will recover on start');
    expect(await query(next.connectionString, 'SELECT note FROM kept')).toEqual([{ note: 'committed, never checkpointed' }]);
    await next.stop();
    expect(processesUsing(pgDir)).toEqual([]);
  });

  it('refuses a data directory whose postgres belongs to a Paycenter that is still running', async () => {
    const live = await startInChildProcess(dataDir);
    try {
      await expect(startEmbeddedPostgres({ dataDir, log: capturingLogger().log })).rejects.toThrow(/is in use by postgres pid/);
      // …and it left the live one alone.
      expect(await query(live.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    } finally {
      await live.kill9();
    }
    // Clean up the orphan the way the next Paycenter would.
    const cleanup = await start();
    await cleanup.stop();
  });
});
