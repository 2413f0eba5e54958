// Every SQL statement of the Alipay sandbox ledger (schema sandbox_alipay). Like WeChat's, the
// ledger is the bank's truth and outlives every Paycenter process.
//
// One row per out_trade_no an app has asked for (precreate or page.pay). Alipay only creates the
// trade when the buyer scans the QR code or opens the cashier (channels.md §2.6), so until then
// the row's status is NULL and the API answers ACQ.TRADE_NOT_EXIST. Expiry closes a trade without
// a write: a WAIT_BUYER_PAY trade past time_expire reads as TRADE_CLOSED (statusAt, STATUS_NOW).
import {
  NOTIFICATION_PARAMS,
  insertNotificationSql,
  notificationCountsSql,
  notificationParams,
  notificationsTableSql,
  type NewNotification,
  type NotificationKind,
  type Queryable,
} from '../notification-store.ts';
import type { LedgerEntry } from '../channel.ts';

export type { Queryable };

export const ALIPAY_SCHEMA = 'sandbox_alipay';

export type TradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED';
export type TradeMethod = 'alipay.trade.precreate' | 'alipay.trade.page.pay';

/** The status a trade has now, in SQL (for the ledger view and listing); statusAt() is the same rule in code. */
const STATUS_NOW = `CASE WHEN t.status = 'WAIT_BUYER_PAY' AND t.time_expire <= now() THEN 'TRADE_CLOSED' ELSE t.status END`;

/** Idempotent; run by migrateSandbox inside its transaction. */
export const ALIPAY_MIGRATION_SQL = `
CREATE SCHEMA IF NOT EXISTS sandbox_alipay;

-- The bank's own signing key (public-key mode: merchants verify with it). One row, made on first use.
CREATE TABLE IF NOT EXISTS sandbox_alipay.alipay_key (
  singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  private_key_pem text NOT NULL,
  public_key_pem  text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sandbox_alipay.apps (
  app_id             text PRIMARY KEY,
  -- The merchant's Alipay user id (2088…), notified as seller_id.
  seller_id          text NOT NULL,
  app_public_key_pem text NOT NULL,
  registered_at      timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sandbox_alipay.trades (
  app_id              text NOT NULL REFERENCES sandbox_alipay.apps,
  out_trade_no        text NOT NULL,
  method              text NOT NULL CHECK (method IN ('alipay.trade.precreate', 'alipay.trade.page.pay')),
  seller_id           text NOT NULL,
  subject             text NOT NULL,
  body                text,
  total_amount_fen    integer NOT NULL CHECK (total_amount_fen > 0),
  -- Optional at Alipay: without one, nobody is notified.
  notify_url          text,
  return_url          text,
  -- From time_expire or timeout_express, or the default: the last moment the buyer may pay.
  time_expire         timestamptz NOT NULL,
  -- sha256 of method, notify_url and biz_content: the same out_trade_no again must be identical.
  request_fingerprint text NOT NULL,
  qr_code             text,
  requested_at        timestamptz NOT NULL,
  -- NULL until the buyer scans or opens the cashier: Alipay holds no trade before that.
  status              text CHECK (status IN ('WAIT_BUYER_PAY', 'TRADE_SUCCESS', 'TRADE_CLOSED')),
  trade_no            text UNIQUE,
  buyer_id            text,
  buyer_logon_id      text,
  -- gmt_create: when the trade came to exist (the scan).
  created_at          timestamptz,
  paid_at             timestamptz,
  -- Set by alipay.trade.close only; expiry closes without a write.
  closed_at           timestamptz,
  PRIMARY KEY (app_id, out_trade_no),
  CHECK ((status IS NULL) = (trade_no IS NULL) AND (status IS NULL) = (created_at IS NULL))
);
-- The control API (POST /sandbox/pay, GET /sandbox/ledger) finds trades without knowing the app.
CREATE INDEX IF NOT EXISTS trades_out_trade_no ON sandbox_alipay.trades (out_trade_no);
CREATE INDEX IF NOT EXISTS trades_requested_at ON sandbox_alipay.trades (requested_at);
${notificationsTableSql(ALIPAY_SCHEMA)}
-- Every trade the bank holds (a QR code nobody scanned is none), in the words every channel's ledger
-- view shares; mch_id is the app_id.
CREATE OR REPLACE VIEW sandbox_alipay.ledger AS
  SELECT 'alipay'::text AS channel, t.app_id AS mch_id, t.out_trade_no, t.trade_no AS transaction_id,
         CASE ${STATUS_NOW} WHEN 'TRADE_SUCCESS' THEN 'paid' WHEN 'WAIT_BUYER_PAY' THEN 'not_paid' ELSE 'closed' END AS state,
         t.total_amount_fen AS amount, 'CNY'::text AS currency
    FROM sandbox_alipay.trades t
   WHERE t.status IS NOT NULL;
`;

