// The SQL of Alipay refunds and of a day's bill (schema sandbox_alipay). Alipay refunds are
// synchronous (docs/refunds-and-bills.md): a refund is either succeeded (money moved) or failed
// (a planted SELLER_BALANCE_NOT_ENOUGH), never processing. The refundable amount is kept on the
// trade row, changed only under that row's lock and bounded by a CHECK, so concurrent refunds of
// one trade can never together exceed what was paid.
import type { NewNotification } from '../notification-store.ts';
import { TRADE_COLUMNS, tradeParam, updateTradeAndEnqueueNotification, type Queryable, type TradeRow } from './store.ts';

/** Idempotent; appended to ALIPAY_MIGRATION_SQL (the trades table must exist first). */
export const ALIPAY_REFUND_MIGRATION_SQL = `
-- Fen refunded so far (succeeded refunds only); a full refund closes the trade.
ALTER TABLE sandbox_alipay.trades
  ADD COLUMN IF NOT EXISTS refunded_fen integer NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0 AND refunded_fen <= total_amount_fen);

CREATE TABLE IF NOT EXISTS sandbox_alipay.trade_refunds (
  app_id            text NOT NULL,
  out_trade_no      text NOT NULL,
  -- The merchant's refund number, unique per trade; a full refund without one uses out_trade_no.
  out_request_no    text NOT NULL,
  refund_amount_fen integer NOT NULL CHECK (refund_amount_fen > 0),
  refund_reason     text,
  state             text NOT NULL CHECK (state IN ('succeeded', 'failed')),
  -- When the bank took the request (the bill's day); a failed refund resent is taken anew.
  accepted_at       timestamptz NOT NULL,
  finished_at       timestamptz NOT NULL,
  PRIMARY KEY (app_id, out_trade_no, out_request_no),
  FOREIGN KEY (app_id, out_trade_no) REFERENCES sandbox_alipay.trades
);
CREATE INDEX IF NOT EXISTS trade_refunds_accepted_at ON sandbox_alipay.trade_refunds (accepted_at);
CREATE INDEX IF NOT EXISTS trade_refunds_out_trade_no ON sandbox_alipay.trade_refunds (out_trade_no);

-- Every refund the bank holds, in the words every channel's refunds view shares; mch_id is the app_id.
CREATE OR REPLACE VIEW sandbox_alipay.refunds AS
  SELECT 'alipay'::text AS channel, r.app_id AS mch_id, r.out_trade_no, r.out_request_no AS out_refund_no,
         r.refund_amount_fen::bigint AS amount, r.state, r.accepted_at, r.finished_at
    FROM sandbox_alipay.trade_refunds r;
`;

export type RefundState = 'succeeded' | 'failed';

export interface RefundRow {
  appId: string;
  outTradeNo: string;
  outRequestNo: string;
  refundAmountFen: number;
  state: RefundState;
  acceptedAt: Date;
  finishedAt: Date;
}

/** A trade as a refund sees it: the row, and how much of it is refunded already. */
export type RefundableTrade = TradeRow & { refundedFen: number };

const REFUND_COLUMNS = `app_id AS "appId", out_trade_no AS "outTradeNo", out_request_no AS "outRequestNo",
  refund_amount_fen AS "refundAmountFen", state, accepted_at AS "acceptedAt", finished_at AS "finishedAt"`;

/** The trade, locked until the transaction ends: every refund of it waits here for the one before. */
export async function lockTradeForRefund(
  q: Queryable,
  appId: string,
  ref: { outTradeNo: string | undefined; tradeNo: string | undefined },
): Promise<RefundableTrade | undefined> {
  const { rows } = await q.query<RefundableTrade>(
    `SELECT ${TRADE_COLUMNS}, refunded_fen AS "refundedFen" FROM sandbox_alipay.trades
      WHERE app_id = $1 AND ${ref.tradeNo === undefined ? 'out_trade_no' : 'trade_no'} = $2
      FOR UPDATE`,
    [appId, ref.tradeNo ?? ref.outTradeNo],
  );
  return rows[0];
}

export async function findRefund(q: Queryable, key: { appId: string; outTradeNo: string; outRequestNo: string }): Promise<RefundRow | undefined> {
  const { rows } = await q.query<RefundRow>(
    `SELECT ${REFUND_COLUMNS} FROM sandbox_alipay.trade_refunds WHERE app_id = $1 AND out_trade_no = $2 AND out_request_no = $3`,
    [key.appId, key.outTradeNo, key.outRequestNo],
  );
  return rows[0];
}

