// Refunds: the reservation on the paid attempt, inserts, reads, and the guarded state update.
import { queryOne, type Queryable, type Tx } from './db.ts';
import { guardedStateUpdate } from './orders.ts';
import type { RefundKind, RefundState } from '../domain/refunds.ts';

export interface RefundRow {
  id: string;
  orderId: string;
  attemptId: string;
  appId: string;
  kind: RefundKind;
  merchantRefundNo: string | null;
  outRefundNo: string;
  amountMinor: number;
  currency: string;
  reason: string | null;
  state: RefundState;
  channelRefundNo: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
  succeededAt: Date | null;
}

const REFUND_COLUMNS = `id, order_id AS "orderId", attempt_id AS "attemptId", app_id AS "appId", kind,
  merchant_refund_no AS "merchantRefundNo", out_refund_no AS "outRefundNo", amount_minor AS "amountMinor", currency,
  reason, state, channel_refund_no AS "channelRefundNo", failure_code AS "failureCode",
  failure_message AS "failureMessage", created_at AS "createdAt", updated_at AS "updatedAt", succeeded_at AS "succeededAt"`;

/**
 * Holds `amountMinor` of a paid attempt for a refund, only if it still fits in what was paid:
 * the check and the hold are one conditional update, so concurrent refunds can never together
 * exceed the payment. False when it does not fit.
 */
export async function reserveRefund(tx: Tx, attemptId: string, amountMinor: number): Promise<boolean> {
  const { rowCount } = await tx.query({
    name: 'reserve_refund',
    text: `UPDATE payment_attempts SET refund_reserved_minor = refund_reserved_minor + $2, updated_at = now()
      WHERE id = $1 AND state = 'SUCCEEDED' AND refund_reserved_minor + $2 <= amount_minor`,
    values: [attemptId, amountMinor],
  });
  return rowCount === 1;
}

/** A finished refund moves its amount from held to refunded (SUCCEEDED) or gives the hold back (FAILED). */
export async function settleRefundTotals(tx: Tx, attemptId: string, amountMinor: number, to: 'SUCCEEDED' | 'FAILED'): Promise<void> {
  await tx.query({
    name: 'settle_refund_totals',
    text: `UPDATE payment_attempts
        SET refunded_minor = refunded_minor + CASE WHEN $3 = 'SUCCEEDED' THEN $2 ELSE 0 END,
            refund_reserved_minor = refund_reserved_minor - CASE WHEN $3 = 'FAILED' THEN $2 ELSE 0 END,
            updated_at = now()
      WHERE id = $1`,
    values: [attemptId, amountMinor, to],
  });
}

export type NewRefund = Pick<
  RefundRow,
  'id' | 'orderId' | 'attemptId' | 'appId' | 'kind' | 'merchantRefundNo' | 'outRefundNo' | 'amountMinor' | 'currency' | 'reason'
>;

/** Inserts a PENDING refund with its audit row; null when the app's merchantRefundNo is taken. */
export async function insertRefund(tx: Tx, r: NewRefund, auditReason: string): Promise<RefundRow | null> {
  return queryOne<RefundRow>(tx, 'insert_refund', `WITH inserted AS (
       INSERT INTO refunds (id, order_id, attempt_id, app_id, kind, merchant_refund_no, out_refund_no, amount_minor, currency, reason, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'PENDING')
       ON CONFLICT (app_id, merchant_refund_no) DO NOTHING
       RETURNING *
     ), audit AS (
       INSERT INTO transitions (order_id, entity, entity_id, from_state, to_state, reason)
       SELECT order_id, 'refund', id, NULL, 'PENDING', $11 FROM inserted
     )
     SELECT ${REFUND_COLUMNS} FROM inserted`, [r.id, r.orderId, r.attemptId, r.appId, r.kind, r.merchantRefundNo, r.outRefundNo, r.amountMinor, r.currency, r.reason, auditReason]);
}

export function findRefund(q: Queryable, id: string): Promise<RefundRow | null> {
  return queryOne<RefundRow>(q, 'find_refund', `SELECT ${REFUND_COLUMNS} FROM refunds WHERE id = $1`, [id]);
}

export function findRefundByMerchantNo(q: Queryable, appId: string, merchantRefundNo: string): Promise<RefundRow | null> {
  return queryOne<RefundRow>(q, 'find_refund_by_merchant_no', `SELECT ${REFUND_COLUMNS} FROM refunds WHERE app_id = $1 AND merchant_refund_no = $2`, [appId, merchantRefundNo]);
}

export function findRefundByOutRefundNo(q: Queryable, outRefundNo: string): Promise<RefundRow | null> {
  return queryOne<RefundRow>(q, 'find_refund_by_out_refund_no', `SELECT ${REFUND_COLUMNS} FROM refunds WHERE out_refund_no = $1`, [outRefundNo]);
}

export async function listRefunds(q: Queryable, orderId: string): Promise<RefundRow[]> {
  const { rows } = await q.query<RefundRow>({
    name: 'list_refunds',
    text: `SELECT ${REFUND_COLUMNS} FROM refunds WHERE order_id = $1 ORDER BY created_at, id`,
    values: [orderId],
  });
  return rows;
}

export interface RefundStatePatch {
  channelRefundNo?: string;
  failureCode?: string;
  failureMessage?: string;
}

/** The guarded refund update with its audit row; null when the refund already left `from`. */
export function updateRefundState(tx: Tx, id: string, from: RefundState, to: RefundState, reason: string, patch: RefundStatePatch = {}): Promise<RefundRow | null> {
  return guardedStateUpdate<RefundRow>(
    tx,
    { table: 'refunds', entity: 'refund', orderIdColumn: 'order_id', columns: REFUND_COLUMNS },
    { id, from, to, reason },
    `, channel_refund_no = COALESCE($5, channel_refund_no), failure_code = COALESCE($6, failure_code),
       failure_message = COALESCE($7, failure_message), succeeded_at = CASE WHEN $3 = 'SUCCEEDED' THEN now() ELSE succeeded_at END`,
    [patch.channelRefundNo ?? null, patch.failureCode ?? null, patch.failureMessage?.slice(0, 500) ?? null],
  );
}

/**
 * PENDING refunds older than `before` that have no live job: their chain ended in errors (the job
 * runner gave up after its attempts). The refund sweeper starts them again.
 */
export async function listUnscheduledPendingRefunds(q: Queryable, before: Date, limit: number): Promise<{ id: string }[]> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT r.id FROM refunds r
      WHERE r.state = 'PENDING' AND r.created_at < $1
        AND NOT EXISTS (SELECT 1 FROM graphile_worker.jobs j WHERE j.key = 'refund:' || r.id AND j.attempts < j.max_attempts)
      ORDER BY r.created_at LIMIT $2`,
    [before, limit],
  );
  return rows;
}
