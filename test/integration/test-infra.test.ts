// The test infrastructure itself: per-file databases cloned from the migrated template, and the
// service probe that skips (locally) or fails (under CI) suites whose service is down.
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { requireService } from '../helpers/services.ts';

const redisUp = await requireService('redis');

async function publicTables(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((r) => r.table_name);
}

describe('createTestDatabase', () => {
  let a: TestDatabase;
  let b: TestDatabase;

  beforeAll(async () => {
    [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });

  afterAll(async () => {
    await Promise.all([a?.drop(), b?.drop()]);
  });

  it('gives each caller its own database, both cloned from the migrated template', async () => {
    expect(a.name).not.toBe(b.name);
    expect(a.url).not.toBe(b.url);
    const [tablesA, tablesB] = await Promise.all([publicTables(a), publicTables(b)]);
    expect(tablesA).toContain('orders');
    expect(tablesA).toContain('schema_migrations');
    expect(tablesB).toEqual(tablesA);
    const { rows } = await a.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]?.n).toBeGreaterThan(0);
  });

  it('keeps what one test file writes out of the other databases', async () => {
    await a.pool.query('CREATE TABLE only_in_a (id int)');
    const { rows } = await b.pool.query("SELECT to_regclass('public.only_in_a') AS found");
    expect(rows).toEqual([{ found: null }]);
  });

  it('drops the database, connections and all, and drop() can be called again', async () => {
    const c = await createTestDatabase();
    // Code under test that never closed its connection: drop() terminates it after the grace.
    const forgotten = new pg.Client({ connectionString: c.url });
    forgotten.on('error', () => undefined);
    await forgotten.connect();
    await c.drop();
    await c.drop();
    const { rows } = await a.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [c.name]);
    expect(rows).toEqual([]);
  });
});

describe('requireService', () => {
  describe.skipIf(!redisUp)('on a machine with Redis', () => {
    it('reports redis reachable, and it answers PING', async () => {
      expect(await requireService('redis')).toBe(true);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: 6379 }, () => socket.write('PING\r\n'));
        socket.once('data', (data) => {
          socket.destroy();
          resolve(data.toString());
        });
        socket.once('error', reject);
      });
      expect(reply).toBe('+PONG\r\n');
    });
  });

  it('fails under CI when the service is unreachable', async () => {
    vi.stubEnv('CI', 'true');
    try {
      await expect(requireService('nats', 'nats://127.0.0.1:1')).rejects.toThrow(/nats is not reachable at 127\.0\.0\.1:1/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('outside CI, returns false and warns loudly that the suite is skipped', async () => {
    vi.stubEnv('CI', '');
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await requireService('rabbitmq', 'amqp://guest:guest@127.0.0.1:1')).toBe(false);
      expect(String(write.mock.calls[0]?.[0])).toMatch(/SKIPPING .*test-infra\.test\.ts: rabbitmq is not reachable at 127\.0\.0\.1:1/);
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});
