-- Money safety (issue 6): refunds, their running totals on the paid attempt, and the daily
-- reconciliation reports.

-- Refunds are reserved on the attempt they return money from, in the same conditional update
-- that checks they fit: refund_reserved_minor counts PENDING and SUCCEEDED refunds, refunded_minor
-- SUCCEEDED ones only. A FAILED refund gives its reservation back.
ALTER TABLE payment_attempts
  ADD COLUMN refund_reserved_minor bigint NOT NULL DEFAULT 0,
  ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0,
  ADD CONSTRAINT payment_attempts_refunds_fit CHECK (refunded_minor <= refund_reserved_minor AND refund_reserved_minor <= amount_minor);

CREATE TABLE refunds (
  id                  text PRIMARY KEY,
  order_id            text NOT NULL REFERENCES orders (id),
  attempt_id          text NOT NULL REFERENCES payment_attempts (id),
  app_id              text NOT NULL,
  -- merchant: asked through the API; duplicate / late: Paycenter returning a second or a late payment.
  kind                text NOT NULL CHECK (kind IN ('merchant', 'duplicate', 'late')),
  -- The merchant's idempotency key (merchant refunds only); unique per app.
  merchant_refund_no  text,
  -- Our number at the channel, reused on every retry.
  out_refund_no       text NOT NULL,
  amount_minor        bigint NOT NULL CHECK (amount_minor > 0),
  currency            text NOT NULL,
  reason              text,
  state               text NOT NULL CHECK (state IN ('PENDING', 'SUCCEEDED', 'FAILED')),
  channel_refund_no   text,
  failure_code        text,
  failure_message     text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  succeeded_at        timestamptz,
  UNIQUE (app_id, merchant_refund_no),
  UNIQUE (attempt_id, out_refund_no)
);
CREATE UNIQUE INDEX refunds_out_refund_no ON refunds (out_refund_no);
CREATE INDEX refunds_order ON refunds (order_id, created_at);
CREATE INDEX refunds_pending ON refunds (created_at) WHERE state = 'PENDING';
-- An automatic refund is made once per attempt.
CREATE UNIQUE INDEX refunds_one_automatic ON refunds (attempt_id) WHERE kind <> 'merchant';

ALTER TABLE transitions DROP CONSTRAINT transitions_entity_check;
ALTER TABLE transitions ADD CONSTRAINT transitions_entity_check CHECK (entity IN ('order', 'attempt', 'refund'));

ALTER TABLE channel_calls DROP CONSTRAINT channel_calls_operation_check;
ALTER TABLE channel_calls ADD CONSTRAINT channel_calls_operation_check
  CHECK (operation IN ('create', 'query', 'close', 'refund', 'refund_query'));

-- The notifications of a refund name it by our refund number.
ALTER TABLE notifications ADD COLUMN out_refund_no text;

-- Daily reconciliation with the channel's bill: one report per run, its differences by class.
CREATE TABLE reconciliations (
  id            text PRIMARY KEY,
  channel       text NOT NULL,
  bill_date     date NOT NULL,
  state         text NOT NULL CHECK (state IN ('RUNNING', 'DONE', 'FAILED')),
  -- Lines in the bill, local records compared, differences by class.
  summary       jsonb,
  error         text,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX reconciliations_day ON reconciliations (channel, bill_date, started_at DESC);

CREATE TABLE reconciliation_differences (
  id                 bigserial PRIMARY KEY,
  reconciliation_id  text NOT NULL REFERENCES reconciliations (id),
  class              text NOT NULL,
  out_trade_no       text,
  out_refund_no      text,
  order_id           text,
  -- What the bill says and what Paycenter holds, as small JSON objects.
  channel_side       jsonb,
  local_side         jsonb,
  -- What Paycenter did about it (a query queued, the order put in EXCEPTION, …).
  action             text NOT NULL
);
CREATE INDEX reconciliation_differences_report ON reconciliation_differences (reconciliation_id, id);

-- The reconciliation reads a channel's day of payments and refunds.
CREATE INDEX payment_attempts_paid ON payment_attempts (channel, paid_at) WHERE state = 'SUCCEEDED';
CREATE INDEX refunds_succeeded ON refunds (created_at) WHERE state = 'SUCCEEDED';
