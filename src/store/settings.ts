// Small values that must survive restarts (generated sandbox merchant credentials, …).
import type { Queryable } from './db.ts';

export async function getSetting<T>(q: Queryable, key: string): Promise<T | null> {
  const { rows } = await q.query<{ value: T }>('SELECT value FROM settings WHERE key = $1', [key]);
  return rows[0]?.value ?? null;
}

/** Stores the value unless one exists; returns whichever value is stored (first writer wins). */
export async function putSettingOnce<T>(q: Queryable, key: string, value: T): Promise<T> {
  const { rows } = await q.query<{ value: T }>(
    `WITH ins AS (INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value)
     SELECT value FROM ins UNION ALL SELECT value FROM settings WHERE key = $1 LIMIT 1`,
    [key, JSON.stringify(value)],
  );
  return rows[0]!.value;
}
