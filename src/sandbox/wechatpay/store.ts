// Every SQL statement of the WeChat Pay sandbox ledger (schema sandbox_wechatpay). The ledger is
// the bank's truth: it outlives Paycenter processes, so a test can SIGKILL Paycenter and still
// ask what was really paid.
import type pg from 'pg';

export type Queryable = Pick<pg.Pool, 'query'>;

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED';
export type NotificationState = 'pending' | 'acknowledged' | 'dropped' | 'failed';

const MIGRATION = `
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

CREATE TABLE IF NOT EXISTS sandbox_wechatpay.notifications (
  id              text PRIMARY KEY,
  mch_id          text NOT NULL,
  out_trade_no    text NOT NULL,
  notify_url      text NOT NULL,
  -- The envelope is encrypted once, so every retry carries the same id and the same bytes.
  body            text NOT NULL,
  state           text NOT NULL CHECK (state IN ('pending', 'acknowledged', 'dropped', 'failed')),
  -- Attempts on the retry schedule; sends counts HTTP requests (a duplicated attempt sends two).
  attempts        integer NOT NULL DEFAULT 0,
  sends           integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  -- The sandbox process that may send this row until lease_until; others wait for the lease to lapse.
  lease_owner     text,
  lease_until     timestamptz,
  last_result     text,
  created_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  FOREIGN KEY (mch_id, out_trade_no) REFERENCES sandbox_wechatpay.trades
);
CREATE INDEX IF NOT EXISTS notifications_due
  ON sandbox_wechatpay.notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS notifications_trade ON sandbox_wechatpay.notifications (mch_id, out_trade_no);
`;

