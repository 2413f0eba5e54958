// The short chaos profile that CI runs on every submission: `paycenter chaos` as a user runs it,
// about 200 purchases with every fault on — refunds, double and late payments among them —, and
// its report must show zero violations, the final reconciliation included.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { requireService } from '../helpers/services.ts';

const BIN = fileURLToPath(new URL('../../bin/paycenter.js', import.meta.url));
const redisUp = await requireService('redis');

function runChaos(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'chaos', ...args], {
      env: { ...process.env, DATABASE_URL: inject('pcAdminDatabaseUrl') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('paycenter chaos, short profile', () => {
  it('200 purchases with every fault on end with zero violations', async () => {
    const { code, stdout, stderr } = await runChaos(['--orders', '200', '--seed', '20261125', '--json', ...(redisUp ? ['--redis'] : [])]);
    expect(code, stderr.slice(-4_000)).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(true);
    expect(report.quiet).toBe(true);
    expect(report.faults).toEqual(['notifications', 'channel', 'receiver', 'kill', 'redis', 'postgres']);
    for (const invariant of report.invariants) expect(invariant.violations, invariant.name).toEqual([]);
    const checked = Object.fromEntries(report.invariants.map((i: { name: string; checked: number }) => [i.name, i.checked]));
    expect(checked.G2).toBeGreaterThanOrEqual(190);
    expect(checked.G1).toBeGreaterThan(50);
    expect(checked.G4).toBeGreaterThan(100);
    expect(checked.G6).toBeGreaterThan(500);
    expect(report.faultCounts.kills).toBeGreaterThan(0);
    // Money that goes back: merchant refunds, duplicate and late payments refunded in full, and the
    // final reconciliation of every channel's bill.
    expect(report.invariants.map((i: { name: string }) => i.name)).toEqual(['G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'R']);
    expect(checked.R).toBeGreaterThan(50);
    expect(report.workload.refunds.accepted).toBeGreaterThan(0);
    // At least: a refund whose answer was lost with a killed process is made all the same.
    expect(report.refunds.merchant.SUCCEEDED).toBeGreaterThanOrEqual(report.workload.refunds.accepted);
    expect(report.refunds.duplicate.SUCCEEDED).toBeGreaterThan(0);
    expect(report.refunds.late.SUCCEEDED).toBeGreaterThan(0);
  }, 600_000);

  it('refuses an unknown fault kind', async () => {
    const { code, stderr } = await runChaos(['--faults', 'meteor']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown meteor/);
  });
});
