// Every SQL statement of the UnionPay sandbox ledger (schema sandbox_unionpay, created by
// migration.ts) except the notification queue's. The ledger is the bank's truth: it outlives
// Paycenter processes, so a test can kill Paycenter and still ask what was really paid.
import {
  NOTIFICATION_PARAMS as P,
  insertNotificationSql,
  notificationCountsSql,
  notificationParams,
  type NewNotification,
  type Queryable,
} from '../notification-store.ts';
import type { Authority } from './certificates.ts';
import { UNIONPAY_SCHEMA } from './migration.ts';

export type { Queryable };

// ---------------------------------------------------------------------------------------------
// Authority

const AUTHORITY_COLUMNS = `root_cert_pem AS "rootCertPem", middle_cert_pem AS "middleCertPem",
  middle_private_key_pem AS "middlePrivateKeyPem", sign_cert_pem AS "signCertPem", sign_private_key_pem AS "signPrivateKeyPem"`;

/** First writer wins and every caller gets the winner's row, so concurrent first uses agree on one chain. */
export async function insertAuthorityIfAbsent(q: Queryable, a: Authority): Promise<Authority> {
  await q.query(
    `INSERT INTO sandbox_unionpay.authority
       (root_cert_pem, middle_cert_pem, middle_private_key_pem, sign_cert_pem, sign_private_key_pem)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (singleton) DO NOTHING`,
    [a.rootCertPem, a.middleCertPem, a.middlePrivateKeyPem, a.signCertPem, a.signPrivateKeyPem],
  );
  const stored = await findAuthority(q);
  if (!stored) throw new Error('sandbox_unionpay.authority is empty right after inserting it');
  return stored;
}

export async function findAuthority(q: Queryable): Promise<Authority | undefined> {
  const { rows } = await q.query<Authority>(`SELECT ${AUTHORITY_COLUMNS} FROM sandbox_unionpay.authority`);
  return rows[0];
}

// ---------------------------------------------------------------------------------------------
// Merchants

export interface MerchantRow {
  merId: string;
  certId: string;
  certPem: string;
  registeredAt: Date;
}

const MERCHANT_COLUMNS = `mer_id AS "merId", cert_id AS "certId", cert_pem AS "certPem", registered_at AS "registeredAt"`;

/** Re-registering a merId replaces its certificate: requests signed under the old certId stop verifying. */
export async function upsertMerchant(q: Queryable, m: Omit<MerchantRow, 'registeredAt'>, now: Date): Promise<void> {
  await q.query(
    `INSERT INTO sandbox_unionpay.merchants (mer_id, cert_id, cert_pem, registered_at, updated_at)
     VALUES ($1, $2, $3, $4, $4)
     ON CONFLICT (mer_id) DO UPDATE SET
       cert_id = EXCLUDED.cert_id, cert_pem = EXCLUDED.cert_pem, updated_at = EXCLUDED.updated_at`,
    [m.merId, m.certId, m.certPem, now],
  );
}

export async function findMerchantByCertId(q: Queryable, certId: string): Promise<MerchantRow | undefined> {
  const { rows } = await q.query<MerchantRow>(
    `SELECT ${MERCHANT_COLUMNS} FROM sandbox_unionpay.merchants WHERE cert_id = $1`,
    [certId],
  );
  return rows[0];
}

