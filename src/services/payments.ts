// Flow 2, paying an order: phase 1 writes the attempt and its first query job under the
// order's lock; the channel is called outside any transaction; phase 2 records its answer with
// one guarded update. A crash between the phases leaves a CREATING attempt that the query job
// resolves (G6).
import { withTransaction, type Tx } from '../store/db.ts';
import { findAttempt, insertAttempt, listAttempts, lockOrder, type AttemptRow, type OrderRow } from '../store/orders.ts';
import { addJob } from '../store/jobs.ts';
import { PaycenterError } from '../domain/errors.ts';
import { newId, newOutTradeNo } from '../domain/ids.ts';
import { isOpenAttempt } from '../domain/states.ts';
import { firstQueryAt } from '../domain/schedule.ts';
import { methodsOf, returnUrlProblem, takesReturnUrl } from '../domain/channels.ts';
import { orderView, paymentView, type OrderView, type PaymentView } from './views.ts';
import { closeAttemptJob, emitEvent, moveOrder, sweepAtExpiryIfUnwatched, tryMoveAttempt } from './state-change.ts';
import { callChannel, channelFor } from './channel-calls.ts';
import { queryJob } from './active-query.ts';
import { closeAndConfirm } from './orders.ts';
import type { ServiceContext } from './context.ts';

export interface PayInput {
  channel: string;
  method?: string;
  /** Redirect methods only: where the cashier sends the buyer back. */
  returnUrl?: string;
}

/** What a new attempt is opened with. */
interface PayChoice {
  channel: string;
  method: string;
  returnUrl: string | null;
}

interface OpenedAttempt {
  order: OrderRow;
  attempts: AttemptRow[];
  attempt: AttemptRow;
}

export async function payOrder(
  ctx: ServiceContext,
  appId: string,
  orderId: string,
  input: PayInput,
): Promise<{ order: OrderView; payment: PaymentView }> {
  channelFor(ctx, input.channel);
  const methods = methodsOf(input.channel);
  const method = input.method ?? methods[0]!;
  if (!methods.includes(method)) {
    throw new PaycenterError('invalid_request', `method must be one of ${methods.join(', ')} for ${input.channel}`, {
      field: 'method',
    });
  }
  if (input.returnUrl !== undefined) {
    if (!takesReturnUrl(input.channel, method)) {
      throw new PaycenterError('invalid_request', 'returnUrl applies only to redirect methods (alipay page, unionpay gateway).', { field: 'returnUrl' });
    }
    const problem = returnUrlProblem(input.returnUrl);
    if (problem) throw new PaycenterError('invalid_request', problem, { field: 'returnUrl' });
  }
  const opened = await openOrReuseAttempt(ctx, appId, orderId, { channel: input.channel, method, returnUrl: input.returnUrl ?? null });
  const attempt = opened.attempt.state === 'CREATING' ? await createAtChannel(ctx, opened) : opened.attempt;
  // Answered from the rows in hand: the order's lock was released after phase 1, and the
  // caller can always GET the order for what happened since.
  const attempts = opened.attempts.map((a) => (a.id === attempt.id ? attempt : a));
  return { order: orderView(opened.order, attempts), payment: paymentView(attempt) };
}

/** Concurrent switches can take the freed slot between our close and our open; give up after this many. */
const SWITCH_ROUNDS_MAX = 3;

/**
 * Flow 2, phase 1: reuses the open attempt for the same channel and method (with the return URL it
 * was opened with: its signed parameters are already out), or opens one. An open attempt of
 * another channel or method is closed at its channel first (switchAttempt).
 */
async function openOrReuseAttempt(ctx: ServiceContext, appId: string, orderId: string, choice: PayChoice): Promise<OpenedAttempt> {
  const { channel, method } = choice;
  for (let round = 1; ; round++) {
    const found = await withTransaction(ctx.pool, async (tx) => {
      const order = await lockOrder(tx, orderId);
      if (!order || order.appId !== appId) throw new PaycenterError('not_found', `No order ${orderId} in this app.`, { orderId });
      throwUnlessPayable(order);
      const attempts = await listAttempts(tx, orderId);
      if (order.expiresAt <= ctx.now()) {
        if (order.state === 'CREATED') {
          const closed = await moveOrder(tx, order, 'CLOSED', 'expired before any payment attempt');
          await emitEvent(ctx, tx, closed, 'order.closed', attempts);
          return { kind: 'expired' as const };
        }
        throw new PaycenterError('order_closed', 'The order has expired and is being closed.', { orderId });
      }
      const open = attempts.find((a) => isOpenAttempt(a.state));
      if (!open) return { kind: 'opened' as const, opened: await startAttempt(ctx, tx, order, attempts, choice) };
      if (open.channel === channel && open.method === method) return { kind: 'opened' as const, opened: { order, attempts, attempt: open } };
      return { kind: 'switch' as const, from: open };
    });
    if (found.kind === 'expired') throw new PaycenterError('order_closed', 'The order has expired and can no longer be paid.', { orderId });
    if (found.kind === 'opened') return found.opened;
    if (round > SWITCH_ROUNDS_MAX) {
      throw new PaycenterError(
        'payment_switch_in_progress',
        'Other requests are switching this order between channels at the same time; retry once they are done.',
        { orderId },
      );
    }
    const switched = await switchAttempt(ctx, found.from, choice);
    if (switched) return switched;
  }
}

