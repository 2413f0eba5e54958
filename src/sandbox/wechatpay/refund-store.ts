// The SQL of the WeChat Pay sandbox's refunds and daily bills (channels.md §1.8, §1.9;
// docs/refunds-and-bills.md). The refund ledger sits beside the trades in sandbox_wechatpay.
import {
  NOTIFICATION_PARAMS,
  insertNotificationSql,
  notificationParams,
  type NewNotification,
} from '../notification-store.ts';
import { WECHATPAY_SCHEMA, type Queryable } from './store.ts';

/** Idempotent; runs after WECHATPAY_MIGRATION_SQL (it refers to the trades). */
export const REFUNDS_MIGRATION_SQL = `
-- A refund's fate is decided when the bank accepts it: outcome is the status it ends in, and
-- finishes_at when (PROCESSING until then). One row per refund, no later update: its notification
-- waits as a row for finishes_at, so a restarted sandbox finishes refunds without timers of its own.
CREATE TABLE IF NOT EXISTS sandbox_wechatpay.trade_refunds (
  mch_id         text NOT NULL,
  -- The merchant's idempotency key: one refund per (mch_id, out_refund_no), whatever is resent.
  out_refund_no  text NOT NULL,
  out_trade_no   text NOT NULL,
  refund_id      text NOT NULL UNIQUE,
  transaction_id text NOT NULL,
  reason         text,
  notify_url     text NOT NULL,
  -- Fen, like the trade's amount_total (copied here as the request stated it).
  amount_refund  integer NOT NULL CHECK (amount_refund > 0),
  amount_total   integer NOT NULL CHECK (amount_total > 0),
  outcome        text NOT NULL CHECK (outcome IN ('SUCCESS', 'CLOSED')),
  accepted_at    timestamptz NOT NULL,
  finishes_at    timestamptz NOT NULL CHECK (finishes_at >= accepted_at),
  PRIMARY KEY (mch_id, out_refund_no),
  FOREIGN KEY (mch_id, out_trade_no) REFERENCES sandbox_wechatpay.trades
);
CREATE INDEX IF NOT EXISTS trade_refunds_trade ON sandbox_wechatpay.trade_refunds (mch_id, out_trade_no);
-- The control API (GET /sandbox/refunds) filters by out_trade_no without the merchant.
CREATE INDEX IF NOT EXISTS trade_refunds_out_trade_no ON sandbox_wechatpay.trade_refunds (out_trade_no);
-- A day's bill: payments by paid time, refunds by accepted time, per merchant.
CREATE INDEX IF NOT EXISTS trade_refunds_accepted_at ON sandbox_wechatpay.trade_refunds (mch_id, accepted_at);
CREATE INDEX IF NOT EXISTS trades_paid_at ON sandbox_wechatpay.trades (mch_id, paid_at) WHERE state = 'SUCCESS';

-- Every refund the bank holds, in the channel-neutral words shared by every channel's refunds view.
CREATE OR REPLACE VIEW sandbox_wechatpay.refunds AS
  SELECT 'wechatpay'::text AS channel, mch_id, out_trade_no, out_refund_no, amount_refund::bigint AS amount,
         CASE WHEN finishes_at > now() THEN 'processing' WHEN outcome = 'SUCCESS' THEN 'succeeded' ELSE 'failed' END AS state,
         accepted_at, CASE WHEN finishes_at <= now() THEN finishes_at END AS finished_at
    FROM sandbox_wechatpay.trade_refunds;
`;

export type RefundOutcome = 'SUCCESS' | 'CLOSED';

export interface RefundRow {
  mchId: string;
  outRefundNo: string;
  outTradeNo: string;
  refundId: string;
  transactionId: string;
  reason: string | null;
  notifyUrl: string;
  amountRefund: number;
  amountTotal: number;
  outcome: RefundOutcome;
  acceptedAt: Date;
  finishesAt: Date;
}

const REFUND_COLUMNS = `r.mch_id AS "mchId", r.out_refund_no AS "outRefundNo", r.out_trade_no AS "outTradeNo",
  r.refund_id AS "refundId", r.transaction_id AS "transactionId", r.reason, r.notify_url AS "notifyUrl",
  r.amount_refund AS "amountRefund", r.amount_total AS "amountTotal", r.outcome, r.accepted_at AS "acceptedAt",
  r.finishes_at AS "finishesAt"`;

export async function findRefund(q: Queryable, mchId: string, outRefundNo: string): Promise<RefundRow | undefined> {
  const { rows } = await q.query<RefundRow>(
    `SELECT ${REFUND_COLUMNS} FROM sandbox_wechatpay.trade_refunds r WHERE r.mch_id = $1 AND r.out_refund_no = $2`,
    [mchId, outRefundNo],
  );
  return rows[0];
}

