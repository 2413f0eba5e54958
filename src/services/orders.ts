// Use cases on orders: submit (with duplicate protection), read, close, expire.
import { withTransaction, type Tx } from '../store/db.ts';
import {
  findOrder,
  findOrderByMerchantOrderNo,
  insertOrder,
  listAttempts,
  listExpiredUnwatchedOrders,
  lockOrder,
  type AttemptRow,
  type OrderRow,
} from '../store/orders.ts';
import { orderTimeline, type TimelineEntry } from '../store/evidence.ts';
import { PaycenterError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { orderFingerprint } from '../domain/fingerprint.ts';
import { isOpenAttempt, isWatchedAttempt, mayCloseOrder } from '../domain/states.ts';
import { orderView, type OrderView } from './views.ts';
import { emitEvent, moveOrder, settleAttempt } from './state-change.ts';
import { callChannel, tradeRef } from './channel-calls.ts';
import type { ServiceContext } from './context.ts';

export interface SubmitOrderInput {
  merchantOrderNo: string;
  amount: number;
  currency: string;
  subject: string;
  description?: string;
  customerId?: string;
  metadata?: Record<string, string>;
  expiresInSeconds?: number;
}

/** Flow 1: the guard claims the content fingerprint and the order is inserted, in one transaction. */
export async function submitOrder(ctx: ServiceContext, appId: string, input: SubmitOrderInput): Promise<OrderView> {
  const fingerprint = orderFingerprint(appId, input);
  const id = newId('ord');
  const ttlMs = input.expiresInSeconds !== undefined ? input.expiresInSeconds * 1000 : ctx.settings.orderTtlMs;
  try {
    const order = await withTransaction(ctx.pool, async (tx) => {
      // The guard names only a committed order (see src/guard): a claim whose order never
      // committed does not block this submission.
      const holder = await ctx.guard.claim(tx, appId, fingerprint, id, ctx.settings.duplicateWindowMs);
      if (holder !== id) {
        throw new PaycenterError(
          'duplicate_submission',
          'An order with the same content was submitted moments ago; use that order (orderId) instead of creating another.',
          { orderId: holder },
        );
      }
      const inserted = await insertOrder(tx, {
        id,
        appId,
        merchantOrderNo: input.merchantOrderNo,
        amountMinor: input.amount,
        currency: input.currency,
        subject: input.subject,
        description: input.description ?? null,
        customerId: input.customerId ?? null,
        metadata: input.metadata ?? null,
        expiresAt: new Date(ctx.now().getTime() + ttlMs),
      });
      if (!inserted) {
        const existing = await findOrderByMerchantOrderNo(tx, appId, input.merchantOrderNo);
        throw new PaycenterError(
          'merchant_order_no_exists',
          `merchantOrderNo ${input.merchantOrderNo} was already used; fetch that order (orderId) or use a new number.`,
          { orderId: existing?.id },
        );
      }
      return inserted;
    });
    return orderView(order, []);
  } catch (err) {
    await ctx.guard.release(appId, fingerprint, id).catch((e: unknown) => ctx.log.warn({ err: e }, 'guard release failed'));
    throw err;
  }
}

export async function requireOrder(ctx: ServiceContext, appId: string, orderId: string): Promise<OrderRow> {
  const order = await findOrder(ctx.pool, appId, orderId);
  if (!order) throw new PaycenterError('not_found', `No order ${orderId} in this app.`, { orderId });
  return order;
}

async function viewOrder(ctx: ServiceContext, order: OrderRow): Promise<OrderView> {
  return orderView(order, await listAttempts(ctx.pool, order.id));
}

/** `sync`: a PAYING order's open (or closing) attempts are queried at the channel first (flow 7). */
export async function getOrder(ctx: ServiceContext, appId: string, orderId: string, sync = false): Promise<OrderView> {
  const order = await requireOrder(ctx, appId, orderId);
  if (sync && (order.state === 'PAYING' || order.state === 'EXCEPTION')) {
    for (const attempt of await listAttempts(ctx.pool, order.id)) {
      if (!isWatchedAttempt(attempt.state)) continue;
      const status = await callChannel(ctx, attempt, 'query', (c) => c.queryPayment(tradeRef(attempt)));
      await settleAttempt(ctx, attempt.id, status, { source: 'sync', closing: false });
    }
    return viewOrder(ctx, await requireOrder(ctx, appId, orderId));
  }
  return viewOrder(ctx, order);
}

export async function getOrderByMerchantOrderNo(ctx: ServiceContext, appId: string, merchantOrderNo: string): Promise<OrderView> {
  const order = await findOrderByMerchantOrderNo(ctx.pool, appId, merchantOrderNo);
  if (!order) throw new PaycenterError('not_found', `No order with merchantOrderNo ${merchantOrderNo} in this app.`);
  return viewOrder(ctx, order);
}

export async function getTimeline(ctx: ServiceContext, appId: string, orderId: string): Promise<TimelineEntry[]> {
  await requireOrder(ctx, appId, orderId);
  return orderTimeline(ctx.pool, orderId, TIMELINE_ENTRIES_MAX);
}
const TIMELINE_ENTRIES_MAX = 1000;

/**
 * Flow 5: closes the open attempt at the channel first, confirms with a query, and only then
 * closes the order. A close that reveals a payment makes the order PAID instead. `reason` goes
 * into the order's transition (an operator's close names the operator and their note).
 */
export async function closeOrder(ctx: ServiceContext, appId: string, orderId: string, reason = 'closed by the merchant'): Promise<OrderView> {
  const order = await requireOrder(ctx, appId, orderId);
  if (order.state === 'PAID') throw new PaycenterError('order_paid', 'The order is paid and cannot be closed.', { orderId });
  if (order.state === 'CLOSED') return viewOrder(ctx, order);
  const open = (await listAttempts(ctx.pool, order.id)).filter((a) => isOpenAttempt(a.state));
  for (const attempt of open) {
    if (!(await closeAndConfirm(ctx, attempt))) {
      throw new PaycenterError('channel_unavailable', 'The channel has not confirmed the close yet; retry the same request.', {
        orderId,
        paymentId: attempt.id,
      });
    }
  }
  await closeIfNoOpenAttempt(ctx, order.id, reason, isOpenAttempt);
  return viewOrder(ctx, await requireOrder(ctx, appId, orderId));
}

/**
 * Closes one attempt at its channel, then confirms with a query and applies the answer in one
 * transaction; `then` runs in that transaction with the order as the answer left it (the buyer
 * switching opens the next attempt there, so no crash can leave the order with neither).
 * Returns undefined while the channel's answer is unknown (the attempt stays watched).
 */
export async function closeAndConfirm<T = void>(
  ctx: ServiceContext,
  attempt: AttemptRow,
  opts: { keepOrderOpen?: boolean; then?: (tx: Tx, order: OrderRow, attempts: AttemptRow[]) => Promise<T> } = {},
): Promise<{ order: OrderRow; result: T | undefined } | undefined> {
  const closed = await callChannel(ctx, attempt, 'close', (c) => c.closePayment(tradeRef(attempt)));
  if (closed.kind === 'unknown') return undefined;
  const confirmed = await callChannel(ctx, attempt, 'query', (c) => c.queryPayment(tradeRef(attempt)));
  const evidence = { source: 'close' as const, closing: true, closeDeferred: closed.kind === 'closing', keepOrderOpen: opts.keepOrderOpen };
  const { decision, order, after } = await settleAttempt(ctx, attempt.id, confirmed, evidence, { after: opts.then });
  return decision.resolved ? { order, result: after } : undefined;
}

/**
 * An unpaid order closes locally once none of its attempts is `leftOpen` (the merchant's close:
 * open ones; the expiry sweep: any the channel could still pay), checked under the order's lock.
 */
async function closeIfNoOpenAttempt(
  ctx: ServiceContext,
  orderId: string,
  reason: string,
  leftOpen: (state: AttemptRow['state']) => boolean,
  onlyIf: (order: OrderRow) => boolean = () => true,
): Promise<void> {
  await withTransaction(ctx.pool, async (tx) => {
    const order = await lockOrder(tx, orderId);
    if (!order || !mayCloseOrder(order)) return;
    if (!onlyIf(order)) return;
    const attempts = await listAttempts(tx, orderId);
    if (attempts.some((a) => leftOpen(a.state))) return;
    const closed = await moveOrder(tx, order, 'CLOSED', reason);
    await emitEvent(ctx, tx, closed, 'order.closed', attempts);
  });
}

export const EXPIRE_BATCH_ORDERS = 500;

/**
 * The sweeper for unpaid orders past their expiry with no attempt left to watch: CREATED ones, and
 * PAYING or EXCEPTION ones whose every attempt was refused or closed (no query job will close
 * them). The list and the check under the lock use the same cutoff, so an order listed is an order closed (unless it
 * was paid meanwhile): no clock skew between Node and PostgreSQL can make the sweep spin.
 */
export async function expireUnwatchedOrders(ctx: ServiceContext): Promise<number> {
  const cutoff = ctx.now();
  const expired = await listExpiredUnwatchedOrders(ctx.pool, cutoff, EXPIRE_BATCH_ORDERS);
  const isExpired = (o: OrderRow) => o.expiresAt <= cutoff;
  for (const { id } of expired) {
    await closeIfNoOpenAttempt(ctx, id, 'expired with no payment attempt the channel could still pay', isWatchedAttempt, isExpired);
  }
  return expired.length;
}
