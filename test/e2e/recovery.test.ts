// One test per recovery point of the pay flow: the state a crash or a timeout leaves behind is
// seeded, and what resumes is checked — never inferred from silence, never done twice.
import { describe, expect, it } from 'vitest';
import { orderBody, paycenterPerFile, waitFor } from '../helpers/paycenter.ts';
import { withTransaction } from '../../src/store/db.ts';
import { insertAttempt, lockOrder } from '../../src/store/orders.ts';
import { addJob } from '../../src/store/jobs.ts';
import { queryJob } from '../../src/services/active-query.ts';
import { moveOrder } from '../../src/services/state-change.ts';
import { newId, newOutTradeNo } from '../../src/domain/ids.ts';
import { expireUnwatchedOrders } from '../../src/services/orders.ts';

const pc = paycenterPerFile();
const { getOrder, ledger } = pc;

describe('recovery points of the pay flow', () => {
  it('crash after phase 1, before the channel call: the trade never existed, the order expires CLOSED', async () => {
    const order = await pc.api('POST', '/v1/orders', orderBody({ expiresInSeconds: 2 }));
    const id: string = order.body.id;
    // Phase 1 exactly as payOrder writes it, then the process "dies" before calling the channel.
    const outTradeNo = await withTransaction(pc.db.pool, async (tx) => {
      const locked = (await lockOrder(tx, id))!;
      const attempt = await insertAttempt(tx, {
        id: newId('pay'),
        orderId: id,
        channel: 'wechatpay',
        method: 'native',
        outTradeNo: newOutTradeNo(),
        amountMinor: locked.amountMinor,
        currency: locked.currency,
        channelExpiresAt: locked.expiresAt,
      });
      await moveOrder(tx, locked, 'PAYING', 'seeded recovery point');
      await addJob(tx, queryJob(attempt.id, 0, new Date(Date.now() + 300)));
      return attempt.outTradeNo;
    });
    // Before the expiry, "not found" means "not created yet": nothing changes.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await getOrder(id)).state).toBe('PAYING');
    const closed = await waitFor(() => getOrder(id), (o) => o.state === 'CLOSED', 15_000);
    expect(closed.state).toBe('CLOSED');
    expect(closed.payments[0].state).toBe('CLOSED');
    expect(await ledger(outTradeNo)).toBeUndefined();
  });

  it('create timed out after the channel created the trade, the buyer paid anyway: CREATING → SUCCEEDED, order PAID', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { createTimeoutRate: 1, dropNotifications: true });
    const order = await pc.api('POST', '/v1/orders', orderBody());
    const pay = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
    expect(pay.body.error.code).toBe('channel_unavailable');
    const attempt = (await getOrder(order.body.id)).payments[0];
    expect(attempt.state).toBe('CREATING');
    expect((await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: attempt.outTradeNo })).status).toBe(200);
    const paid = await waitFor(() => getOrder(order.body.id), (o) => o.state === 'PAID');
    expect(paid.state).toBe('PAID');
    expect(paid.payments).toHaveLength(1);
    expect(paid.payments[0].state).toBe('SUCCEEDED');
    const attemptTransitions = (await pc.api('GET', `/v1/orders/${order.body.id}/timeline`)).body.data.filter(
      (e: { kind: string; entity?: string }) => e.kind === 'transition' && e.entity === 'attempt',
    );
    expect(attemptTransitions.map((e: { from: string | null; to: string }) => `${e.from}→${e.to}`)).toEqual([
      'null→CREATING',
      'CREATING→SUCCEEDED',
    ]);
  });

  it('queries that keep failing change nothing until the channel answers (G6)', async () => {
    await pc.sandbox('PUT', '/sandbox/faults', { queryErrorRate: 1, dropNotifications: true });
    const order = await pc.api('POST', '/v1/orders', orderBody());
    const pay = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, { channel: 'wechatpay' });
    await pc.sandbox('POST', '/sandbox/pay', { outTradeNo: pay.body.payment.outTradeNo });
    await waitFor(
      async () => (await pc.api('GET', `/v1/orders/${order.body.id}/timeline`)).body.data,
      (entries: { kind: string }[]) => entries.filter((e) => e.kind === 'channel_call').length >= 4,
    );
    expect((await getOrder(order.body.id)).state).toBe('PAYING');
    await pc.sandbox('DELETE', '/sandbox/faults');
    expect((await waitFor(() => getOrder(order.body.id), (o) => o.state === 'PAID')).state).toBe('PAID');
  });

  it('the sweeper closes CREATED orders past their expiry, and only those, even with Node’s clock behind the database’s', async () => {
    const stale = await pc.api('POST', '/v1/orders', orderBody({ expiresInSeconds: 1 }));
    const fresh = await pc.api('POST', '/v1/orders', orderBody({ expiresInSeconds: 600 }));
    await new Promise((r) => setTimeout(r, 1100));
    // A clock 30 s behind sees nothing expired yet, and must simply find nothing to do.
    const behind = { ...pc.running.ctx, now: () => new Date(Date.now() - 30_000) };
    expect(await expireUnwatchedOrders(behind)).toBe(0);
    expect((await getOrder(stale.body.id)).state).toBe('CREATED');
    await expireUnwatchedOrders(pc.running.ctx);
    expect((await getOrder(stale.body.id)).state).toBe('CLOSED');
    expect((await getOrder(fresh.body.id)).state).toBe('CREATED');
    const { rows } = await pc.db.pool.query("SELECT count(*)::int AS n FROM events WHERE order_id = $1 AND type = 'order.closed'", [stale.body.id]);
    expect(rows[0].n).toBe(1);
  });
});
