// What an operator may do to one order from the console, each through performOperatorAction (role,
// "why" note, a record before and after). None sets PAID: an operator asks the channel, closes or
// refunds through the same flows the merchant API uses; only the channel's word records a payment.
import { randomBytes } from 'node:crypto';
import { findOrderById, listAttempts, type AttemptRow, type OrderRow } from '../store/orders.ts';
import { findEvent } from '../store/events.ts';
import { listRefunds, type RefundRow } from '../store/refunds.ts';
import { orderTimeline, type TimelineEntry } from '../store/evidence.ts';
import { findApp } from '../store/console-lists.ts';
import {
  dashboardCounts,
  listNotificationEvidence,
  listOrderEvents,
  listOrderOperatorActions,
  ordersCreatedByHour,
  pendingJobRunAt,
  searchOrders,
  type DashboardCounts,
  type NotificationEvidence,
  type OrderActionRow,
  type OrderEventRow,
  type OrderFilter,
  type OrderListRow,
} from '../store/console-orders.ts';
import type { SessionRow } from '../store/operators.ts';
import { PaycenterError } from '../domain/errors.ts';
import { isId } from '../domain/ids.ts';
import { isWatchedAttempt, mayCloseOrder } from '../domain/states.ts';
import { FIRST_QUERY_DELAY_MS } from '../domain/schedule.ts';
import { orderStatusSummary, type SummaryLine } from '../domain/order-summary.ts';
import { performOperatorAction } from './operators.ts';
import { queryJobKey, runAttemptQuery } from './active-query.ts';
import { closeOrder } from './orders.ts';
import { createRefund } from './refunds.ts';
import { redeliverEvent } from './events.ts';
import type { OrderView, RefundView } from './views.ts';
import type { ServiceContext } from './context.ts';

type Operator = Pick<SessionRow, 'operatorId' | 'username' | 'role'>;

/** Any app's order: operators look after every app. */
export async function requireAnyOrder(ctx: ServiceContext, orderId: string): Promise<OrderRow> {
  const order = isId('ord', orderId) ? await findOrderById(ctx.pool, orderId) : null;
  if (!order) throw new PaycenterError('not_found', `No order ${orderId}.`, { orderId });
  return order;
}

/** The channel may still change its word on these: watched attempts, and every attempt of an EXCEPTION order. */
export function queryableAttempts(order: Pick<OrderRow, 'state'>, attempts: AttemptRow[]): AttemptRow[] {
  return attempts.filter((a) => order.state === 'EXCEPTION' || isWatchedAttempt(a.state));
}

export interface QueryResult {
  order: OrderRow;
  /** Attempts the channel was asked about. */
  queried: number;
}

/**
 * One query of each attempt the channel may still know about, taken as the active query's one-off
 * step: the answer is applied as an automatic query's would be (an expired unpaid trade is closed
 * at the channel too), and the schedule is left as it was.
 */
async function queryNow(ctx: ServiceContext, order: OrderRow): Promise<QueryResult> {
  const attempts = queryableAttempts(order, await listAttempts(ctx.pool, order.id));
  for (const attempt of attempts) await runAttemptQuery(ctx, { attemptId: attempt.id, step: 0, once: true });
  return { order: await requireAnyOrder(ctx, order.id), queried: attempts.length };
}

export function operatorQueryChannel(ctx: ServiceContext, operator: Operator, orderId: string, note: string): Promise<QueryResult> {
  return performOperatorAction(ctx, operator, 'query_channel', { orderId, note }, async () => queryNow(ctx, await requireAnyOrder(ctx, orderId)));
}

/** The order as closeOrder left it (CLOSED, or PAID when the channel reported a payment while closing). */
export function operatorCloseOrder(ctx: ServiceContext, operator: Operator, orderId: string, note: string): Promise<OrderView> {
  return performOperatorAction(ctx, operator, 'close_order', { orderId, note }, async () => {
    const order = await requireAnyOrder(ctx, orderId);
    return closeOrder(ctx, order.appId, orderId, `closed by operator ${operator.username}: ${note.trim()}`);
  });
}

