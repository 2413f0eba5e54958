// Daily reconciliation: the local records one bill is compared with, and the stored reports with
// their differences.
import { queryOne, type Queryable, type Tx } from './db.ts';
import type { Difference, DifferenceAction, DifferenceClass, LocalAttempt, LocalRecords, LocalRefund } from '../domain/reconciliation.ts';

export type ReconciliationState = 'RUNNING' | 'DONE' | 'FAILED';

export interface ReconciliationSummary {
  billLines: number;
  localPayments: number;
  localRefunds: number;
  differences: Record<DifferenceClass, number>;
}

export interface ReconciliationRow {
  id: string;
  channel: string;
  /** yyyy-MM-dd, the Beijing day of the bill. */
  billDate: string;
  state: ReconciliationState;
  summary: ReconciliationSummary | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface DifferenceRow {
  id: number;
  class: DifferenceClass;
  outTradeNo: string | null;
  outRefundNo: string | null;
  orderId: string | null;
  channelSide: Difference['channelSide'];
  localSide: (NonNullable<Difference['localSide']> & { attemptId: string | null; refundId: string | null }) | null;
  action: DifferenceAction;
}

const REPORT_COLUMNS = `id, channel, to_char(bill_date, 'YYYY-MM-DD') AS "billDate", state, summary, error,
  started_at AS "startedAt", finished_at AS "finishedAt"`;

/**
 * The records a bill of `channel` for the day `window` is compared with: the attempts paid in the
 * window and the refunds that succeeded in it, plus every attempt and refund the bill names
 * whatever its date, so a payment made at 23:59:59 and billed the next day is matched, not
 * reported. Unbounded on purpose: a truncated day would read as differences.
 */
export async function loadLocalRecords(
  q: Queryable,
  channel: string,
  window: LocalRecords['window'],
  billed: { outTradeNos: string[]; outRefundNos: string[] },
): Promise<LocalRecords> {
  const attempts = await q.query<LocalAttempt>({
    name: 'reconciliation_attempts',
    text: `SELECT a.id, a.order_id AS "orderId", a.out_trade_no AS "outTradeNo", a.amount_minor AS "amountMinor", a.currency,
              a.state, a.paid_at AS "paidAt", o.state AS "orderState", o.paid_attempt_id AS "orderPaidAttemptId"
         FROM payment_attempts a JOIN orders o ON o.id = a.order_id
        WHERE a.channel = $1
          AND ((a.state = 'SUCCEEDED' AND a.paid_at >= $2 AND a.paid_at < $3) OR a.out_trade_no = ANY($4::text[]))`,
    values: [channel, window.from, window.to, billed.outTradeNos],
  });
  const refunds = await q.query<LocalRefund>({
    name: 'reconciliation_refunds',
    text: `SELECT r.id, r.order_id AS "orderId", r.attempt_id AS "attemptId", a.out_trade_no AS "outTradeNo",
              r.out_refund_no AS "outRefundNo", r.amount_minor AS "amountMinor", r.currency, r.state, r.created_at AS "createdAt"
         FROM refunds r JOIN payment_attempts a ON a.id = r.attempt_id
        WHERE a.channel = $1
          AND ((r.state = 'SUCCEEDED' AND r.created_at >= $2 AND r.created_at < $3) OR r.out_refund_no = ANY($4::text[]))`,
    values: [channel, window.from, window.to, billed.outRefundNos],
  });
  return { window, attempts: attempts.rows, refunds: refunds.rows };
}

export async function insertReconciliation(q: Queryable, r: { id: string; channel: string; billDate: string }): Promise<ReconciliationRow> {
  const row = await queryOne<ReconciliationRow>(
    q,
    'insert_reconciliation',
    `INSERT INTO reconciliations (id, channel, bill_date, state) VALUES ($1, $2, $3, 'RUNNING') RETURNING ${REPORT_COLUMNS}`,
    [r.id, r.channel, r.billDate],
  );
  return row!;
}

/** RUNNING → FAILED with the reason; null when the report had already left RUNNING. */
export async function failReconciliation(q: Queryable, id: string, error: string): Promise<ReconciliationRow | null> {
  return queryOne<ReconciliationRow>(
    q,
    'fail_reconciliation',
    `UPDATE reconciliations SET state = 'FAILED', error = $2, finished_at = now()
      WHERE id = $1 AND state = 'RUNNING' RETURNING ${REPORT_COLUMNS}`,
    [id, error],
  );
}

export interface ActedDifference {
  difference: Difference;
  action: DifferenceAction;
}

/** Stores the differences and moves the report RUNNING → DONE; null when it had already left RUNNING. */
export async function finishReconciliation(
  tx: Tx,
  id: string,
  summary: ReconciliationSummary,
  acted: readonly ActedDifference[],
): Promise<ReconciliationRow | null> {
  const done = await queryOne<ReconciliationRow>(
    tx,
    'finish_reconciliation',
    `UPDATE reconciliations SET state = 'DONE', summary = $2, finished_at = now()
      WHERE id = $1 AND state = 'RUNNING' RETURNING ${REPORT_COLUMNS}`,
    [id, summary],
  );
  if (!done || acted.length === 0) return done;
  const rows = acted.map(({ difference: d, action }) => ({
    class: d.class,
    out_trade_no: d.outTradeNo,
    out_refund_no: d.outRefundNo,
    order_id: d.orderId,
    channel_side: d.channelSide,
    // The table has no attempt or refund column: their ids ride with the local side.
    local_side: d.localSide && { ...d.localSide, attemptId: d.attemptId, refundId: d.refundId },
    action,
  }));
  await tx.query(
    `INSERT INTO reconciliation_differences (reconciliation_id, class, out_trade_no, out_refund_no, order_id, channel_side, local_side, action)
     SELECT $1, d.class, d.out_trade_no, d.out_refund_no, d.order_id, d.channel_side, d.local_side, d.action
       FROM jsonb_to_recordset($2::jsonb) AS d(class text, out_trade_no text, out_refund_no text, order_id text,
                                              channel_side jsonb, local_side jsonb, action text)`,
    [id, JSON.stringify(rows)],
  );
  return done;
}

/** Newest first; `before` is a report of the previous page (its start time and id order the pages). */
export async function listReconciliations(
  q: Queryable,
  filter: { channel: string | null; before: ReconciliationRow | null },
  limit: number,
): Promise<ReconciliationRow[]> {
  const { rows } = await q.query<ReconciliationRow>({
    name: 'list_reconciliations',
    text: `SELECT ${REPORT_COLUMNS} FROM reconciliations
            WHERE ($1::text IS NULL OR channel = $1)
              AND ($2::timestamptz IS NULL OR (started_at, id) < ($2, $3))
            ORDER BY started_at DESC, id DESC LIMIT $4`,
    values: [filter.channel, filter.before?.startedAt ?? null, filter.before?.id ?? null, limit],
  });
  return rows;
}

export async function findReconciliation(q: Queryable, id: string): Promise<ReconciliationRow | null> {
  return queryOne<ReconciliationRow>(q, 'find_reconciliation', `SELECT ${REPORT_COLUMNS} FROM reconciliations WHERE id = $1`, [id]);
}

/** In the order they were found; a report holds at most its bill's lines and the day's records. */
export async function listDifferences(q: Queryable, reconciliationId: string): Promise<DifferenceRow[]> {
  const { rows } = await q.query<DifferenceRow>({
    name: 'list_reconciliation_differences',
    text: `SELECT id, class, out_trade_no AS "outTradeNo", out_refund_no AS "outRefundNo", order_id AS "orderId",
              channel_side AS "channelSide", local_side AS "localSide", action
         FROM reconciliation_differences WHERE reconciliation_id = $1 ORDER BY id`,
    values: [reconciliationId],
  });
  return rows;
}
