// Orders and their payment attempts: reads, inserts, and the guarded state updates.
import { queryOne, type Queryable, type Tx } from './db.ts';
import type { AttemptState, OrderState } from '../domain/states.ts';
import type { PayAction } from '../channels/types.ts';

export interface OrderRow {
  id: string;
  appId: string;
  merchantOrderNo: string;
  amountMinor: number;
  currency: string;
  subject: string;
  description: string | null;
  customerId: string | null;
  metadata: Record<string, string> | null;
  state: OrderState;
  paidAttemptId: string | null;
  eventSequence: number;
  expiresAt: Date;
  paidAt: Date | null;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AttemptRow {
  id: string;
  orderId: string;
  channel: string;
  method: string;
  outTradeNo: string;
  amountMinor: number;
  currency: string;
  state: AttemptState;
  channelExpiresAt: Date;
  action: PayAction | null;
  channelTradeNo: string | null;
  failureCode: string | null;
  paidAt: Date | null;
  /** Fen held by PENDING and SUCCEEDED refunds of this payment. */
  refundReservedMinor: number;
  /** Fen returned by SUCCEEDED refunds. */
  refundedMinor: number;
  /** Where the cashier sends the buyer back; null: the channel's configured page. */
  returnUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const ORDER_COLUMNS = `id, app_id AS "appId", merchant_order_no AS "merchantOrderNo", amount_minor AS "amountMinor",
  currency, subject, description, customer_id AS "customerId", metadata, state, paid_attempt_id AS "paidAttemptId",
  event_sequence AS "eventSequence", expires_at AS "expiresAt", paid_at AS "paidAt", closed_at AS "closedAt",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

const ATTEMPT_COLUMNS = `id, order_id AS "orderId", channel, method, out_trade_no AS "outTradeNo",
  amount_minor AS "amountMinor", currency, state, channel_expires_at AS "channelExpiresAt", action,
  channel_trade_no AS "channelTradeNo", failure_code AS "failureCode", paid_at AS "paidAt",
  refund_reserved_minor AS "refundReservedMinor", refunded_minor AS "refundedMinor",
  return_url AS "returnUrl", created_at AS "createdAt", updated_at AS "updatedAt"`;

export interface NewOrder {
  id: string;
  appId: string;
  merchantOrderNo: string;
  amountMinor: number;
  currency: string;
  subject: string;
  description: string | null;
  customerId: string | null;
  metadata: Record<string, string> | null;
  expiresAt: Date;
}

/** Inserts a CREATED order with its audit row; null when (app, merchantOrderNo) is taken. */
export async function insertOrder(tx: Tx, o: NewOrder): Promise<OrderRow | null> {
  return queryOne<OrderRow>(tx, 'insert_order', `WITH inserted AS (
       INSERT INTO orders (id, app_id, merchant_order_no, amount_minor, currency, subject, description, customer_id, metadata, state, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'CREATED', $10)
       ON CONFLICT (app_id, merchant_order_no) DO NOTHING
       RETURNING *
     ), audit AS (
       INSERT INTO transitions (order_id, entity, entity_id, from_state, to_state, reason)
       SELECT id, 'order', id, NULL, 'CREATED', 'order submitted' FROM inserted
     )
     SELECT ${ORDER_COLUMNS} FROM inserted`, [o.id, o.appId, o.merchantOrderNo, o.amountMinor, o.currency, o.subject, o.description, o.customerId, o.metadata, o.expiresAt]);
}

export async function findOrder(q: Queryable, appId: string, id: string): Promise<OrderRow | null> {
  return queryOne<OrderRow>(q, 'find_order', `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 AND app_id = $2`, [id, appId]);
}

export async function findOrderByMerchantOrderNo(q: Queryable, appId: string, merchantOrderNo: string): Promise<OrderRow | null> {
  return queryOne<OrderRow>(
    q,
    'find_order_by_merchant_order_no',
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE app_id = $1 AND merchant_order_no = $2`,
    [appId, merchantOrderNo],
  );
}