/**
 * Fen of the trade refunded or being refunded at `now`: every refund but those already closed.
 * Read under the trade's row lock, it is what a new refund must fit beside.
 */
export async function refundedAmount(q: Queryable, mchId: string, outTradeNo: string, now: Date): Promise<number> {
  const { rows } = await q.query<{ amount: number }>(
    `SELECT coalesce(sum(amount_refund), 0)::integer AS amount FROM sandbox_wechatpay.trade_refunds
      WHERE mch_id = $1 AND out_trade_no = $2 AND (outcome = 'SUCCESS' OR finishes_at > $3)`,
    [mchId, outTradeNo, now],
  );
  return rows[0]?.amount ?? 0;
}

/**
 * Records the refund and its notification (due at finishes_at) in one statement. False when the
 * out_refund_no was taken meanwhile (by a concurrent refund of another trade).
 */
export async function insertRefundAndEnqueueNotification(q: Queryable, r: RefundRow, n: NewNotification): Promise<boolean> {
  const at = (i: number) => `$${NOTIFICATION_PARAMS + i}`;
  const { rowCount } = await q.query(
    `WITH accepted AS (
       INSERT INTO sandbox_wechatpay.trade_refunds
         (mch_id, out_refund_no, out_trade_no, refund_id, transaction_id, reason, notify_url, amount_refund,
          amount_total, outcome, accepted_at, finishes_at)
       VALUES (${at(1)}, ${at(2)}, ${at(3)}, ${at(4)}, ${at(5)}, ${at(6)}, ${at(7)}, ${at(8)}, ${at(9)}, ${at(10)}, ${at(11)}, ${at(12)})
       ON CONFLICT (mch_id, out_refund_no) DO NOTHING
       RETURNING mch_id, out_trade_no, notify_url
     )
     ${insertNotificationSql(WECHATPAY_SCHEMA, 'accepted', 'refund')}`,
    [
      ...notificationParams(n),
      r.mchId, r.outRefundNo, r.outTradeNo, r.refundId, r.transactionId, r.reason, r.notifyUrl, r.amountRefund,
      r.amountTotal, r.outcome, r.acceptedAt, r.finishesAt,
    ],
  );
  return rowCount === 1;
}

// ---------------------------------------------------------------------------------------------
// A day's bill

/** What a bill line shows of the paid trade besides its numbers. */
export interface TradeDetails {
  appId: string;
  payerOpenid: string | null;
  description: string;
  attach: string | null;
}

export interface BillPayment extends TradeDetails {
  outTradeNo: string;
  transactionId: string;
  amountTotal: number;
  paidAt: Date;
}

export type BillRefund = RefundRow & TradeDetails;

const DETAIL_COLUMNS = `t.app_id AS "appId", t.payer_openid AS "payerOpenid", t.description, t.attach`;

/** Payments of the merchant paid in [from, to), oldest first; at most `limit`. */
export async function listPaymentsPaidBetween(
  q: Queryable,
  mchId: string,
  day: { from: Date; to: Date; limit: number },
): Promise<BillPayment[]> {
  const { rows } = await q.query<BillPayment>(
    `SELECT ${DETAIL_COLUMNS}, t.out_trade_no AS "outTradeNo", t.transaction_id AS "transactionId", t.amount_total AS "amountTotal", t.paid_at AS "paidAt"
       FROM sandbox_wechatpay.trades t
      WHERE t.mch_id = $1 AND t.state = 'SUCCESS' AND t.paid_at >= $2 AND t.paid_at < $3
      ORDER BY t.paid_at, t.out_trade_no
      LIMIT $4`,
    [mchId, day.from, day.to, day.limit],
  );
  return rows;
}

/** Refunds of the merchant accepted in [from, to), oldest first; at most `limit`. */
export async function listRefundsAcceptedBetween(
  q: Queryable,
  mchId: string,
  day: { from: Date; to: Date; limit: number },
): Promise<BillRefund[]> {
  const { rows } = await q.query<BillRefund>(
    `SELECT ${REFUND_COLUMNS}, ${DETAIL_COLUMNS}
       FROM sandbox_wechatpay.trade_refunds r JOIN sandbox_wechatpay.trades t USING (mch_id, out_trade_no)
      WHERE r.mch_id = $1 AND r.accepted_at >= $2 AND r.accepted_at < $3
      ORDER BY r.accepted_at, r.out_refund_no
      LIMIT $4`,
    [mchId, day.from, day.to, day.limit],
  );
  return rows;
}