/** Idempotent; the advisory lock serializes processes that migrate at the same moment. */
export async function migrateWechatpayLedger(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('paycenter.sandbox.migrate'))`);
    await client.query(MIGRATION);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

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

export interface NewNotification {
  id: string;
  body: string;
  state: 'pending' | 'dropped';
  nextAttemptAt: Date;
  leaseOwner: string | null;
  leaseUntil: Date | null;
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
  const { rowCount } = await q.query(
    `WITH paid AS (
       UPDATE sandbox_wechatpay.trades
          SET state = 'SUCCESS', transaction_id = $3, payer_openid = $4, paid_at = $5
        WHERE mch_id = $1 AND out_trade_no = $2 AND state = 'NOTPAY'
          AND (time_expire IS NULL OR time_expire > $5)
       RETURNING mch_id, out_trade_no, notify_url
     )
     INSERT INTO sandbox_wechatpay.notifications
       (id, mch_id, out_trade_no, notify_url, body, state, next_attempt_at, lease_owner, lease_until,
        created_at, finished_at)
     SELECT $6, mch_id, out_trade_no, notify_url, $7, $8, $9, $10, $11, $5,
            CASE WHEN $8 = 'dropped' THEN $5::timestamptz END
       FROM paid`,
    [p.mchId, p.outTradeNo, p.transactionId, p.payerOpenid, p.paidAt, n.id, n.body, n.state, n.nextAttemptAt,
      n.leaseOwner, n.leaseUntil],
  );
  return rowCount === 1;
}

// ---------------------------------------------------------------------------------------------
// Notifications

export interface DueNotification {
  id: string;
  notifyUrl: string;
  body: string;
  attempts: number;
}

const DUE_COLUMNS = `id, notify_url AS "notifyUrl", body, attempts`;

/** Takes due, unleased rows for this process; SKIP LOCKED lets several sandboxes poll one database. */
export async function leaseDueNotifications(
  q: Queryable,
  owner: string,
  now: Date,
  leaseUntil: Date,
  limit: number,
): Promise<DueNotification[]> {
  const { rows } = await q.query<DueNotification>(
    `UPDATE sandbox_wechatpay.notifications SET lease_owner = $1, lease_until = $3
      WHERE id IN (
        SELECT id FROM sandbox_wechatpay.notifications
         WHERE state = 'pending' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
         ORDER BY next_attempt_at
         LIMIT $4
         FOR UPDATE SKIP LOCKED)
      RETURNING ${DUE_COLUMNS}`,
    [owner, now, leaseUntil, limit],
  );
  return rows;
}

/** Extends this process's lease on one row, or takes it over if the lease lapsed; undefined if lost. */
export async function renewNotificationLease(
  q: Queryable,
  id: string,
  owner: string,
  now: Date,
  leaseUntil: Date,
): Promise<DueNotification | undefined> {
  const { rows } = await q.query<DueNotification>(
    `UPDATE sandbox_wechatpay.notifications SET lease_owner = $2, lease_until = $4
      WHERE id = $1 AND state = 'pending' AND (lease_owner = $2 OR lease_until IS NULL OR lease_until <= $3)
      RETURNING ${DUE_COLUMNS}`,
    [id, owner, now, leaseUntil],
  );
  return rows[0];
}

/** Records an attempt that ends the notification's life (acknowledged, dropped, or schedule exhausted). */
export async function finishNotification(
  q: Queryable,
  id: string,
  owner: string,
  outcome: { state: Exclude<NotificationState, 'pending'>; attempted: boolean; sends: number; lastResult: string; now: Date },
): Promise<void> {
  await q.query(
    `UPDATE sandbox_wechatpay.notifications
        SET state = $3, attempts = attempts + $4, sends = sends + $5, last_result = $6, finished_at = $7,
            lease_owner = NULL, lease_until = NULL
      WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`,
    [id, owner, outcome.state, outcome.attempted ? 1 : 0, outcome.sends, outcome.lastResult, outcome.now],
  );
}

/** Records a failed attempt and the next one; leaseUntil null hands the row to any process's poller. */
export async function rescheduleNotification(
  q: Queryable,
  id: string,
  owner: string,
  r: { sends: number; lastResult: string; nextAttemptAt: Date; leaseUntil: Date | null },
): Promise<void> {
  await q.query(
    `UPDATE sandbox_wechatpay.notifications
        SET attempts = attempts + 1, sends = sends + $3, last_result = $4, next_attempt_at = $5,
            lease_owner = CASE WHEN $6::timestamptz IS NULL THEN NULL ELSE lease_owner END, lease_until = $6
      WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`,
    [id, owner, r.sends, r.lastResult, r.nextAttemptAt, r.leaseUntil],
  );
}

/** On shutdown: give the rows this process was waiting on back to every poller at once. */
export async function releaseNotificationLeases(q: Queryable, ids: string[], owner: string): Promise<void> {
  if (ids.length === 0) return;
  await q.query(
    `UPDATE sandbox_wechatpay.notifications SET lease_owner = NULL, lease_until = NULL
      WHERE id = ANY($1) AND lease_owner = $2 AND state = 'pending'`,
    [ids, owner],
  );
}

// ---------------------------------------------------------------------------------------------
// Ledger

export interface LedgerRow {
  mchId: string;
  outTradeNo: string;
  transactionId: string | null;
  state: TradeState;
  amountTotal: number;
  currency: string;
  createdAt: Date;
  paidAt: Date | null;
  closedAt: Date | null;
  timeExpire: Date | null;
  notificationsSent: number;
  notificationsAcknowledged: number;
  notificationsDropped: number;
}

export async function listLedger(
  q: Queryable,
  filter: { outTradeNo: string | undefined; limit: number },
): Promise<LedgerRow[]> {
  const { rows } = await q.query<LedgerRow>(
    `SELECT t.mch_id AS "mchId", t.out_trade_no AS "outTradeNo", t.transaction_id AS "transactionId", t.state,
            t.amount_total AS "amountTotal", t.currency, t.created_at AS "createdAt", t.paid_at AS "paidAt",
            t.closed_at AS "closedAt", t.time_expire AS "timeExpire",
            coalesce(sum(n.sends), 0)::int AS "notificationsSent",
            (count(n.id) FILTER (WHERE n.state = 'acknowledged'))::int AS "notificationsAcknowledged",
            (count(n.id) FILTER (WHERE n.state = 'dropped'))::int AS "notificationsDropped"
       FROM sandbox_wechatpay.trades t
       LEFT JOIN sandbox_wechatpay.notifications n ON n.mch_id = t.mch_id AND n.out_trade_no = t.out_trade_no
      WHERE $1::text IS NULL OR t.out_trade_no = $1
      GROUP BY t.mch_id, t.out_trade_no
      ORDER BY t.created_at, t.mch_id, t.out_trade_no
      LIMIT $2`,
    [filter.outTradeNo ?? null, filter.limit],
  );
  return rows;
}
