// The newcomer's path: `paycenter serve` with no configuration starts embedded PostgreSQL, prints
// the URLs and a generated API key, stops everything on Ctrl-C, and reuses its data next time.
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, spawnPaycenter } from '../helpers/process.ts';
import { orderBody } from '../helpers/paycenter.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'paycenter-serve-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function postmasterPid(): number | null {
  const file = join(dataDir, 'pg', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Only the embedded default is under test here: no DATABASE_URL, no key, no schedule settings.
const env = { PAYCENTER_DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', PAYCENTER_API_KEY: '', PAYCENTER_CONFIG: '', LOG_LEVEL: 'warn' };

describe('paycenter serve on the embedded default', () => {
  it('starts, prints URLs and a key, stops cleanly on SIGINT, and reuses its data on the next start', async () => {
    const port = await freePort();
    const first = await spawnPaycenter(env, port, 120_000);
    const output = first.output();
    expect(output).toContain(`http://127.0.0.1:${port}/v1`);
    expect(output).toContain(`http://127.0.0.1:${port}/docs`);
    expect(output).toContain('embedded PostgreSQL');
    const apiKey = /API key\s+(pk_\S+)/.exec(output)?.[1];
    expect(apiKey).toBeDefined();
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const created = await fetch(`${first.baseUrl}/v1/orders`, { method: 'POST', headers, body: JSON.stringify(orderBody()) });
    expect(created.status).toBe(201);
    const order = await created.json();
    const pgPid = postmasterPid();
    expect(pgPid).not.toBeNull();
    expect(alive(pgPid!)).toBe(true);

    first.child.kill('SIGINT');
    const firstCode = await first.exited;
    expect(firstCode, first.output()).toBe(0);
    expect(alive(pgPid!)).toBe(false);

    const second = await spawnPaycenter(env, port, 120_000);
    try {
      expect(second.output()).not.toMatch(/API key\s+pk_/);
      const again = await fetch(`${second.baseUrl}/v1/orders/${order.id}`, { headers });
      expect(again.status).toBe(200);
      expect((await again.json()).merchantOrderNo).toBe(order.merchantOrderNo);
    } finally {
      second.child.kill('SIGINT');
      const code = await second.exited;
      expect(code, second.output()).toBe(0);
    }
  });
});
