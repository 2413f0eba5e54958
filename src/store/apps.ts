// Merchant apps and their API keys (stored as SHA-256 hashes only).
import { queryOne, type Queryable } from './db.ts';

export interface AppRow {
  id: string;
  name: string;
  /** The operator's app (made at first start): the only one that may see what spans every app. */
  isDefault: boolean;
}

export async function findAppByKeyHash(q: Queryable, apiKeyHash: string): Promise<AppRow | null> {
  return queryOne<AppRow>(q, 'find_app_by_key_hash', 'SELECT id, name, is_default AS "isDefault" FROM apps WHERE api_key_hash = $1', [apiKeyHash]);
}

export async function findDefaultApp(q: Queryable): Promise<(AppRow & { apiKeyHash: string }) | null> {
  const { rows } = await q.query<AppRow & { apiKeyHash: string }>(
    'SELECT id, name, is_default AS "isDefault", api_key_hash AS "apiKeyHash" FROM apps WHERE is_default',
  );
  return rows[0] ?? null;
}

/** Creates the default app, or does nothing when another process created it first. */
export async function insertDefaultApp(q: Queryable, id: string, apiKeyHash: string): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO apps (id, name, api_key_hash, is_default) VALUES ($1, 'default', $2, true)
     ON CONFLICT DO NOTHING`,
    [id, apiKeyHash],
  );
  return rowCount === 1;
}

export async function setAppKeyHash(q: Queryable, id: string, apiKeyHash: string): Promise<void> {
  await q.query('UPDATE apps SET api_key_hash = $2 WHERE id = $1', [id, apiKeyHash]);
}

export async function insertApp(q: Queryable, id: string, name: string, apiKeyHash: string): Promise<void> {
  await q.query('INSERT INTO apps (id, name, api_key_hash) VALUES ($1, $2, $3)', [id, name, apiKeyHash]);
}
