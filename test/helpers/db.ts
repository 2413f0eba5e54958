// One database per test file, cloned from the migrated template that global-setup.ts prepared:
//
//   let db: TestDatabase;
//   beforeAll(async () => { db = await createTestDatabase(); });
//   afterAll(() => db.drop());
//   it('…', async () => { await db.pool.query('SELECT 1'); });
//
// Files run in parallel, each in its own database, so no test sees another file's rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../src/store/db.ts';

export interface TestDatabase {
  name: string;
  /** Connection string of this database, for code under test that opens its own pool. */
  url: string;
  /** A small pool on this database, made by the application's own createPool. */
  pool: Pool;
  /**
   * Ends the pool and drops the database; connections still open after a 2 s grace are
   * terminated. Stop the code under test (its own pools) first. Idempotent.
   */
  drop(): Promise<void>;
}

/** A clone fails while anything is connected to the template; that is brief, so we retry. */
const CLONE_ATTEMPTS_MAX = 100;
const CLONE_RETRY_DELAY_MS = 100;
const POOL_SIZE = 5;
/** How long drop() lets connections close by themselves before it terminates them. */
const DROP_GRACE_MS = 2_000;
const DROP_POLL_MS = 20;

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('pcAdminDatabaseUrl');
  const template = inject('pcTemplateDatabase');
  // The creation time in the name lets global-setup drop what a crashed run left behind.
  const name = `pc_t_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, async (admin) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)} TEMPLATE ${admin.escapeIdentifier(template)}`);
        return;
      } catch (err) {
        // 55006 object_in_use: "source database … is being accessed by other users".
        if ((err as { code?: string }).code !== '55006' || attempt >= CLONE_ATTEMPTS_MAX) throw err;
        await new Promise((resolve) => setTimeout(resolve, CLONE_RETRY_DELAY_MS));
      }
    }
  });
  const parsed = new URL(adminUrl);
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
  const pool = createPool(url, POOL_SIZE, 'paycenter-test');
  let dropping: Promise<void> | undefined;
  const drop = (): Promise<void> => {
    dropping ??= (async () => {
      await pool.end();
      await withAdmin(adminUrl, async (admin) => {
        // pg's pool.end() resolves before its sockets have closed. Terminating a connection that
        // is closing anyway would hand its client an error nobody listens for any more, failing
        // the run with an "uncaught exception"; so connections get a moment to leave first.
        const until = Date.now() + DROP_GRACE_MS;
        while (Date.now() < until) {
          const { rows } = await admin.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (rows[0]?.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, DROP_POLL_MS));
        }
        await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
      });
    })();
    return dropping;
  };
  return { name, url, pool, drop };
}

async function withAdmin<T>(adminUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'paycenter-test-db' });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
