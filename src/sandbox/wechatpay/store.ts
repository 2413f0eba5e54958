// Every SQL statement of the WeChat Pay sandbox ledger (schema sandbox_wechatpay). The ledger is
// the bank's truth: it outlives Paycenter processes, so a test can SIGKILL Paycenter and still
// ask what was really paid.
import {
  NOTIFICATION_PARAMS,
  insertNotificationSql,
  notificationCountsSql,
  notificationParams,
  notificationsTableSql,
  type NewNotification,
  type Queryable,
} from '../notification-store.ts';
import type { LedgerEntry } from '../channel.ts';

export type { Queryable };

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED';

export const WECHATPAY_SCHEMA = 'sandbox_wechatpay';

/** Idempotent; run by migrateSandbox inside its transaction. */
export const WECHATPAY_MIGRATION_SQL = `
CREATE SCHEMA IF NOT EXISTS sandbox_wechatpay;

-- The bank's own signing key ("WeChat Pay public key" mode). One row, generated on first use.
CREATE TABLE IF NOT EXISTS sandbox_wechatpay.platform_key (
  singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  key_id          text NOT NULL,
  private_key_pem text NOT NULL,
  public_key_pem  text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sandbox_wechatpay.merchants (
  mch_id                  text PRIMARY KEY,
  app_id                  text NOT NULL,
  merchant_public_key_pem text NOT NULL,
  merchant_cert_serial_no text NOT NULL,
  api_v3_key              text NOT NULL,
  registered_at           timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sandbox_wechatpay.trades (
  mch_id              text NOT NULL REFERENCES sandbox_wechatpay.merchants,
  out_trade_no        text NOT NULL,
  app_id              text NOT NULL,
  description         text NOT NULL,
  notify_url          text NOT NULL,
  attach              text,
  -- WeChat's amount.total is a 32-bit int of fen.
  amount_total        integer NOT NULL CHECK (amount_total > 0),
  currency            text NOT NULL,
  time_expire         timestamptz,
  -- sha256 of the canonical order request: a re-order must be identical to get the code_url again.
  request_fingerprint text NOT NULL,
  code_url            text NOT NULL,
  state               text NOT NULL CHECK (state IN ('NOTPAY', 'SUCCESS', 'CLOSED')),
  transaction_id      text UNIQUE,
  payer_openid        text,
  created_at          timestamptz NOT NULL,
  paid_at             timestamptz,
  closed_at           timestamptz,
  PRIMARY KEY (mch_id, out_trade_no)
);
-- The control API (POST /sandbox/pay, GET /sandbox/ledger) finds trades without knowing the merchant.
CREATE INDEX IF NOT EXISTS trades_out_trade_no ON sandbox_wechatpay.trades (out_trade_no);
CREATE INDEX IF NOT EXISTS trades_created_at ON sandbox_wechatpay.trades (created_at);

${notificationsTableSql(WECHATPAY_SCHEMA)}
-- Every trade the bank holds, in the channel-neutral words shared by every channel's ledger view.
CREATE OR REPLACE VIEW sandbox_wechatpay.ledger AS
  SELECT 'wechatpay'::text AS channel, mch_id, out_trade_no, transaction_id,
         CASE state WHEN 'SUCCESS' THEN 'paid' WHEN 'NOTPAY' THEN 'not_paid' WHEN 'CLOSED' THEN 'closed' END AS state,
         amount_total AS amount, currency
    FROM sandbox_wechatpay.trades;
`;

// ---------------------------------------------------------------------------------------------
// Platform key

