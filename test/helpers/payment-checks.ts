// The checks of the scenarios every channel passes end to end (payments.test.ts for WeChat Pay,
// channels.test.ts for Alipay and UnionPay), so that one scenario asserts the same facts
// whichever channel the buyer paid through.
import { expect } from 'vitest';
import { buyerPays } from '../../src/harness/buyer.ts';
import { orderBody, waitFor, withUninformedPaycenter, type TestPaycenter } from './paycenter.ts';

/** Every notification was dropped: the order became PAID once, through the active query alone. */
export async function expectPaidThroughQuery(pc: TestPaycenter, id: string, outTradeNo: string): Promise<void> {
  expect((await pc.waitForState(id, 'PAID')).state).toBe('PAID');
  expect((await pc.ledger(outTradeNo)).notificationsAcknowledged).toBe(0);
  const paid = await pc.orderTransitions(id, 'PAYING', 'PAID');
  expect(paid).toHaveLength(1);
  expect(String(paid[0]!.reason)).toMatch(/^query: channel reports paid/);
  expect((await pc.timeline(id)).some((e) => e.kind === 'notification')).toBe(false);
}

/** Every notification was sent twice: still exactly one PAYING→PAID and one order.paid event. */
export async function expectPaidOnceDespiteDuplicates(pc: TestPaycenter, id: string, outTradeNo: string): Promise<void> {
  await pc.waitForState(id, 'PAID');
  await waitFor(() => pc.ledger(outTradeNo), (t) => t.notificationsSent >= 2);
  expect((await pc.ledger(outTradeNo)).notificationsSent).toBeGreaterThanOrEqual(2);
  expect(await pc.orderTransitions(id, 'PAYING', 'PAID')).toHaveLength(1);
  const { rows } = await pc.db.pool.query("SELECT count(*)::int AS n FROM events WHERE order_id = $1 AND type = 'order.paid'", [id]);
  expect(rows[0].n).toBe(1);
}

/** With the notifications lost and the first query far off, the merchant's close finds the payment: PAID. */
export async function expectCloseRevealsPayment(pay: { channel: string; method?: string }): Promise<void> {
  await withUninformedPaycenter(async (slow) => {
    const order = await slow.api('POST', '/v1/orders', orderBody());
    const attempt = await slow.api('POST', `/v1/orders/${order.body.id}/pay`, pay);
    expect((await buyerPays(slow.baseUrl, attempt.body.payment)).status).toBe(200);
    const closed = await slow.api('POST', `/v1/orders/${order.body.id}/close`);
    expect(closed.status).toBe(200);
    expect(closed.body.state).toBe('PAID');
  });
}
