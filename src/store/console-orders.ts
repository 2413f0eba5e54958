// The console's reads about orders: the dashboard's counts, the order search, and what the order
// page shows besides the merchant API's timeline (notification evidence, events with their
// deliveries, operator actions). Every statement here is served by an index of 005_console.sql or
// earlier; test/integration/console-queries.test.ts checks the plans on 100,000 orders.
import type { Queryable } from './db.ts';
import { ORDER_STATES, type OrderState } from '../domain/states.ts';
import type { DeliveryState, DeliveryTarget } from './deliveries.ts';

export interface DashboardCounts {
  byState: Record<OrderState, number>;
  /** PAYING orders older than the first query's delay: the notification was expected by now. */
  payingPastFirstQuery: number;
  refusedNotificationsLastDay: number;
  deadDeliveries: number;
  /** Differences in the latest finished report of each (channel, bill date) of the last 30 days. */
  openDifferences: number;
}

/**
 * One statement, each count an index scan: per state (an index-only scan of orders_state_created
 * each, where a GROUP BY would read the whole table), and partial indexes for the small sets.
 */
export async function dashboardCounts(q: Queryable, firstQueryDelayMs: number): Promise<DashboardCounts> {
  const { rows } = await q.query<DashboardCounts>({
    name: 'console_dashboard_counts',
    text: `SELECT
        (SELECT json_object_agg(s.state, (SELECT count(*)::int FROM orders o WHERE o.state = s.state))
           FROM unnest($2::text[]) AS s (state)) AS "byState",
        (SELECT count(*)::int FROM orders
          WHERE state = 'PAYING' AND created_at < now() - $1 * interval '1 millisecond') AS "payingPastFirstQuery",
        (SELECT count(*)::int FROM notifications
          WHERE NOT verified AND received_at >= now() - interval '24 hours') AS "refusedNotificationsLastDay",
        (SELECT count(*)::int FROM deliveries WHERE state = 'dead') AS "deadDeliveries",
        (SELECT count(*)::int FROM reconciliation_differences
          WHERE reconciliation_id IN (
            SELECT DISTINCT ON (channel, bill_date) id FROM reconciliations
             WHERE state = 'DONE' AND bill_date >= (now() AT TIME ZONE 'Asia/Shanghai')::date - 30
             ORDER BY channel, bill_date, started_at DESC)) AS "openDifferences"`,
    values: [firstQueryDelayMs, ORDER_STATES],
  });
  return rows[0]!;
}

/** Orders created in each of the last 24 hours (the current one included); hours with none are absent. */
export async function ordersCreatedByHour(q: Queryable): Promise<{ hour: Date; orders: number }[]> {
  const { rows } = await q.query<{ hour: Date; orders: number }>({
    name: 'console_orders_by_hour',
    text: `SELECT date_trunc('hour', created_at, 'UTC') AS hour, count(*)::int AS orders FROM orders
            WHERE created_at >= date_trunc('hour', now(), 'UTC') - interval '23 hours'
            GROUP BY 1 ORDER BY 1`,
    values: [],
  });
  return rows;
}

/** Where a page of the newest-first order list ends: the last row's (created_at, id). */
export interface OrderCursor {
  /** created_at to the microsecond, as PostgreSQL wrote it: a JavaScript Date would drop rows. */
  createdAt: string;
  id: string;
}

export interface OrderFilter {
  merchantOrderNo?: string;
  customerId?: string;
  state?: OrderState;
  /** Orders with an attempt on this channel. */
  channel?: string;
  createdFrom?: Date;
  createdBefore?: Date;
  after?: OrderCursor;
}

export interface OrderListRow {
  id: string;
  appName: string;
  merchantOrderNo: string;
  amountMinor: number;
  currency: string;
  state: OrderState;
  customerId: string | null;
  createdAt: Date;
  cursor: OrderCursor;
  /** Channels of its attempts, space-separated; null before the first attempt. */
  channels: string | null;
}

/**
 * The search as one statement: newest first, continued after a cursor (never OFFSET). Each
 * filter is a fixed fragment, so the planner sees the actual shape and picks its index.
 */
