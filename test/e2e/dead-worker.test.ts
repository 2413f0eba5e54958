// A process killed while it held a job leaves it locked (graphile-worker would wait 4 hours):
// a live process takes it back after PAYCENTER_JOB_LOCK_TIMEOUT_MS, so the active query goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderBody, startTestPaycenter, waitFor, type TestPaycenter } from '../helpers/paycenter.ts';

let pc: TestPaycenter;
beforeAll(async () => {
  pc = await startTestPaycenter({ PAYCENTER_JOB_LOCK_TIMEOUT_MS: '10000', PAYCENTER_QUERY_SCHEDULE: '1500,300,300,300,300' });
});
afterAll(() => pc?.stop());

describe('jobs of a dead worker', () => {
  it('are unlocked and run, so a paid order whose notifications were lost still becomes PAID', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { dropNotifications: true });
    const order = await pc.api('POST', '/v1/orders', orderBody());
    const pay = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
    const attemptId = pay.body.payment.id;
    // What a SIGKILLed worker leaves behind: the attempt's query job, locked by a worker that is gone.
    const { rowCount } = await pc.db.pool.query(
      `UPDATE graphile_worker._private_jobs SET locked_at = now() - interval '1 hour', locked_by = 'worker-that-died'
        WHERE key = $1`,
      [`query:${attemptId}`],
    );
    expect(rowCount).toBe(1);
    await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: pay.body.payment.outTradeNo });
    const paid = await waitFor(
      async () => (await pc.api('GET', `/v1/orders/${order.body.id}`)).body.state,
      (state) => state === 'PAID',
      30_000,
    );
    expect(paid).toBe('PAID');
    const { rows } = await pc.db.pool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_by = 'worker-that-died'`);
    expect(rows[0].n).toBe(0);
  }, 60_000);
});