/** Records the refund's outcome; a failed refund resent replaces its row, a succeeded one never changes. */
export async function recordRefund(q: Queryable, r: RefundRow & { refundReason: string | null }): Promise<void> {
  const { rowCount } = await q.query(
    `INSERT INTO sandbox_alipay.trade_refunds
       (app_id, out_trade_no, out_request_no, refund_amount_fen, refund_reason, state, accepted_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (app_id, out_trade_no, out_request_no) DO UPDATE
       SET state = EXCLUDED.state, refund_reason = EXCLUDED.refund_reason, accepted_at = EXCLUDED.accepted_at,
           finished_at = EXCLUDED.finished_at
       WHERE sandbox_alipay.trade_refunds.state = 'failed'`,
    [r.appId, r.outTradeNo, r.outRequestNo, r.refundAmountFen, r.refundReason, r.state, r.acceptedAt, r.finishedAt],
  );
  if (rowCount !== 1) throw new Error(`refund ${r.appId}/${r.outTradeNo}/${r.outRequestNo} had already succeeded; it cannot be recorded again`);
}

/**
 * Moves the money of a succeeded refund: the trade's refunded total grows (the CHECK refuses an
 * over-refund outright), a full refund closes the trade, and the notification, if any, is enqueued
 * to the payment's notify_url — one statement, inside the caller's transaction.
 */
export async function applyRefundToTrade(
  q: Queryable,
  trade: { appId: string; outTradeNo: string },
  o: { refundedFen: number; closedAt: Date | null },
  n: NewNotification | undefined,
): Promise<void> {
  const at = tradeParam;
  const updated = await updateTradeAndEnqueueNotification(
    q,
    `UPDATE sandbox_alipay.trades
        SET refunded_fen = ${at(3)},
            status = CASE WHEN ${at(4)}::timestamptz IS NULL THEN status ELSE 'TRADE_CLOSED' END,
            closed_at = coalesce(${at(4)}::timestamptz, closed_at)
      WHERE app_id = ${at(1)} AND out_trade_no = ${at(2)} AND status = 'TRADE_SUCCESS'`,
    [trade.appId, trade.outTradeNo, o.refundedFen, o.closedAt],
    n,
    'refund',
  );
  if (updated !== 1) throw new Error(`trade ${trade.appId}/${trade.outTradeNo} is locked and refundable, yet the refund did not apply`);
}

// ---------------------------------------------------------------------------------------------
// A day's bill

/** A bill of one app and day lists at most this many transactions; far above any test. */
const BILL_LINES_MAX = 100_000;

/** One transaction of the bill as the ledger has it; a payment has no outRequestNo. */
export interface BillRow {
  outTradeNo: string;
  tradeNo: string;
  subject: string;
  buyerLogonId: string;
  createdAt: Date;
  outRequestNo: string | null;
  amountFen: number;
  /** Paid, or the refund accepted. */
  at: Date;
}

/** The app's paid trades (by paid time) and succeeded refunds (by accepted time) in [from, to). */
export async function listBillRows(q: Queryable, appId: string, from: Date, to: Date): Promise<BillRow[]> {
  const { rows } = await q.query<BillRow>(
    `SELECT t.out_trade_no AS "outTradeNo", t.trade_no AS "tradeNo", t.subject, t.buyer_logon_id AS "buyerLogonId",
            t.created_at AS "createdAt", NULL AS "outRequestNo", t.total_amount_fen AS "amountFen", t.paid_at AS at
       FROM sandbox_alipay.trades t
      WHERE t.app_id = $1 AND t.paid_at >= $2 AND t.paid_at < $3
     UNION ALL
     SELECT t.out_trade_no, t.trade_no, t.subject, t.buyer_logon_id, t.created_at, r.out_request_no, r.refund_amount_fen,
            r.accepted_at
       FROM sandbox_alipay.trade_refunds r JOIN sandbox_alipay.trades t USING (app_id, out_trade_no)
      WHERE r.app_id = $1 AND r.state = 'succeeded' AND r.accepted_at >= $2 AND r.accepted_at < $3
      ORDER BY at, "outTradeNo"
      LIMIT ${BILL_LINES_MAX}`,
    [appId, from, to],
  );
  return rows;
}