// ---------------------------------------------------------------------------------------------
// The bank's key

export interface AlipayKeyRow {
  privateKeyPem: string;
  publicKeyPem: string;
}

export async function findAlipayKey(q: Queryable): Promise<AlipayKeyRow | undefined> {
  const { rows } = await q.query<AlipayKeyRow>(
    `SELECT private_key_pem AS "privateKeyPem", public_key_pem AS "publicKeyPem" FROM sandbox_alipay.alipay_key`,
  );
  return rows[0];
}

/** First writer wins; a process that lost the race reads the winner's key afterwards. */
export async function insertAlipayKeyIfAbsent(q: Queryable, key: AlipayKeyRow): Promise<void> {
  await q.query(
    `INSERT INTO sandbox_alipay.alipay_key (private_key_pem, public_key_pem) VALUES ($1, $2)
     ON CONFLICT (singleton) DO NOTHING`,
    [key.privateKeyPem, key.publicKeyPem],
  );
}

// ---------------------------------------------------------------------------------------------
// Apps

export interface AppRow {
  appId: string;
  sellerId: string;
  appPublicKeyPem: string;
  registeredAt: Date;
}

const APP_COLUMNS = `app_id AS "appId", seller_id AS "sellerId", app_public_key_pem AS "appPublicKeyPem",
  registered_at AS "registeredAt"`;

/**
 * Registers the app or replaces its key (a merchant rotating it). A given sellerId replaces the
 * seller; without one a new app gets `newSellerId` and a known app keeps its own.
 */
export async function upsertApp(
  q: Queryable,
  a: { appId: string; appPublicKeyPem: string; sellerId: string | undefined; newSellerId: string },
  now: Date,
): Promise<AppRow> {
  const { rows } = await q.query<AppRow>(
    `INSERT INTO sandbox_alipay.apps (app_id, seller_id, app_public_key_pem, registered_at, updated_at)
     VALUES ($1, coalesce($2, $3), $4, $5, $5)
     ON CONFLICT (app_id) DO UPDATE SET
       seller_id = coalesce($2, sandbox_alipay.apps.seller_id),
       app_public_key_pem = EXCLUDED.app_public_key_pem,
       updated_at = EXCLUDED.updated_at
     RETURNING ${APP_COLUMNS}`,
    [a.appId, a.sellerId ?? null, a.newSellerId, a.appPublicKeyPem, now],
  );
  const row = rows[0];
  if (!row) throw new Error(`upserting app ${a.appId} returned no row`);
  return row;
}

export async function findApp(q: Queryable, appId: string): Promise<AppRow | undefined> {
  const { rows } = await q.query<AppRow>(`SELECT ${APP_COLUMNS} FROM sandbox_alipay.apps WHERE app_id = $1`, [appId]);
  return rows[0];
}

