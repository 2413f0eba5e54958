// vitest globalSetup: picks a PostgreSQL server and makes sure a migrated template database exists
// on it, so that each test file clones its own database in milliseconds (test/helpers/db.ts).
//
// The server, first match wins:
//   PAYCENTER_TEST_PG=embedded      always the embedded PostgreSQL (to test the Node-only path)
//   TEST_DATABASE_URL, DATABASE_URL a server you name; its user needs CREATEDB
//   postgres://postgres@127.0.0.1:5432/postgres, if it answers within a second
//   embedded PostgreSQL in a temporary directory, removed at teardown
//
// The template is named after a hash of everything that shapes the schema (pc_tmpl_<hash>), is
// built under a temporary name and renamed when complete, so concurrent runs never clone a
// half-built one, and two runs that race to build the same hash both succeed.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/store/embedded.ts';
import { migrate } from '../../src/store/migrate.ts';
import { createPool, databaseAnswers } from '../../src/store/db.ts';
import { migrateSandbox } from '../../src/sandbox/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A connection string to the test server's maintenance database; its user can CREATE DATABASE. */
    pcAdminDatabaseUrl: string;
    /** The migrated template each test database is cloned from. */
    pcTemplateDatabase: string;
  }
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * Everything that decides the template's schema, this file included (it says how the template is
 * built); a change in any of these builds a new one. graphile-worker brings its own schema.
 */
const TEMPLATE_SOURCES = [
  'src/store/migrations',
  'src/store/migrate.ts',
  'src/sandbox',
  'test/helpers/global-setup.ts',
  'node_modules/graphile-worker/package.json',
];
const LOCAL_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_PROBE_TIMEOUT_MS = 1_000;
/** Leftovers of crashed runs. A CI run is bounded by 90 min, so 6 h old test databases are dead. */
const TEST_DATABASE_MAX_AGE_S = 6 * 60 * 60;
const TEMPLATE_BUILD_MAX_AGE_S = 60 * 60;
/**
 * Templates of other schemas on a long-lived server: every edit of a migration makes one, and a
 * rebuild takes about a second, so they go once no run can still be cloning them (a CI run is
 * bounded by 90 min).
 */
const TEMPLATE_UNUSED_MAX_AGE_S = 2 * 60 * 60;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await chooseServer();
  try {
    const template = await ensureTemplate(server.adminUrl);
    project.provide('pcAdminDatabaseUrl', server.adminUrl);
    project.provide('pcTemplateDatabase', template);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server.stop;
}

interface Server {
  adminUrl: string;
  stop(): Promise<void>;
}

async function chooseServer(): Promise<Server> {
  const none = async (): Promise<void> => undefined;
  if (process.env.PAYCENTER_TEST_PG === 'embedded') return startEmbedded();
  const named = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (named) return { adminUrl: named, stop: none };
  if (await databaseAnswers(LOCAL_SERVER_URL, LOCAL_PROBE_TIMEOUT_MS)) return { adminUrl: LOCAL_SERVER_URL, stop: none };
  return startEmbedded();
}

async function startEmbedded(): Promise<Server> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'paycenter-test-pg-'));
  // Postgres's own chatter stays out of the test output; warnings go to stderr.
  const log = pino({ name: 'test-pg', level: process.env.PAYCENTER_TEST_PG_LOG ?? 'warn' }, pino.destination(2));
  const pgServer = await startEmbeddedPostgres({ dataDir, log });
  return {
    adminUrl: withDatabase(pgServer.connectionString, 'postgres'),
    stop: async () => {
      await pgServer.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The same server, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export function templateHash(): string {
  const hash = createHash('sha256');
  for (const source of TEMPLATE_SOURCES) {
    for (const file of listFiles(path.join(ROOT, source))) {
      hash.update(`${path.relative(ROOT, file)}\n`).update(readFileSync(file)).update('\n');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function listFiles(target: string): string[] {
  if (!existsSync(target)) return [];
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target, { recursive: true, encoding: 'utf8' })
    .map((entry) => path.join(target, entry))
    .filter((file) => statSync(file).isFile())
    .sort();
}

async function ensureTemplate(adminUrl: string): Promise<string> {
  const name = `pc_tmpl_${templateHash()}`;
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'paycenter-test-setup' });
  await admin.connect();
  try {
    await collectGarbage(admin, name);
    if (!(await databaseExists(admin, name))) await buildTemplate(admin, adminUrl, name);
    // The comment records when the template was last used, for collectGarbage.
    await admin.query(`COMMENT ON DATABASE ${admin.escapeIdentifier(name)} IS 'paycenter test template, used ${nowS()}'`);
    return name;
  } finally {
    await admin.end();
  }
}

async function buildTemplate(admin: pg.Client, adminUrl: string, name: string): Promise<void> {
  const building = `pc_tmpl_build_${nowS()}_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(building)}`);
  try {
    const url = withDatabase(adminUrl, building);
    await migrate(url);
    // createPool's error handlers: the terminate below may reach a connection end() has not closed yet.
    const pool = createPool(url, 2, 'paycenter-test-template');
    try {
      await migrateSandbox(pool);
    } finally {
      await pool.end();
    }
    // A rename needs the database to itself; a pool that lingers past its end() must not fail it.
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [building]);
    await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(building)} RENAME TO ${admin.escapeIdentifier(name)}`);
  } catch (err) {
    await dropDatabase(admin, building);
    // 42P04 duplicate_database: a concurrent run finished the same template first.
    if ((err as { code?: string }).code === '42P04') return;
    throw new Error(`building the test template ${name} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Drops what crashed or old runs left behind: test databases, half-built and unused templates. */
async function collectGarbage(admin: pg.Client, currentTemplate: string): Promise<void> {
  const { rows } = await admin.query<{ datname: string; comment: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname LIKE 'pc\\_%'`,
  );
  const now = nowS();
  for (const { datname, comment } of rows) {
    const createdS = /^pc_(?:t|tmpl_build)_(\d+)_/.exec(datname)?.[1];
    const usedS = /used (\d+)$/.exec(comment ?? '')?.[1];
    const stale =
      (datname.startsWith('pc_t_') && createdS !== undefined && now - Number(createdS) > TEST_DATABASE_MAX_AGE_S) ||
      (datname.startsWith('pc_tmpl_build_') && createdS !== undefined && now - Number(createdS) > TEMPLATE_BUILD_MAX_AGE_S) ||
      (/^pc_tmpl_[0-9a-f]+$/.test(datname) &&
        datname !== currentTemplate &&
        usedS !== undefined &&
        now - Number(usedS) > TEMPLATE_UNUSED_MAX_AGE_S);
    if (stale) await dropDatabase(admin, datname);
  }
}

async function databaseExists(admin: pg.Client, name: string): Promise<boolean> {
  return ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
}

async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  // Another run may be dropping the same leftover at the same moment.
  await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`).catch(() => undefined);
}

function nowS(): number {
  return Math.floor(Date.now() / 1000);
}