/** The per-order lock: every decision about an order is taken while holding it. */
export async function lockOrder(tx: Tx, id: string): Promise<OrderRow | null> {
  return queryOne<OrderRow>(tx, 'lock_order', `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [id]);
}

/** Locks the order a row of `table` belongs to (the per-order lock, reached from an attempt or a refund). */
async function lockOrderOf(tx: Tx, table: 'payment_attempts' | 'refunds', id: string): Promise<OrderRow | null> {
  return queryOne<OrderRow>(tx, `lock_order_of_${table}`, `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = (SELECT order_id FROM ${table} WHERE id = $1) FOR UPDATE`, [id]);
}

export function lockOrderOfRefund(tx: Tx, refundId: string): Promise<OrderRow | null> {
  return lockOrderOf(tx, 'refunds', refundId);
}

/** Locks the order an attempt belongs to (the per-order lock, reached from the attempt). */
export function lockOrderOfAttempt(tx: Tx, attemptId: string): Promise<OrderRow | null> {
  return lockOrderOf(tx, 'payment_attempts', attemptId);
}

export async function listAttempts(q: Queryable, orderId: string): Promise<AttemptRow[]> {
  const { rows } = await q.query<AttemptRow>({
    name: 'list_attempts',
    text: `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE order_id = $1 ORDER BY created_at, id`,
    values: [orderId],
  });
  return rows;
}

export async function findAttempt(q: Queryable, id: string): Promise<AttemptRow | null> {
  return queryOne<AttemptRow>(q, 'find_attempt', `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE id = $1`, [id]);
}

export async function findAttemptByOutTradeNo(q: Queryable, channel: string, outTradeNo: string): Promise<AttemptRow | null> {
  return queryOne<AttemptRow>(q, 'find_attempt_by_out_trade_no', `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE channel = $1 AND out_trade_no = $2`, [channel, outTradeNo]);
}

export interface NewAttempt {
  id: string;
  orderId: string;
  channel: string;
  method: string;
  outTradeNo: string;
  amountMinor: number;
  currency: string;
  channelExpiresAt: Date;
  returnUrl?: string | null;
}

/** Inserts a CREATING attempt with its audit row. The partial unique index allows one open attempt per order. */
export async function insertAttempt(tx: Tx, a: NewAttempt): Promise<AttemptRow> {
  const { rows } = await tx.query<AttemptRow>({
    name: 'insert_attempt',
    text: `WITH inserted AS (
       INSERT INTO payment_attempts (id, order_id, channel, method, out_trade_no, amount_minor, currency, state, channel_expires_at, return_url)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'CREATING', $8, $9)
       RETURNING *
     ), audit AS (
       INSERT INTO transitions (order_id, entity, entity_id, from_state, to_state, reason)
       SELECT order_id, 'attempt', id, NULL, 'CREATING', 'payment attempt opened' FROM inserted
     )
     SELECT ${ATTEMPT_COLUMNS} FROM inserted`,
    values: [a.id, a.orderId, a.channel, a.method, a.outTradeNo, a.amountMinor, a.currency, a.channelExpiresAt, a.returnUrl ?? null],
  });
  return rows[0]!;
}

/**
 * The one guarded state update: moves a row `from` → `to` only if it is still in `from`, applies
 * the patch, and writes the audit row, all in one statement. Null when the row was not in
 * `from`: a conflict for the caller to handle, never a silent success.
 */
export async function guardedStateUpdate<Row>(
  tx: Queryable,
  target: { table: string; entity: 'order' | 'attempt' | 'refund'; orderIdColumn: string; columns: string },
  change: { id: string; from: string; to: string; reason: string },
  patchSql: string,
  patchParams: unknown[],
): Promise<Row | null> {
  // Prepared once per connection and entity: the text only varies with the target.
  const { rows } = await tx.query<Row & object>({
    name: `update_${target.entity}_state`,
    text: `WITH updated AS (
       UPDATE ${target.table} SET state = $3, updated_at = now()${patchSql}
       WHERE id = $1 AND state = $2
       RETURNING *
     ), audit AS (
       INSERT INTO transitions (order_id, entity, entity_id, from_state, to_state, reason)
       SELECT ${target.orderIdColumn}, '${target.entity}', id, $2, $3, $4 FROM updated
     )
     SELECT ${target.columns} FROM updated`,
    values: [change.id, change.from, change.to, change.reason, ...patchParams],
  });
  return rows[0] ?? null;
}

export interface OrderStatePatch {
  paidAttemptId?: string;
}

export function updateOrderState(
  tx: Tx,
  id: string,
  from: OrderState,
  to: OrderState,
  reason: string,
  patch: OrderStatePatch = {},
): Promise<OrderRow | null> {
  return guardedStateUpdate<OrderRow>(
    tx,
    { table: 'orders', entity: 'order', orderIdColumn: 'id', columns: ORDER_COLUMNS },
    { id, from, to, reason },
    `, paid_attempt_id = COALESCE($5, paid_attempt_id),
       paid_at = CASE WHEN $3 = 'PAID' THEN now() ELSE paid_at END,
       closed_at = CASE WHEN $3 = 'CLOSED' THEN now() ELSE closed_at END`,
    [patch.paidAttemptId ?? null],
  );
}

export interface AttemptStatePatch {
  action?: PayAction;
  channelTradeNo?: string;
  paidAt?: Date;
  failureCode?: string;
}

export function updateAttemptState(
  tx: Queryable,
  id: string,
  from: AttemptState,
  to: AttemptState,
  reason: string,
  patch: AttemptStatePatch = {},
): Promise<AttemptRow | null> {
  return guardedStateUpdate<AttemptRow>(
    tx,
    { table: 'payment_attempts', entity: 'attempt', orderIdColumn: 'order_id', columns: ATTEMPT_COLUMNS },
    { id, from, to, reason },
    `, action = COALESCE($5, action), channel_trade_no = COALESCE($6, channel_trade_no),
       paid_at = COALESCE($7, paid_at), failure_code = COALESCE($8, failure_code)`,
    [patch.action ?? null, patch.channelTradeNo ?? null, patch.paidAt ?? null, patch.failureCode ?? null],
  );
}

/** Never-paid, unclosed orders past their expiry with no attempt the channel could still pay. */
export async function listExpiredUnwatchedOrders(q: Queryable, cutoff: Date, limit: number): Promise<{ id: string }[]> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT o.id FROM orders o
      WHERE o.state IN ('CREATED', 'PAYING', 'EXCEPTION') AND o.paid_attempt_id IS NULL AND o.expires_at <= $1
        AND NOT EXISTS (SELECT 1 FROM payment_attempts a
                         WHERE a.order_id = o.id AND a.state IN ('CREATING', 'PENDING', 'CLOSING'))
      ORDER BY o.expires_at LIMIT $2`,
    [cutoff, limit],
  );
  return rows;
}

/** Unscoped read for background work (jobs); API reads go through findOrder with the app id. */
export async function findOrderById(q: Queryable, id: string): Promise<OrderRow | null> {
  return queryOne<OrderRow>(q, 'find_order_by_id', `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [id]);
}