const REFUND_NO_USERNAME_CHARS_MAX = 32;

/**
 * The merchantRefundNo of a refund made in the console: written into the form when the page is
 * drawn, so a form sent twice (a double click) asks for the same refund, and createRefund answers
 * the first one again instead of refunding twice.
 */
export function newConsoleRefundNo(username: string): string {
  const who = username.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, REFUND_NO_USERNAME_CHARS_MAX);
  return `console-${who}-${randomBytes(12).toString('base64url')}`;
}

/** The shape newConsoleRefundNo makes, within the API's merchantRefundNo limits. */
export const CONSOLE_REFUND_NO = /^console-[A-Za-z0-9_-]{1,55}$/;

export function operatorRefund(
  ctx: ServiceContext,
  operator: Operator,
  orderId: string,
  input: { amountMinor: number; merchantRefundNo: string; note: string },
): Promise<RefundView> {
  return performOperatorAction(ctx, operator, 'refund', { orderId, target: input.merchantRefundNo, note: input.note }, async () => {
    const order = await requireAnyOrder(ctx, orderId);
    const { refund } = await createRefund(ctx, order.appId, orderId, {
      amount: input.amountMinor,
      merchantRefundNo: input.merchantRefundNo,
      reason: input.note.trim(),
    });
    return refund;
  });
}

export function operatorRedeliverEvent(ctx: ServiceContext, operator: Operator, orderId: string, eventId: string, note: string): Promise<void> {
  return performOperatorAction(ctx, operator, 'redeliver_event', { orderId, target: eventId, note }, async () => {
    const order = await requireAnyOrder(ctx, orderId);
    const event = await findEvent(ctx.pool, order.appId, eventId);
    if (event?.orderId !== orderId) throw new PaycenterError('not_found', `Order ${orderId} has no event ${eventId}.`, { orderId });
    await redeliverEvent(ctx, order.appId, eventId);
  });
}

/**
 * Settles an EXCEPTION order without overruling the channel: every attempt is queried first (a
 * payment found makes the order PAID by the normal path); an order still unresolved that was never
 * paid is closed through the merchant's close flow. One we recorded paid that the channel will not
 * confirm (the reconciliation's case) stays EXCEPTION: only the channel can settle it.
 */
export function operatorResolveException(ctx: ServiceContext, operator: Operator, orderId: string, note: string): Promise<OrderRow> {
  return performOperatorAction(ctx, operator, 'resolve_exception', { orderId, note }, async () => {
    const order = await requireAnyOrder(ctx, orderId);
    if (order.state !== 'EXCEPTION') {
      throw new PaycenterError('order_not_exception', `Order ${orderId} is ${order.state}, not EXCEPTION: there is nothing to resolve.`, { orderId });
    }
    const { order: asked } = await queryNow(ctx, order);
    if (asked.state !== 'EXCEPTION') return asked;
    if (!mayCloseOrder(asked)) {
      throw new PaycenterError(
        'exception_unresolved',
        `The payment recorded for this order (${asked.paidAttemptId}) is not confirmed by the channel, and an operator may neither close the order nor mark it paid: take it up with the channel, then query it again.`,
        { orderId, paymentId: asked.paidAttemptId },
      );
    }
    await closeOrder(ctx, asked.appId, orderId, `resolved by operator ${operator.username}: ${note.trim()}`);
    return requireAnyOrder(ctx, orderId);
  });
}

export interface DashboardFacts {
  counts: DashboardCounts;
  byHour: { hour: Date; orders: number }[];
  /** A PAYING order older than this has had its first query: its notification was due. */
  firstQueryDelayMs: number;
  now: Date;
}