function orderSearchQuery(filter: OrderFilter, limit: number): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  const where: string[] = [];
  if (filter.merchantOrderNo !== undefined) where.push(`o.merchant_order_no = ${param(filter.merchantOrderNo)}`);
  if (filter.customerId !== undefined) where.push(`o.customer_id = ${param(filter.customerId)}`);
  if (filter.state !== undefined) where.push(`o.state = ${param(filter.state)}`);
  if (filter.channel !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM payment_attempts p WHERE p.order_id = o.id AND p.channel = ${param(filter.channel)})`);
  }
  if (filter.createdFrom !== undefined) where.push(`o.created_at >= ${param(filter.createdFrom)}`);
  if (filter.createdBefore !== undefined) where.push(`o.created_at < ${param(filter.createdBefore)}`);
  if (filter.after !== undefined) where.push(`(o.created_at, o.id) < (${param(filter.after.createdAt)}::timestamptz, ${param(filter.after.id)})`);
  const text = `SELECT o.id, (SELECT name FROM apps WHERE apps.id = o.app_id) AS "appName", o.merchant_order_no AS "merchantOrderNo",
      o.amount_minor AS "amountMinor", o.currency, o.state, o.customer_id AS "customerId", o.created_at AS "createdAt",
      to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "cursorAt",
      (SELECT string_agg(DISTINCT p.channel, ' ') FROM payment_attempts p WHERE p.order_id = o.id) AS channels
    FROM orders o
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY o.created_at DESC, o.id DESC
    LIMIT ${param(limit)}`;
  return { text, values };
}

export async function searchOrders(q: Queryable, filter: OrderFilter, limit: number): Promise<OrderListRow[]> {
  const { rows } = await q.query<Omit<OrderListRow, 'cursor'> & { cursorAt: string }>(orderSearchQuery(filter, limit));
  return rows.map(({ cursorAt, ...row }) => ({ ...row, cursor: { createdAt: cursorAt, id: row.id } }));
}

export interface NotificationEvidence {
  id: number;
  channel: string;
  notificationId: string | null;
  verified: boolean;
  refusalReason: string | null;
  outcome: string | null;
  outTradeNo: string | null;
  outRefundNo: string | null;
  headers: Record<string, unknown>;
  body: string;
  receivedAt: Date;
}

/** The order's notifications with what arrived (headers kept as evidence, raw body), oldest first. */
export async function listNotificationEvidence(q: Queryable, orderId: string, limit: number): Promise<NotificationEvidence[]> {
  const { rows } = await q.query<NotificationEvidence>({
    name: 'console_notification_evidence',
    text: `SELECT id, channel, notification_id AS "notificationId", verified, refusal_reason AS "refusalReason", outcome,
              out_trade_no AS "outTradeNo", out_refund_no AS "outRefundNo", headers, body, received_at AS "receivedAt"
         FROM notifications WHERE order_id = $1 ORDER BY received_at, id LIMIT $2`,
    values: [orderId, limit],
  });
  return rows;
}

export interface EventDeliveryRow {
  target: DeliveryTarget;
  endpointUrl: string | null;
  state: DeliveryState;
  attempts: number;
  lastError: string | null;
  deliveredAt: string | null;
}

export interface OrderEventRow {
  id: string;
  type: string;
  sequence: number;
  createdAt: Date;
  deliveries: EventDeliveryRow[];
}

/** The order's events in sequence, each with its deliveries (one per webhook endpoint or broker). */
export async function listOrderEvents(q: Queryable, orderId: string, limit: number): Promise<OrderEventRow[]> {
  const { rows } = await q.query<OrderEventRow>({
    name: 'console_order_events',
    text: `SELECT e.id, e.type, e.sequence, e.created_at AS "createdAt",
              coalesce((SELECT json_agg(json_build_object('target', d.target, 'endpointUrl', w.url, 'state', d.state,
                  'attempts', d.attempts, 'lastError', d.last_error, 'deliveredAt', d.delivered_at) ORDER BY d.id)
                FROM deliveries d LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id
               WHERE d.event_id = e.id), '[]') AS deliveries
         FROM events e WHERE e.order_id = $1 ORDER BY e.sequence LIMIT $2`,
    values: [orderId, limit],
  });
  return rows;
}

export interface OrderActionRow {
  username: string;
  action: string;
  target: string | null;
  note: string;
  /** "done", an error code, or null while it runs (or if it was cut short). */
  outcome: string | null;
  at: Date;
}

export async function listOrderOperatorActions(q: Queryable, orderId: string, limit: number): Promise<OrderActionRow[]> {
  const { rows } = await q.query<OrderActionRow>({
    name: 'console_order_operator_actions',
    text: `SELECT username, action, target, note, outcome, at FROM operator_actions
            WHERE order_id = $1 ORDER BY id LIMIT $2`,
    values: [orderId, limit],
  });
  return rows;
}

/** When the scheduled query job with this key (graphile-worker's job key) runs next, if one is pending. */
export async function pendingJobRunAt(q: Queryable, jobKey: string): Promise<Date | null> {
  const { rows } = await q.query<{ runAt: Date }>('SELECT run_at AS "runAt" FROM graphile_worker.jobs WHERE key = $1', [jobKey]);
  return rows[0]?.runAt ?? null;
}
