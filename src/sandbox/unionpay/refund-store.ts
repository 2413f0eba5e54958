// The SQL of refunds and daily bills in the UnionPay sandbox ledger (schema sandbox_unionpay,
// migration.ts): a refund reserves its fen on the consume in the statement that records it, and
// gives them back in the statement that fails it.
import type { SandboxBillLine } from '../bill-plants.ts';
import {
  NOTIFICATION_PARAMS as P,
  insertNotificationSql,
  notificationParams,
  type NewNotification,
  type Queryable,
} from '../notification-store.ts';
import { UNIONPAY_SCHEMA } from './migration.ts';

export type RefundState = 'PROCESSING' | 'SUCCEEDED' | 'FAILED';

export interface RefundRow {
  merId: string;
  orderId: string;
  txnTime: string;
  /** Fen. */
  txnAmt: number;
  /** The consume refunded: its orderId and queryId. */
  origOrderId: string;
  origQryId: string;
  queryId: string;
  backUrl: string;
  reqReserved: string | null;
  requestFingerprint: string;
  state: RefundState;
  acceptedAt: Date;
  finishDueAt: Date;
  finishedAt: Date | null;
}

export type NewRefund = Omit<RefundRow, 'origOrderId' | 'state' | 'finishedAt'>;

const REFUND_COLUMNS = `mer_id AS "merId", order_id AS "orderId", txn_time AS "txnTime", txn_amt AS "txnAmt",
  orig_order_id AS "origOrderId", orig_query_id AS "origQryId", query_id AS "queryId", back_url AS "backUrl",
  req_reserved AS "reqReserved", request_fingerprint AS "requestFingerprint", state, accepted_at AS "acceptedAt",
  finish_due_at AS "finishDueAt", finished_at AS "finishedAt"`;

/** PostgreSQL's unique_violation, and the constraint that makes a refund's orderId a duplicate. */
const UNIQUE_VIOLATION = '23505';
const REFUND_PRIMARY_KEY = 'refund_transactions_pkey';

export type RefundInsert =
  | { outcome: 'accepted'; refund: RefundRow }
  /** No paid consume of the merchant has this queryId, or what is left of it is less than the refund. */
  | { outcome: 'not_refundable' }
  /** Another request took the orderId meanwhile. */
  | { outcome: 'order_id_taken' };

/**
 * Reserves the refund's fen on the paid consume, if they fit, and records the refund: one
 * statement, so concurrent refunds of one consume queue on its row and never add up past it.
 */
export async function reserveAndInsertRefund(q: Queryable, r: NewRefund): Promise<RefundInsert> {
  try {
    const { rows } = await q.query<RefundRow>(
      `WITH reserved AS (
         UPDATE sandbox_unionpay.trades SET refund_reserved = refund_reserved + $4
          WHERE mer_id = $1 AND query_id = $5 AND state = 'PAID' AND refund_reserved + $4 <= txn_amt
         RETURNING order_id
       )
       INSERT INTO sandbox_unionpay.refund_transactions
         (mer_id, order_id, txn_time, txn_amt, orig_order_id, orig_query_id, query_id, back_url, req_reserved,
          request_fingerprint, state, accepted_at, finish_due_at)
       SELECT $1, $2, $3, $4, order_id, $5, $6, $7, $8, $9, 'PROCESSING', $10, $11 FROM reserved
       RETURNING ${REFUND_COLUMNS}`,
      [r.merId, r.orderId, r.txnTime, r.txnAmt, r.origQryId, r.queryId, r.backUrl, r.reqReserved, r.requestFingerprint, r.acceptedAt, r.finishDueAt],
    );
    return rows[0] ? { outcome: 'accepted', refund: rows[0] } : { outcome: 'not_refundable' };
  } catch (err) {
    // The whole statement rolled back, reservation included.
    const { code, constraint } = err as { code?: string; constraint?: string };
    if (code === UNIQUE_VIOLATION && constraint === REFUND_PRIMARY_KEY) return { outcome: 'order_id_taken' };
    throw err;
  }
}