export interface PlatformKeyRow {
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

export async function findPlatformKey(q: Queryable): Promise<PlatformKeyRow | undefined> {
  const { rows } = await q.query<PlatformKeyRow>(
    `SELECT key_id AS "keyId", private_key_pem AS "privateKeyPem", public_key_pem AS "publicKeyPem"
       FROM sandbox_wechatpay.platform_key`,
  );
  return rows[0];
}

/** First writer wins; a process that lost the race reads the winner's key afterwards. */
export async function insertPlatformKeyIfAbsent(q: Queryable, key: PlatformKeyRow): Promise<void> {
  await q.query(
    `INSERT INTO sandbox_wechatpay.platform_key (key_id, private_key_pem, public_key_pem)
     VALUES ($1, $2, $3) ON CONFLICT (singleton) DO NOTHING`,
    [key.keyId, key.privateKeyPem, key.publicKeyPem],
  );
}

// ---------------------------------------------------------------------------------------------
// Merchants

export interface MerchantRow {
  mchId: string;
  appId: string;
  merchantPublicKeyPem: string;
  merchantCertSerialNo: string;
  apiV3Key: string;
  registeredAt: Date;
}

const MERCHANT_COLUMNS = `mch_id AS "mchId", app_id AS "appId", merchant_public_key_pem AS "merchantPublicKeyPem",
  merchant_cert_serial_no AS "merchantCertSerialNo", api_v3_key AS "apiV3Key", registered_at AS "registeredAt"`;

/** Re-registering a mchId replaces its keys (a merchant rotating its certificate). */
export async function upsertMerchant(q: Queryable, m: Omit<MerchantRow, 'registeredAt'>, now: Date): Promise<void> {
  await q.query(
    `INSERT INTO sandbox_wechatpay.merchants
       (mch_id, app_id, merchant_public_key_pem, merchant_cert_serial_no, api_v3_key, registered_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (mch_id) DO UPDATE SET
       app_id = EXCLUDED.app_id,
       merchant_public_key_pem = EXCLUDED.merchant_public_key_pem,
       merchant_cert_serial_no = EXCLUDED.merchant_cert_serial_no,
       api_v3_key = EXCLUDED.api_v3_key,
       updated_at = EXCLUDED.updated_at`,
    [m.mchId, m.appId, m.merchantPublicKeyPem, m.merchantCertSerialNo, m.apiV3Key, now],
  );
}

export async function findMerchant(q: Queryable, mchId: string): Promise<MerchantRow | undefined> {
  const { rows } = await q.query<MerchantRow>(
    `SELECT ${MERCHANT_COLUMNS} FROM sandbox_wechatpay.merchants WHERE mch_id = $1`,
    [mchId],
  );
  return rows[0];
}

export async function listMerchants(q: Queryable): Promise<MerchantRow[]> {
  const { rows } = await q.query<MerchantRow>(
    `SELECT ${MERCHANT_COLUMNS} FROM sandbox_wechatpay.merchants ORDER BY mch_id`,
  );
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Trades

export interface TradeRow {
  mchId: string;
  outTradeNo: string;
  appId: string;
  description: string;
  notifyUrl: string;
  attach: string | null;
  amountTotal: number;
  currency: string;
  timeExpire: Date | null;
  requestFingerprint: string;
  codeUrl: string;
  state: TradeState;
  transactionId: string | null;
  payerOpenid: string | null;
  createdAt: Date;
  paidAt: Date | null;
  closedAt: Date | null;
}

export type NewTrade = Omit<TradeRow, 'state' | 'transactionId' | 'payerOpenid' | 'paidAt' | 'closedAt'>;

const TRADE_COLUMNS = `mch_id AS "mchId", out_trade_no AS "outTradeNo", app_id AS "appId", description,
  notify_url AS "notifyUrl", attach, amount_total AS "amountTotal", currency, time_expire AS "timeExpire",
  request_fingerprint AS "requestFingerprint", code_url AS "codeUrl", state, transaction_id AS "transactionId",
  payer_openid AS "payerOpenid", created_at AS "createdAt", paid_at AS "paidAt", closed_at AS "closedAt"`;

/**
 * Creates the trade, or returns the one that already holds (mch_id, out_trade_no) so the caller
 * can compare fingerprints. One statement in the common case.
 */
export async function insertTradeOrFindExisting(
  q: Queryable,
  t: NewTrade,
): Promise<{ created: boolean; trade: TradeRow }> {
  const { rows } = await q.query<TradeRow>(
    `INSERT INTO sandbox_wechatpay.trades
       (mch_id, out_trade_no, app_id, description, notify_url, attach, amount_total, currency, time_expire,
        request_fingerprint, code_url, state, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'NOTPAY', $12)
     ON CONFLICT (mch_id, out_trade_no) DO NOTHING
     RETURNING ${TRADE_COLUMNS}`,
    [
      t.mchId, t.outTradeNo, t.appId, t.description, t.notifyUrl, t.attach, t.amountTotal, t.currency,
      t.timeExpire, t.requestFingerprint, t.codeUrl, t.createdAt,
    ],
  );
  if (rows[0]) return { created: true, trade: rows[0] };
  const existing = await findTrade(q, t.mchId, t.outTradeNo);
  if (!existing) throw new Error(`trade ${t.mchId}/${t.outTradeNo} conflicted on insert but cannot be read`);
  return { created: false, trade: existing };
}

export async function findTrade(q: Queryable, mchId: string, outTradeNo: string): Promise<TradeRow | undefined> {
  const { rows } = await q.query<TradeRow>(
    `SELECT ${TRADE_COLUMNS} FROM sandbox_wechatpay.trades WHERE mch_id = $1 AND out_trade_no = $2`,
    [mchId, outTradeNo],
  );
  return rows[0];
}

/** The trade, row-locked until the transaction `tx` ends: refunds of one trade are decided one at a time. */
export async function lockTrade(tx: Queryable, mchId: string, outTradeNo: string): Promise<TradeRow | undefined> {
  const { rows } = await tx.query<TradeRow>(
    `SELECT ${TRADE_COLUMNS} FROM sandbox_wechatpay.trades WHERE mch_id = $1 AND out_trade_no = $2 FOR UPDATE`,
    [mchId, outTradeNo],
  );
  return rows[0];
}

/** All merchants' trades with this out_trade_no (normally one), optionally narrowed to a merchant. */
export async function findTradesByOutTradeNo(
  q: Queryable,
  outTradeNo: string,
  mchId: string | undefined,
): Promise<TradeRow[]> {
  const { rows } = await q.query<TradeRow>(
    `SELECT ${TRADE_COLUMNS} FROM sandbox_wechatpay.trades
      WHERE out_trade_no = $1 AND ($2::text IS NULL OR mch_id = $2)`,
    [outTradeNo, mchId ?? null],
  );
  return rows;
}

/** Closes an unpaid trade; false when it was not NOTPAY (the caller re-reads to say why). */
export async function closeUnpaidTrade(q: Queryable, mchId: string, outTradeNo: string, now: Date): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE sandbox_wechatpay.trades SET state = 'CLOSED', closed_at = $3
      WHERE mch_id = $1 AND out_trade_no = $2 AND state = 'NOTPAY'`,
    [mchId, outTradeNo, now],
  );
  return rowCount === 1;
}

/**
 * The buyer pays: NOTPAY → SUCCESS and the payment notification row, in one statement (so one
 * transaction). False when the trade was no longer payable (paid, closed or expired meanwhile).
 */
export async function markTradePaidAndEnqueueNotification(
  q: Queryable,
  p: { mchId: string; outTradeNo: string; transactionId: string; payerOpenid: string; paidAt: Date },
  n: NewNotification,
): Promise<boolean> {
  const at = (i: number) => `$${NOTIFICATION_PARAMS + i}`;
  const { rowCount } = await q.query(
    `WITH paid AS (
       UPDATE sandbox_wechatpay.trades
          SET state = 'SUCCESS', transaction_id = ${at(3)}, payer_openid = ${at(4)}, paid_at = ${at(5)}
        WHERE mch_id = ${at(1)} AND out_trade_no = ${at(2)} AND state = 'NOTPAY'
          AND (time_expire IS NULL OR time_expire > ${at(5)})
       RETURNING mch_id, out_trade_no, notify_url
     )
     ${insertNotificationSql(WECHATPAY_SCHEMA, 'paid')}`,
    [...notificationParams(n), p.mchId, p.outTradeNo, p.transactionId, p.payerOpenid, p.paidAt],
  );
  return rowCount === 1;
}

// ---------------------------------------------------------------------------------------------
// Ledger

export type LedgerRow = LedgerEntry<TradeState>;

export async function listLedger(
  q: Queryable,
  filter: { outTradeNo: string | undefined; limit: number },
): Promise<LedgerRow[]> {
  const { rows } = await q.query<LedgerRow>(
    `SELECT t.mch_id AS "mchId", t.out_trade_no AS "outTradeNo", t.transaction_id AS "transactionId",
            t.state AS "channelState", t.amount_total AS amount, t.currency, t.created_at AS "createdAt", t.paid_at AS "paidAt",
            t.closed_at AS "closedAt", t.time_expire AS "timeExpire", counts.*
       FROM sandbox_wechatpay.trades t
       ${notificationCountsSql(WECHATPAY_SCHEMA, 't')}
      WHERE $1::text IS NULL OR t.out_trade_no = $1
      ORDER BY t.created_at, t.mch_id, t.out_trade_no
      LIMIT $2`,
    [filter.outTradeNo ?? null, filter.limit],
  );
  return rows;
}