export async function dashboardFacts(ctx: ServiceContext): Promise<DashboardFacts> {
  const firstQueryDelayMs = ctx.settings.queryPolicy.scheduleMs?.[0] ?? FIRST_QUERY_DELAY_MS;
  const [counts, byHour] = await Promise.all([dashboardCounts(ctx.pool, firstQueryDelayMs), ordersCreatedByHour(ctx.pool)]);
  return { counts, byHour, firstQueryDelayMs, now: ctx.now() };
}

const ORDER_PAGE_ROWS = 50;

/** One page of the search, and whether older orders follow. */
export async function findOrders(ctx: ServiceContext, filter: OrderFilter): Promise<{ rows: OrderListRow[]; more: boolean }> {
  const rows = await searchOrders(ctx.pool, filter, ORDER_PAGE_ROWS + 1);
  return { rows: rows.slice(0, ORDER_PAGE_ROWS), more: rows.length > ORDER_PAGE_ROWS };
}

/** orderTimeline's entries for transitions and channel calls, as its statement builds them. */
export type TransitionEntry = { kind: 'transition'; at: string; entity: 'order' | 'attempt' | 'refund'; entityId: string; from: string | null; to: string; reason: string };
export type ChannelCallEntry = { kind: 'channel_call'; at: string; attemptId: string; operation: string; outcome: string; detail: string | null; latencyMs: number };

export interface OrderDetail {
  order: OrderRow;
  appName: string | null;
  attempts: AttemptRow[];
  refunds: RefundRow[];
  /** The merchant API's timeline but its notifications, which come with their evidence below. */
  timeline: (TransitionEntry | ChannelCallEntry)[];
  notifications: NotificationEvidence[];
  events: OrderEventRow[];
  actions: OrderActionRow[];
  summary: SummaryLine[];
}

/** Rows of each kind the order page shows; an order with more is a bug or an attack, not a story to read. */
const ORDER_PAGE_ENTRIES_MAX = 1000;

/** Notifications come with their evidence from listNotificationEvidence; the timeline keeps the rest. */
const isTransitionOrCall = (e: TimelineEntry): e is TransitionEntry | ChannelCallEntry => e.kind !== 'notification';

export async function orderDetail(ctx: ServiceContext, orderId: string): Promise<OrderDetail> {
  const order = await requireAnyOrder(ctx, orderId);
  const attemptsRead = listAttempts(ctx.pool, orderId);
  // The latest attempt's scheduled query, read as soon as the attempts are: within the one wait below.
  const nextQueryRead = attemptsRead.then((attempts) => {
    const latest = attempts.at(-1);
    return latest ? pendingJobRunAt(ctx.pool, queryJobKey(latest.id)) : null;
  });
  const [app, attempts, nextQueryAt, refunds, story, notifications, events, actions] = await Promise.all([
    findApp(ctx.pool, order.appId),
    attemptsRead,
    nextQueryRead,
    listRefunds(ctx.pool, orderId),
    orderTimeline(ctx.pool, orderId, ORDER_PAGE_ENTRIES_MAX),
    listNotificationEvidence(ctx.pool, orderId, ORDER_PAGE_ENTRIES_MAX),
    listOrderEvents(ctx.pool, orderId, ORDER_PAGE_ENTRIES_MAX),
    listOrderOperatorActions(ctx.pool, orderId, ORDER_PAGE_ENTRIES_MAX),
  ]);
  const timeline = story.filter(isTransitionOrCall);
  const calls = timeline.filter((e): e is ChannelCallEntry => e.kind === 'channel_call');
  const orderMoves = timeline.filter((e): e is TransitionEntry => e.kind === 'transition' && e.entity === 'order');
  const summary = orderStatusSummary({
    now: ctx.now(),
    order,
    attempts,
    calls: calls.map((c) => ({ ...c, at: new Date(c.at) })),
    notifications: notifications.map((n) => ({ ...n, at: n.receivedAt })),
    lastOrderReason: orderMoves.at(-1)?.reason ?? null,
    nextQueryAt,
  });
  return { order, appName: app?.name ?? null, attempts, refunds, timeline, notifications, events, actions, summary };
}