export async function findRefund(q: Queryable, merId: string, orderId: string): Promise<RefundRow | undefined> {
  const { rows } = await q.query<RefundRow>(
    `SELECT ${REFUND_COLUMNS} FROM sandbox_unionpay.refund_transactions WHERE mer_id = $1 AND order_id = $2`,
    [merId, orderId],
  );
  return rows[0];
}

/** Processing refunds whose time to finish has come, oldest first. */
export async function listDueRefunds(q: Queryable, now: Date, limit: number): Promise<RefundRow[]> {
  const { rows } = await q.query<RefundRow>(
    `SELECT ${REFUND_COLUMNS} FROM sandbox_unionpay.refund_transactions
      WHERE state = 'PROCESSING' AND finish_due_at <= $1
      ORDER BY finish_due_at LIMIT $2`,
    [now, limit],
  );
  return rows;
}

/**
 * PROCESSING → SUCCEEDED or FAILED, a failure's fen given back to the consume, and the backUrl
 * notification enqueued: one statement. False when the refund was finished already (by another
 * sandbox process).
 */
export async function finishRefundAndEnqueueNotification(
  q: Queryable,
  refund: { merId: string; orderId: string },
  outcome: { state: Exclude<RefundState, 'PROCESSING'>; finishedAt: Date },
  notification: NewNotification,
): Promise<boolean> {
  const { rowCount } = await q.query(
    `WITH finished AS (
       UPDATE sandbox_unionpay.refund_transactions SET state = $${P + 3}::text, finished_at = $${P + 4}
        WHERE mer_id = $${P + 1} AND order_id = $${P + 2} AND state = 'PROCESSING'
       RETURNING mer_id, orig_order_id, txn_amt, back_url
     ), released AS (
       UPDATE sandbox_unionpay.trades t SET refund_reserved = t.refund_reserved - f.txn_amt
         FROM finished f
        WHERE $${P + 3}::text = 'FAILED' AND t.mer_id = f.mer_id AND t.order_id = f.orig_order_id
     ), source AS (
       SELECT mer_id AS mch_id, orig_order_id AS out_trade_no, back_url AS notify_url FROM finished
     )
     ${insertNotificationSql(UNIONPAY_SCHEMA, 'source', 'refund')}`,
    [...notificationParams(notification), refund.merId, refund.orderId, outcome.state, outcome.finishedAt],
  );
  return rowCount === 1;
}

/** A bill line with the transaction's own txnTime (planted lines have none). */
export type UnionpayBillLine = SandboxBillLine & { txnTime?: string };

type StoredBillLine = Omit<UnionpayBillLine, 'outRefundNo' | 'refundId' | 'refundState'> & {
  outRefundNo: string | null;
  refundId: string | null;
  refundState: UnionpayBillLine['refundState'] | null;
};

/**
 * One merchant's transactions of [from, to): consumes by the time they were paid, refunds (any
 * state) by the time they were accepted, in time order.
 */
export async function listBillLines(q: Queryable, merId: string, day: { from: Date; to: Date }, limit: number): Promise<UnionpayBillLine[]> {
  const { rows } = await q.query<StoredBillLine>(
    `SELECT 'payment' AS kind, mer_id AS "mchId", order_id AS "outTradeNo", query_id AS "transactionId",
            NULL AS "outRefundNo", NULL AS "refundId", txn_amt AS amount, paid_at AS at, NULL AS "refundState",
            txn_time AS "txnTime"
       FROM sandbox_unionpay.trades
      WHERE mer_id = $1 AND state = 'PAID' AND paid_at >= $2 AND paid_at < $3
     UNION ALL
     SELECT 'refund', mer_id, orig_order_id, orig_query_id, order_id, query_id, txn_amt, accepted_at, lower(state), txn_time
       FROM sandbox_unionpay.refund_transactions
      WHERE mer_id = $1 AND accepted_at >= $2 AND accepted_at < $3
     ORDER BY at
     LIMIT $4`,
    [merId, day.from, day.to, limit],
  );
  return rows.map(({ outRefundNo, refundId, refundState, ...line }) => ({
    ...line,
    ...(outRefundNo === null ? {} : { outRefundNo }),
    ...(refundId === null ? {} : { refundId }),
    ...(refundState === null ? {} : { refundState }),
  }));
}