export async function listApps(q: Queryable): Promise<AppRow[]> {
  const { rows } = await q.query<AppRow>(`SELECT ${APP_COLUMNS} FROM sandbox_alipay.apps ORDER BY app_id`);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Trades

export interface TradeRow {
  appId: string;
  outTradeNo: string;
  method: TradeMethod;
  sellerId: string;
  subject: string;
  body: string | null;
  totalAmountFen: number;
  notifyUrl: string | null;
  returnUrl: string | null;
  timeExpire: Date;
  requestFingerprint: string;
  qrCode: string | null;
  requestedAt: Date;
  /** As stored; statusAt() says what it is now. */
  status: TradeStatus | null;
  tradeNo: string | null;
  buyerId: string | null;
  buyerLogonId: string | null;
  createdAt: Date | null;
  paidAt: Date | null;
  closedAt: Date | null;
}

/** A trade as the payment leaves it: opened (by now at the latest) and paid. */
export type PaidTrade = TradeRow & { tradeNo: string; buyerId: string; buyerLogonId: string; createdAt: Date; paidAt: Date };

export type NewTrade = Omit<TradeRow, 'status' | 'tradeNo' | 'buyerId' | 'buyerLogonId' | 'createdAt' | 'paidAt' | 'closedAt'>;

/** The trade's status at `now`: NULL (no trade yet), or the stored one with expiry applied. */
export function statusAt(trade: TradeRow, now: Date): TradeStatus | null {
  if (trade.status === 'WAIT_BUYER_PAY' && trade.timeExpire.getTime() <= now.getTime()) return 'TRADE_CLOSED';
  return trade.status;
}

export const TRADE_COLUMNS = `app_id AS "appId", out_trade_no AS "outTradeNo", method, seller_id AS "sellerId", subject, body,
  total_amount_fen AS "totalAmountFen", notify_url AS "notifyUrl", return_url AS "returnUrl", time_expire AS "timeExpire",
  request_fingerprint AS "requestFingerprint", qr_code AS "qrCode", requested_at AS "requestedAt", status,
  trade_no AS "tradeNo", buyer_id AS "buyerId", buyer_logon_id AS "buyerLogonId", created_at AS "createdAt",
  paid_at AS "paidAt", closed_at AS "closedAt"`;

/** Records the request, or returns the row that already holds (app_id, out_trade_no) for the caller to compare. */
export async function insertTradeOrFindExisting(q: Queryable, t: NewTrade): Promise<{ created: boolean; trade: TradeRow }> {
  const { rows } = await q.query<TradeRow>(
    `INSERT INTO sandbox_alipay.trades
       (app_id, out_trade_no, method, seller_id, subject, body, total_amount_fen, notify_url, return_url, time_expire,
        request_fingerprint, qr_code, requested_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (app_id, out_trade_no) DO NOTHING
     RETURNING ${TRADE_COLUMNS}`,
    [
      t.appId, t.outTradeNo, t.method, t.sellerId, t.subject, t.body, t.totalAmountFen, t.notifyUrl, t.returnUrl,
      t.timeExpire, t.requestFingerprint, t.qrCode, t.requestedAt,
    ],
  );
  if (rows[0]) return { created: true, trade: rows[0] };
  const existing = await findTrade(q, t.appId, { outTradeNo: t.outTradeNo });
  if (!existing) throw new Error(`trade ${t.appId}/${t.outTradeNo} conflicted on insert but cannot be read`);
  return { created: false, trade: existing };
}

/** By trade_no when given (it wins, §2.7), else by out_trade_no; always within the app. */
export async function findTrade(
  q: Queryable,
  appId: string,
  ref: { outTradeNo?: string | undefined; tradeNo?: string | undefined },
): Promise<TradeRow | undefined> {
  const { rows } = await q.query<TradeRow>(
    ref.tradeNo === undefined
      ? `SELECT ${TRADE_COLUMNS} FROM sandbox_alipay.trades WHERE app_id = $1 AND out_trade_no = $2`
      : `SELECT ${TRADE_COLUMNS} FROM sandbox_alipay.trades WHERE app_id = $1 AND trade_no = $2`,
    [appId, ref.tradeNo ?? ref.outTradeNo],
  );
  return rows[0];
}

/** Every app's row with this out_trade_no (normally one), optionally narrowed to one app. */
export async function findTradesByOutTradeNo(q: Queryable, outTradeNo: string, appId: string | undefined): Promise<TradeRow[]> {
  const { rows } = await q.query<TradeRow>(
    `SELECT ${TRADE_COLUMNS} FROM sandbox_alipay.trades WHERE out_trade_no = $1 AND ($2::text IS NULL OR app_id = $2)`,
    [outTradeNo, appId ?? null],
  );
  return rows;
}

/** The buyer scans the QR code or opens the cashier: the trade comes to exist. Undefined when it already did, or expired. */
export async function openTrade(
  q: Queryable,
  key: { appId: string; outTradeNo: string },
  o: { tradeNo: string; buyerId: string; buyerLogonId: string; now: Date },
): Promise<TradeRow | undefined> {
  const { rows } = await q.query<TradeRow>(
    `UPDATE sandbox_alipay.trades
        SET status = 'WAIT_BUYER_PAY', trade_no = $3, buyer_id = $4, buyer_logon_id = $5, created_at = $6
      WHERE app_id = $1 AND out_trade_no = $2 AND status IS NULL AND time_expire > $6
      RETURNING ${TRADE_COLUMNS}`,
    [key.appId, key.outTradeNo, o.tradeNo, o.buyerId, o.buyerLogonId, o.now],
  );
  return rows[0];
}

/**
 * The buyer pays — opening the trade first if nobody had — and, when the trade has a notify_url
 * and `n` is given, the notification is enqueued: all in one statement. `expectedStatus` guards
 * against a change since the caller read the row it built the notification from; false when
 * anything changed or the trade expired.
 */
export async function markTradePaidAndEnqueueNotification(
  q: Queryable,
  paid: PaidTrade,
  expectedStatus: TradeStatus | null,
  n: NewNotification | undefined,
): Promise<boolean> {
  const at = tradeParam;
  const updated = await updateTradeAndEnqueueNotification(
    q,
    `UPDATE sandbox_alipay.trades
        SET status = 'TRADE_SUCCESS', trade_no = ${at(3)}, buyer_id = ${at(4)}, buyer_logon_id = ${at(5)},
            created_at = ${at(6)}, paid_at = ${at(7)}
      WHERE app_id = ${at(1)} AND out_trade_no = ${at(2)} AND status IS NOT DISTINCT FROM ${at(8)}
        AND time_expire > ${at(7)}`,
    [paid.appId, paid.outTradeNo, paid.tradeNo, paid.buyerId, paid.buyerLogonId, paid.createdAt, paid.paidAt, expectedStatus],
    n,
    'payment',
  );
  return updated === 1;
}

/** The placeholder of an updateTradeAndEnqueueNotification statement's own parameter i (from 1): the notification's come first. */
export const tradeParam = (i: number): string => `$${NOTIFICATION_PARAMS + i}`;

/**
 * Runs `update` (an UPDATE of sandbox_alipay.trades without RETURNING, its parameters written
 * with tradeParam) and, for the updated trade with a notify_url, enqueues `n` (of `kind`) when
 * given — in one statement, so the change and its notification commit together. Returns how many
 * trades changed.
 */
export async function updateTradeAndEnqueueNotification(
  q: Queryable,
  update: string,
  params: unknown[],
  n: NewNotification | undefined,
  kind: NotificationKind,
): Promise<number> {
  const { rows } = await q.query<{ updated: number }>(
    `WITH updated AS (
       ${update}
       RETURNING app_id AS mch_id, out_trade_no, notify_url
     ), notified AS (
       SELECT * FROM updated WHERE notify_url IS NOT NULL AND $1::text IS NOT NULL
     ), enqueued AS (
       ${insertNotificationSql(ALIPAY_SCHEMA, 'notified', kind)}
     )
     SELECT count(*)::int AS updated FROM updated`,
    [...(n ? notificationParams(n) : Array<null>(NOTIFICATION_PARAMS).fill(null)), ...params],
  );
  return rows[0]?.updated ?? 0;
}

/** alipay.trade.close: only an open (WAIT_BUYER_PAY, unexpired) trade closes; undefined otherwise. */
export async function closeOpenTrade(
  q: Queryable,
  appId: string,
  ref: { outTradeNo?: string | undefined; tradeNo?: string | undefined },
  now: Date,
): Promise<TradeRow | undefined> {
  const { rows } = await q.query<TradeRow>(
    `UPDATE sandbox_alipay.trades SET status = 'TRADE_CLOSED', closed_at = $3
      WHERE app_id = $1 AND ${ref.tradeNo === undefined ? 'out_trade_no' : 'trade_no'} = $2
        AND status = 'WAIT_BUYER_PAY' AND time_expire > $3
      RETURNING ${TRADE_COLUMNS}`,
    [appId, ref.tradeNo ?? ref.outTradeNo, now],
  );
  return rows[0];
}

// ---------------------------------------------------------------------------------------------
// Ledger

/** mchId is the app_id; closedAt is the close, or the moment an unpaid trade expired. */
export type LedgerRow = LedgerEntry<TradeStatus>;

export async function listLedger(q: Queryable, filter: { outTradeNo: string | undefined; limit: number }): Promise<LedgerRow[]> {
  const { rows } = await q.query<LedgerRow>(
    `SELECT t.app_id AS "mchId", t.out_trade_no AS "outTradeNo", t.trade_no AS "transactionId", ${STATUS_NOW} AS "channelState",
            t.total_amount_fen AS amount, 'CNY' AS currency, t.created_at AS "createdAt", t.paid_at AS "paidAt",
            coalesce(t.closed_at, CASE WHEN t.status = 'WAIT_BUYER_PAY' AND t.time_expire <= now() THEN t.time_expire END)
              AS "closedAt",
            t.time_expire AS "timeExpire", counts.*
       FROM sandbox_alipay.trades t
       ${notificationCountsSql(ALIPAY_SCHEMA, 't', 'app_id')}
      WHERE t.status IS NOT NULL AND ($1::text IS NULL OR t.out_trade_no = $1)
      ORDER BY t.created_at, t.app_id, t.out_trade_no
      LIMIT $2`,
    [filter.outTradeNo ?? null, filter.limit],
  );
  return rows;
}
