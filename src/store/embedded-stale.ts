// A postmaster left behind by a SIGKILLed Paycenter: found through <dataDir>/pg/postmaster.pid
// and stopped cleanly before our own starts (see embedded.ts).
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.ts';

/** Fast shutdown rolls back open transactions and writes a checkpoint: seconds, not minutes. */
export const STOP_FAST_WAIT_MS = 30_000;
/** Immediate shutdown (SIGQUIT) skips the checkpoint; the next start replays WAL instead. */
export const STOP_IMMEDIATE_WAIT_MS = 10_000;
export const POLL_INTERVAL_MS = 50;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type PidState = 'gone' | 'our-postmaster' | 'other';

export async function stopStalePostmaster(pgDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  let text: string;
  try {
    text = await fs.readFile(pidFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) {
    log.warn({ pidFile }, 'postmaster.pid is unreadable; leaving it to postgres');
    return;
  }
  const state = pidState(pid, pgDir);
  if (state === 'gone') {
    // Postgres would remove the file itself, unless the dead postmaster is a zombie that no init
    // reaps: its pid still answers kill(0), and postgres would refuse to start.
    log.info({ postgresPid: pid }, 'postgres was not shut down cleanly; it will recover on start');
    await fs.rm(pidFile, { force: true });
    return;
  }
  if (state === 'other') {
    // The pid was reused by an unrelated process; postgres would refuse to start ("lock file
    // already exists"), so the file goes.
    log.warn({ postgresPid: pid }, 'postmaster.pid names a process that is not this cluster; removing the stale file');
    await fs.rm(pidFile, { force: true });
    return;
  }
  const parent = parentPid(pid);
  if (parent === process.pid) {
    throw new Error(`embedded PostgreSQL in ${pgDir} is already running in this process (pid ${pid})`);
  }
  if (parent !== undefined && parent !== 1 && isNodeProcess(parent)) {
    // Its parent is alive: another Paycenter is using this data directory right now.
    throw new Error(`${pgDir} is in use by postgres pid ${pid}, started by the running process ${parent}`);
  }
  log.warn({ postgresPid: pid }, 'postgres from a previous Paycenter run is still running; shutting it down');
  const stopped =
    (await signalAndWait(pid, 'SIGINT', STOP_FAST_WAIT_MS, pgDir)) ||
    (await signalAndWait(pid, 'SIGQUIT', STOP_IMMEDIATE_WAIT_MS, pgDir));
  if (!stopped) throw new Error(`postgres pid ${pid} (${pgDir}) did not stop after SIGINT and SIGQUIT`);
  log.info({ postgresPid: pid }, 'previous postgres stopped');
  // A clean shutdown removes the file; a postmaster that died some other way meanwhile (it was
  // being killed as we looked) leaves it, naming a zombie that postgres would take for alive.
  const left = await fs.readFile(pidFile, 'utf8').catch(() => '');
  if (Number(left.split('\n')[0]) === pid) await fs.rm(pidFile, { force: true });
}

async function signalAndWait(pid: number, signal: NodeJS.Signals, waitMs: number, pgDir: string): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw err;
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (pidState(pid, pgDir) !== 'our-postmaster') return true;
    await sleep(POLL_INTERVAL_MS);
  }
  return false;
}

/**
 * Whether `pid` is the postmaster of the cluster in `pgDir`. A zombie counts as gone: the
 * reparented postmaster may wait to be reaped by an init that never does.
 */
function pidState(pid: number, pgDir: string): PidState {
  if (process.platform !== 'linux') {
    try {
      process.kill(pid, 0);
      return 'our-postmaster';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'other' : 'gone';
    }
  }
  let stat: string;
  let cmdline: string[];
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return 'gone';
  }
  const processState = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  if (processState === 'Z' || processState === 'X') return 'gone';
  const dashD = cmdline.indexOf('-D');
  const isPostgres = path.basename(cmdline[0] ?? '') === 'postgres';
  return isPostgres && dashD >= 0 && cmdline[dashD + 1] === pgDir ? 'our-postmaster' : 'other';
}

function parentPid(pid: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const match = /^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function isNodeProcess(pid: number): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return /^node/.test(path.basename(argv0)) || argv0 === process.execPath;
  } catch {
    return false;
  }
}