export async function listMerchants(q: Queryable): Promise<MerchantRow[]> {
  const { rows } = await q.query<MerchantRow>(`SELECT ${MERCHANT_COLUMNS} FROM sandbox_unionpay.merchants ORDER BY mer_id`);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Trades

export type TradeState = 'UNPAID' | 'PAID';

/** What UnionPay assigns when the buyer pays; echoed identically by the notification and the query. */
export interface Settlement {
  queryId: string;
  traceNo: string;
  traceTime: string;
  settleDate: string;
  accNo: string;
  paidAt: Date;
}

export interface TradeRow {
  merId: string;
  orderId: string;
  /** As the merchant sent it: with orderId it names the transaction in a query. */
  txnTime: string;
  /** Fen. */
  txnAmt: number;
  currencyCode: string;
  channelType: string;
  backUrl: string;
  frontUrl: string | null;
  payTimeout: Date | null;
  reqReserved: string | null;
  requestFingerprint: string;
  state: TradeState;
  settlement: Settlement | null;
  createdAt: Date;
}

export type NewTrade = Omit<TradeRow, 'state' | 'settlement'>;

const TRADE_COLUMNS = `mer_id AS "merId", order_id AS "orderId", txn_time AS "txnTime", txn_amt AS "txnAmt",
  currency_code AS "currencyCode", channel_type AS "channelType", back_url AS "backUrl", front_url AS "frontUrl",
  pay_timeout AS "payTimeout", req_reserved AS "reqReserved", request_fingerprint AS "requestFingerprint", state,
  query_id AS "queryId", trace_no AS "traceNo", trace_time AS "traceTime", settle_date AS "settleDate",
  acc_no AS "accNo", paid_at AS "paidAt", created_at AS "createdAt"`;

type StoredTrade = Omit<TradeRow, 'settlement'> & { [K in keyof Settlement]: Settlement[K] | null };

function toTrade(row: StoredTrade): TradeRow {
  const { queryId, traceNo, traceTime, settleDate, accNo, paidAt, ...trade } = row;
  if (row.state === 'UNPAID') return { ...trade, settlement: null };
  if (!queryId || !traceNo || !traceTime || !settleDate || !accNo || !paidAt) {
    throw new Error(`paid trade ${row.merId}/${row.orderId} lacks part of its settlement`);
  }
  return { ...trade, settlement: { queryId, traceNo, traceTime, settleDate, accNo, paidAt } };
}

/**
 * Creates the trade, or returns the one that already holds (mer_id, order_id) so the caller can
 * compare fingerprints. One statement in the common case.
 */
export async function insertTradeOrFindExisting(q: Queryable, t: NewTrade): Promise<{ created: boolean; trade: TradeRow }> {
  const { rows } = await q.query<StoredTrade>(
    `INSERT INTO sandbox_unionpay.trades
       (mer_id, order_id, txn_time, txn_amt, currency_code, channel_type, back_url, front_url, pay_timeout,
        req_reserved, request_fingerprint, state, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'UNPAID', $12)
     ON CONFLICT (mer_id, order_id) DO NOTHING
     RETURNING ${TRADE_COLUMNS}`,
    [
      t.merId, t.orderId, t.txnTime, t.txnAmt, t.currencyCode, t.channelType, t.backUrl, t.frontUrl, t.payTimeout,
      t.reqReserved, t.requestFingerprint, t.createdAt,
    ],
  );
  if (rows[0]) return { created: true, trade: toTrade(rows[0]) };
  const existing = await findTrade(q, t.merId, t.orderId);
  if (!existing) throw new Error(`trade ${t.merId}/${t.orderId} conflicted on insert but cannot be read`);
  return { created: false, trade: existing };
}

export async function findTrade(q: Queryable, merId: string, orderId: string): Promise<TradeRow | undefined> {
  const { rows } = await q.query<StoredTrade>(
    `SELECT ${TRADE_COLUMNS} FROM sandbox_unionpay.trades WHERE mer_id = $1 AND order_id = $2`,
    [merId, orderId],
  );
  return rows[0] && toTrade(rows[0]);
}

/** All merchants' trades with this orderId (normally one), optionally narrowed to a merchant. */
export async function findTradesByOrderId(q: Queryable, orderId: string, merId: string | undefined): Promise<TradeRow[]> {
  const { rows } = await q.query<StoredTrade>(
    `SELECT ${TRADE_COLUMNS} FROM sandbox_unionpay.trades
      WHERE order_id = $1 AND ($2::text IS NULL OR mer_id = $2)`,
    [orderId, merId ?? null],
  );
  return rows.map(toTrade);
}

/**
 * The buyer pays: UNPAID → PAID and the backUrl notification row, in one statement (so one
 * transaction). False when the trade was no longer payable (paid, or past its payTimeout, meanwhile).
 */
export async function markTradePaidAndEnqueueNotification(
  q: Queryable,
  trade: { merId: string; orderId: string },
  s: Settlement,
  notification: NewNotification,
): Promise<boolean> {
  const { rowCount } = await q.query(
    `WITH paid AS (
       UPDATE sandbox_unionpay.trades
          SET state = 'PAID', query_id = $${P + 3}, trace_no = $${P + 4}, trace_time = $${P + 5},
              settle_date = $${P + 6}, acc_no = $${P + 7}, paid_at = $${P + 8}
        WHERE mer_id = $${P + 1} AND order_id = $${P + 2} AND state = 'UNPAID'
          AND (pay_timeout IS NULL OR pay_timeout > $${P + 8})
       RETURNING mer_id AS mch_id, order_id AS out_trade_no, back_url AS notify_url
     )
     ${insertNotificationSql(UNIONPAY_SCHEMA, 'paid')}`,
    [
      ...notificationParams(notification),
      trade.merId, trade.orderId, s.queryId, s.traceNo, s.traceTime, s.settleDate, s.accNo, s.paidAt,
    ],
  );
  return rowCount === 1;
}

// ---------------------------------------------------------------------------------------------
// Ledger

export interface LedgerRow {
  mchId: string;
  outTradeNo: string;
  transactionId: string | null;
  /** Normalized by the sandbox_unionpay.ledger view. */
  state: 'paid' | 'not_paid' | 'closed';
  amount: number;
  currency: string;
  createdAt: Date;
  paidAt: Date | null;
  payTimeout: Date | null;
  notificationsSent: number;
  notificationsAcknowledged: number;
  notificationsDropped: number;
}

/** The control API's ledger: the view's normalized rows, with the trade's times and notification counts. */
export async function listLedger(
  q: Queryable,
  filter: { outTradeNo: string | undefined; merId?: string; limit: number },
): Promise<LedgerRow[]> {
  const { rows } = await q.query<LedgerRow>(
    `SELECT l.mch_id AS "mchId", l.out_trade_no AS "outTradeNo", l.transaction_id AS "transactionId", l.state,
            l.amount, l.currency, t.created_at AS "createdAt", t.paid_at AS "paidAt", t.pay_timeout AS "payTimeout",
            counts.*
       FROM sandbox_unionpay.ledger l
       JOIN sandbox_unionpay.trades t ON t.mer_id = l.mch_id AND t.order_id = l.out_trade_no
       ${notificationCountsSql(UNIONPAY_SCHEMA, 'l')}
      WHERE ($1::text IS NULL OR l.out_trade_no = $1) AND ($3::text IS NULL OR l.mch_id = $3)
      ORDER BY t.created_at, l.mch_id, l.out_trade_no
      LIMIT $2`,
    [filter.outTradeNo ?? null, filter.limit, filter.merId ?? null],
  );
  return rows;
}
