// Flow 2, paying an order: phase 1 writes the attempt and its first query job under the
// order's lock; the channel is called outside any transaction; phase 2 records its answer.
// A crash between the phases leaves a CREATING attempt that the query job resolves (G6).
import { withTransaction, type Tx } from '../store/db.ts';
import { insertAttempt, listAttempts, lockOrder, type AttemptRow, type OrderRow } from '../store/orders.ts';
import { addJob } from '../store/jobs.ts';
import { PaycenterError } from '../domain/errors.ts';
import { newId, newOutTradeNo } from '../domain/ids.ts';
import { isOpenAttempt } from '../domain/states.ts';
import { firstQueryAt } from '../domain/schedule.ts';
import { orderView, paymentView, type OrderView, type PaymentView } from './views.ts';
import { moveAttempt, moveOrder, emitEvent } from './state-change.ts';
import { callChannel, channelFor } from './channel-calls.ts';
import { queryJob } from './reconcile.ts';
import type { ServiceContext } from './context.ts';

/** Payment methods each channel supports; the first is the default. */
export const CHANNEL_METHODS: Readonly<Record<string, readonly string[]>> = {
  wechatpay: ['native'],
};

export interface PayInput {
  channel: string;
  method?: string;
}

export async function payOrder(
  ctx: ServiceContext,
  appId: string,
  orderId: string,
  input: PayInput,
): Promise<{ order: OrderView; payment: PaymentView }> {
  channelFor(ctx, input.channel);
  const methods = CHANNEL_METHODS[input.channel] ?? [];
  const method = input.method ?? methods[0]!;
  if (!methods.includes(method)) {
    throw new PaycenterError('invalid_request', `method must be one of ${methods.join(', ')} for ${input.channel}`, {
      field: 'method',
    });
  }
  const opened = await openOrReuseAttempt(ctx, appId, orderId, input.channel, method);
  let attempt = opened.attempt;
  if (attempt.state === 'CREATING') attempt = await createAtChannel(ctx, attempt, opened.subject);
  return withTransaction(ctx.pool, async (tx) => {
    const order = (await lockOrder(tx, orderId))!;
    const attempts = await listAttempts(tx, orderId);
    return { order: orderView(order, attempts), payment: paymentView(attempts.find((a) => a.id === attempt.id)!) };
  });
}

async function openOrReuseAttempt(
  ctx: ServiceContext,
  appId: string,
  orderId: string,
  channel: string,
  method: string,
): Promise<{ attempt: AttemptRow; subject: string }> {
  const result = await withTransaction(ctx.pool, async (tx) => {
    const order = await lockOrder(tx, orderId);
    if (!order || order.appId !== appId) throw new PaycenterError('not_found', `No order ${orderId} in this app.`, { orderId });
    if (order.state === 'PAID') throw new PaycenterError('order_paid', 'The order is already paid.', { orderId });
    if (order.state === 'CLOSED') throw new PaycenterError('order_closed', 'The order is closed and can no longer be paid.', { orderId });
    const attempts = await listAttempts(tx, orderId);
    const open = attempts.find((a) => isOpenAttempt(a.state));
    if (open) {
      if (open.channel === channel && open.method === method) return { attempt: open, subject: order.subject };
      throw new PaycenterError('invalid_request', `The order is being paid with ${open.channel}/${open.method}; close it first.`, {
        field: 'channel',
      });
    }
    if (order.expiresAt <= ctx.now()) {
      if (order.state === 'CREATED') {
        await emitEvent(tx, await moveOrder(tx, order, 'CLOSED', 'expired before any payment attempt'), 'order.closed');
        return { expired: true as const };
      }
      throw new PaycenterError('order_closed', 'The order has expired and is being closed.', { orderId });
    }
    return { attempt: await startAttempt(ctx, tx, order, channel, method), subject: order.subject };
  });
  if ('expired' in result) throw new PaycenterError('order_closed', 'The order has expired and can no longer be paid.', { orderId });
  return result;
}

async function startAttempt(
  ctx: ServiceContext,
  tx: Tx,
  order: OrderRow,
  channel: string,
  method: string,
): Promise<AttemptRow> {
  const attempt = await insertAttempt(tx, {
    id: newId('pay'),
    orderId: order.id,
    channel,
    method,
    outTradeNo: newOutTradeNo(),
    amountMinor: order.amountMinor,
    currency: order.currency,
    channelExpiresAt: order.expiresAt,
  });
  if (order.state === 'CREATED') await moveOrder(tx, order, 'PAYING', `payment attempt ${attempt.id} opened`);
  await addJob(tx, queryJob(attempt.id, 0, firstQueryAt(ctx.settings.queryPolicy, attempt.createdAt, order.expiresAt)));
  return attempt;
}

async function createAtChannel(ctx: ServiceContext, attempt: AttemptRow, description: string): Promise<AttemptRow> {
  const result = await callChannel(ctx, attempt, 'create', (c) =>
    c.createPayment({
      outTradeNo: attempt.outTradeNo,
      amountMinor: attempt.amountMinor,
      currency: attempt.currency as 'CNY',
      description,
      expiresAt: attempt.channelExpiresAt,
      method: attempt.method,
    }),
  );
  if (result.kind === 'unknown') {
    throw new PaycenterError(
      'channel_unavailable',
      'The channel did not answer; retry the same request: the same payment attempt is reused, so the buyer is never charged twice.',
      { paymentId: attempt.id, orderId: attempt.orderId },
    );
  }
  const updated = await withTransaction(ctx.pool, async (tx) => {
    await lockOrder(tx, attempt.orderId);
    const current = (await listAttempts(tx, attempt.orderId)).find((a) => a.id === attempt.id)!;
    // A query may have settled the attempt while the channel call was in flight; its word stands.
    if (current.state !== 'CREATING') return current;
    return result.kind === 'created'
      ? moveAttempt(tx, current, 'PENDING', 'created at the channel', { action: result.action })
      : moveAttempt(tx, current, 'FAILED', `channel refused: ${result.code}`, { failureCode: result.code });
  });
  if (result.kind === 'rejected') {
    throw new PaycenterError('channel_rejected', `The channel refused the payment: ${result.code} ${result.message}`, {
      paymentId: attempt.id,
      channelCode: result.code,
    });
  }
  return updated;
}
