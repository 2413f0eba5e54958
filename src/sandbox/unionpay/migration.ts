// The UnionPay sandbox ledger: schema sandbox_unionpay.
import { notificationsTableSql } from '../notification-store.ts';

export const UNIONPAY_SCHEMA = 'sandbox_unionpay';

/** Idempotent; run by migrateSandbox inside its transaction, under its advisory lock. */
export const UNIONPAY_MIGRATION_SQL = `
CREATE SCHEMA IF NOT EXISTS sandbox_unionpay;

-- The bank's certificate chain (certificates.ts): root and middle CA certificates, the middle CA's
-- key (it issues merchant certificates) and UnionPay's signing certificate and key. One row, made on
-- first use; the root's key is never stored.
CREATE TABLE IF NOT EXISTS sandbox_unionpay.authority (
  singleton              boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  root_cert_pem          text NOT NULL,
  middle_cert_pem        text NOT NULL,
  middle_private_key_pem text NOT NULL,
  sign_cert_pem          text NOT NULL,
  sign_private_key_pem   text NOT NULL,
  created_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sandbox_unionpay.merchants (
  mer_id        text PRIMARY KEY,
  -- The merchant's current signing certificate, issued by the middle CA; cert_id is its serial in decimal.
  cert_id       text NOT NULL UNIQUE,
  cert_pem      text NOT NULL,
  registered_at timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sandbox_unionpay.trades (
  mer_id              text NOT NULL REFERENCES sandbox_unionpay.merchants,
  order_id            text NOT NULL,
  -- YYYYMMDDhhmmss Beijing, as sent: with order_id it names the transaction in a query.
  txn_time            text NOT NULL,
  -- Fen. ACP allows 12 digits; the sandbox caps amounts at a 32-bit integer (respCode 33 above it).
  txn_amt             integer NOT NULL CHECK (txn_amt > 0),
  currency_code       text NOT NULL,
  channel_type        text NOT NULL,
  back_url            text NOT NULL,
  front_url           text,
  -- After it the bank refuses the payment and a query answers the final failure.
  pay_timeout         timestamptz,
  req_reserved        text,
  -- sha256 of the signed fields but certId and signature: a re-post must carry the same fields.
  request_fingerprint text NOT NULL,
  state               text NOT NULL CHECK (state IN ('UNPAID', 'PAID')),
  -- Assigned when the buyer pays; the notification and the query carry the same values.
  query_id            text UNIQUE,
  trace_no            text,
  trace_time          text,
  settle_date         text,
  acc_no              text,
  paid_at             timestamptz,
  created_at          timestamptz NOT NULL,
  PRIMARY KEY (mer_id, order_id),
  CHECK ((state = 'PAID') = (query_id IS NOT NULL AND paid_at IS NOT NULL))
);
-- The control API (POST /sandbox/pay, GET /sandbox/ledger) finds trades without knowing the merchant.
CREATE INDEX IF NOT EXISTS trades_order_id ON sandbox_unionpay.trades (order_id);
CREATE INDEX IF NOT EXISTS trades_created_at ON sandbox_unionpay.trades (created_at);

-- Fen reserved by refunds that are processing or succeeded (a failed refund gives its share back).
-- Reserved in the same conditional update that checks it fits, so concurrent refunds cannot
-- together return more than was paid; the constraint says so once more.
ALTER TABLE sandbox_unionpay.trades ADD COLUMN IF NOT EXISTS refund_reserved integer NOT NULL DEFAULT 0;
DO $$ BEGIN
  ALTER TABLE sandbox_unionpay.trades
    ADD CONSTRAINT trades_refunds_fit CHECK (refund_reserved >= 0 AND refund_reserved <= txn_amt);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- Refunds (txnType 04) as the bank received them on backTransReq.do; their orderId and txnTime are
-- the refund's own, orig_order_id the consume they return money from.
CREATE TABLE IF NOT EXISTS sandbox_unionpay.refund_transactions (
  mer_id              text NOT NULL,
  order_id            text NOT NULL,
  txn_time            text NOT NULL,
  -- Fen.
  txn_amt             integer NOT NULL CHECK (txn_amt > 0),
  orig_order_id       text NOT NULL,
  orig_query_id       text NOT NULL,
  -- Assigned on acceptance; the answer, the query and the notification carry it.
  query_id            text NOT NULL UNIQUE,
  back_url            text NOT NULL,
  req_reserved        text,
  -- sha256 of the signed fields but certId and signature: a resend must carry the same fields.
  request_fingerprint text NOT NULL,
  state               text NOT NULL CHECK (state IN ('PROCESSING', 'SUCCEEDED', 'FAILED')),
  accepted_at         timestamptz NOT NULL,
  -- When the bank finishes it (accepted_at + timeScale × 2 s); rows, so a restarted sandbox finishes it.
  finish_due_at       timestamptz NOT NULL,
  finished_at         timestamptz,
  CONSTRAINT refund_transactions_pkey PRIMARY KEY (mer_id, order_id),
  FOREIGN KEY (mer_id, orig_order_id) REFERENCES sandbox_unionpay.trades,
  CHECK ((state = 'PROCESSING') = (finished_at IS NULL))
);
CREATE INDEX IF NOT EXISTS refund_transactions_due ON sandbox_unionpay.refund_transactions (finish_due_at) WHERE state = 'PROCESSING';
CREATE INDEX IF NOT EXISTS refund_transactions_trade ON sandbox_unionpay.refund_transactions (mer_id, orig_order_id);
CREATE INDEX IF NOT EXISTS refund_transactions_accepted_at ON sandbox_unionpay.refund_transactions (accepted_at);

${notificationsTableSql(UNIONPAY_SCHEMA)}

-- Every channel's ledger in one shape, for whoever compares the bank with Paycenter. An unpaid
-- trade past its payTimeout is closed: the bank will never take the payment (there is no close API).
CREATE OR REPLACE VIEW sandbox_unionpay.ledger AS
SELECT 'unionpay'::text AS channel,
       mer_id AS mch_id,
       order_id AS out_trade_no,
       query_id AS transaction_id,
       CASE WHEN state = 'PAID' THEN 'paid'
            WHEN pay_timeout <= now() THEN 'closed'
            ELSE 'not_paid' END AS state,
       txn_amt AS amount,
       -- currencyCode 156 is the only one the gateway accepts here.
       'CNY'::text AS currency
  FROM sandbox_unionpay.trades;

-- Every channel's refunds in one shape (docs/refunds-and-bills.md); out_trade_no is the consume's orderId.
CREATE OR REPLACE VIEW sandbox_unionpay.refunds AS
SELECT 'unionpay'::text AS channel,
       mer_id AS mch_id,
       orig_order_id AS out_trade_no,
       order_id AS out_refund_no,
       txn_amt::bigint AS amount,
       lower(state) AS state,
       accepted_at,
       finished_at
  FROM sandbox_unionpay.refund_transactions;
`;
