// The PostgreSQL pool and the one transaction helper every state change goes through.
import pg from 'pg';

export type Pool = pg.Pool;
export type Tx = pg.PoolClient;
/** Anything that can run a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

// BIGINT columns hold minor units and sequence numbers well below 2^53; read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export function createPool(connectionString: string, max: number, applicationName = 'paycenter'): Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: applicationName });
  // A server-side disconnect (restart, pg_terminate_backend) must not crash the process: the
  // pool drops the client, and the query in flight, if any, fails to its caller.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

const commitHooks = new WeakMap<Tx, (() => void)[]>();

/**
 * Runs `hook` once the transaction `tx` has committed (never when it rolls back). Hooks are
 * hints (wake a dispatcher); one that throws is ignored, the commit stands.
 */
export function afterCommit(tx: Tx, hook: () => void): void {
  const hooks = commitHooks.get(tx);
  if (hooks) hooks.push(hook);
  else commitHooks.set(tx, [hook]);
}

export async function withTransaction<T>(pool: Pool, work: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A client whose ROLLBACK failed has a broken connection: destroy it instead of pooling it.
  let broken: Error | undefined;
  let result: T;
  let hooks: (() => void)[];
  try {
    await client.query('BEGIN');
    result = await work(client);
    await client.query('COMMIT');
    hooks = commitHooks.get(client) ?? [];
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw err;
  } finally {
    commitHooks.delete(client);
    client.release(broken);
  }
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // A hint only: whatever it would have started happens on the next poll.
    }
  }
  return result;
}

/** Runs a prepared statement that returns at most one row: the row, or null. */
export async function queryOne<Row>(q: Queryable, name: string, text: string, values: unknown[]): Promise<Row | null> {
  const { rows } = await q.query<Row & object>({ name, text, values });
  return rows[0] ?? null;
}

/** True when a PostgreSQL server answers `SELECT 1` at `url` within the connect timeout. */
export async function databaseAnswers(url: string, connectTimeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