function throwUnlessPayable(order: OrderRow): void {
  if (order.state === 'PAID') throw new PaycenterError('order_paid', 'The order is already paid.', { orderId: order.id });
  if (order.state === 'CLOSED') {
    throw new PaycenterError('order_closed', 'The order is closed and can no longer be paid.', { orderId: order.id });
  }
}

/**
 * The buyer switches channel or method: the open attempt is closed at its channel and confirmed
 * by a query; then, in the transaction that records that answer, the next attempt is opened —
 * unless the answer was a payment (the order is PAID and nothing new opens). An attempt the
 * channel can only refuse from its expiry on is CLOSING and stays watched. Undefined when
 * another request opened an attempt meanwhile.
 */
async function switchAttempt(ctx: ServiceContext, open: AttemptRow, choice: PayChoice): Promise<OpenedAttempt | undefined> {
  const closed = await closeAndConfirm(ctx, open, {
    keepOrderOpen: true,
    then: async (tx, order, attempts) => {
      if (order.state !== 'PAYING' || attempts.some((a) => isOpenAttempt(a.state))) return undefined;
      return startAttempt(ctx, tx, order, attempts, choice);
    },
  });
  if (!closed) {
    throw new PaycenterError(
      'channel_unavailable',
      `${open.channel} has not confirmed the close of the current payment yet; retry the same request. No second payment is opened before it does.`,
      { paymentId: open.id, orderId: open.orderId },
    );
  }
  throwUnlessPayable(closed.order);
  return closed.result;
}

async function startAttempt(
  ctx: ServiceContext,
  tx: Tx,
  order: OrderRow,
  attempts: AttemptRow[],
  choice: PayChoice,
): Promise<OpenedAttempt> {
  const attempt = await insertAttempt(tx, {
    id: newId('pay'),
    orderId: order.id,
    channel: choice.channel,
    method: choice.method,
    returnUrl: choice.returnUrl,
    outTradeNo: newOutTradeNo(),
    amountMinor: order.amountMinor,
    currency: order.currency,
    channelExpiresAt: order.expiresAt,
  });
  const paying = order.state === 'CREATED' ? await moveOrder(tx, order, 'PAYING', `payment attempt ${attempt.id} opened`) : order;
  await addJob(tx, queryJob(attempt.id, 0, firstQueryAt(ctx.settings.queryPolicy, attempt.createdAt, order.expiresAt)));
  return { order: paying, attempts: [...attempts, attempt], attempt };
}

async function createAtChannel(ctx: ServiceContext, opened: OpenedAttempt): Promise<AttemptRow> {
  const { attempt, order } = opened;
  const result = await callChannel(ctx, attempt, 'create', (c) =>
    c.createPayment({
      outTradeNo: attempt.outTradeNo,
      amountMinor: attempt.amountMinor,
      currency: attempt.currency as 'CNY',
      description: order.subject,
      expiresAt: attempt.channelExpiresAt,
      createdAt: attempt.createdAt,
      method: attempt.method,
      ...(attempt.returnUrl !== null && { returnUrl: attempt.returnUrl }),
    }),
  );
  if (result.kind === 'unknown') {
    throw new PaycenterError(
      'channel_unavailable',
      'The channel did not answer; retry the same request: the same payment attempt is reused, so the buyer is never charged twice.',
      { paymentId: attempt.id, orderId: attempt.orderId },
    );
  }
  const moved =
    result.kind === 'created'
      ? await tryMoveAttempt(ctx.pool, attempt, 'PENDING', 'created at the channel', { action: result.action })
      : await tryMoveAttempt(ctx.pool, attempt, 'FAILED', `channel refused: ${result.code}`, { failureCode: result.code });
  if (result.kind === 'rejected') {
    if (moved) await sweepAtExpiryIfUnwatched(ctx.pool, order, opened.attempts.map((a) => (a.id === moved.id ? moved : a)));
    throw new PaycenterError('channel_rejected', `The channel refused the payment: ${result.code} ${result.message}`, {
      paymentId: attempt.id,
      channelCode: result.code,
    });
  }
  if (moved) return moved;
  // A notification, a query or a switch settled the attempt while the channel call was in flight:
  // its word stands. A trade created after a switch closed the attempt is closed at once.
  if (result.kind === 'created') await addJob(ctx.pool, closeAttemptJob(attempt.id));
  return (await findAttempt(ctx.pool, attempt.id))!;
}
