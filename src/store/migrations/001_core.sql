-- Core schema: apps, orders, payment attempts, the transition audit, events (outbox), the
-- notification inbox, channel calls, and the two duplicate-submission tables.

CREATE TABLE apps (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  -- SHA-256 of the API key; the key itself is shown once and never stored.
  api_key_hash  text NOT NULL UNIQUE,
  is_default    boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX apps_one_default ON apps (is_default) WHERE is_default;

CREATE TABLE orders (
  id                 text PRIMARY KEY,
  app_id             text NOT NULL REFERENCES apps (id),
  merchant_order_no  text NOT NULL,
  amount_minor       bigint NOT NULL CHECK (amount_minor > 0),
  currency           text NOT NULL,
  subject            text NOT NULL,
  description        text,
  customer_id        text,
  metadata           jsonb,
  state              text NOT NULL CHECK (state IN ('CREATED', 'PAYING', 'PAID', 'CLOSED', 'EXCEPTION')),
  paid_attempt_id    text,
  -- Grows with every event of this order so receivers can drop stale ones.
  event_sequence     integer NOT NULL DEFAULT 0,
  expires_at         timestamptz NOT NULL,
  paid_at            timestamptz,
  closed_at          timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  -- The durable backstop of duplicate protection (G2).
  UNIQUE (app_id, merchant_order_no)
);
-- The expiry sweeper looks for unpaid orders that have no channel attempt.
CREATE INDEX orders_created_expiry ON orders (expires_at) WHERE state = 'CREATED';
CREATE INDEX orders_state ON orders (state);

CREATE TABLE payment_attempts (
  id                text PRIMARY KEY,
  order_id          text NOT NULL REFERENCES orders (id),
  channel           text NOT NULL,
  method            text NOT NULL,
  -- Our id at the channel and the channel's idempotency key: reused on every retry.
  out_trade_no      text NOT NULL,
  amount_minor      bigint NOT NULL,
  currency          text NOT NULL,
  state             text NOT NULL CHECK (state IN ('CREATING', 'PENDING', 'SUCCEEDED', 'FAILED', 'CLOSED')),
  -- The expiry sent to the channel; a retried create must send it unchanged.
  channel_expires_at timestamptz NOT NULL,
  action            jsonb,
  channel_trade_no  text,
  failure_code      text,
  paid_at           timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (channel, out_trade_no)
);
-- At most one open attempt per order.
CREATE UNIQUE INDEX payment_attempts_one_open ON payment_attempts (order_id) WHERE state IN ('CREATING', 'PENDING');
CREATE INDEX payment_attempts_order ON payment_attempts (order_id);

-- Every state change of an order or attempt, in the same transaction as the change (G6 audit).
CREATE TABLE transitions (
  id          bigserial PRIMARY KEY,
  order_id    text NOT NULL,
  entity      text NOT NULL CHECK (entity IN ('order', 'attempt')),
  entity_id   text NOT NULL,
  from_state  text,
  to_state    text NOT NULL,
  reason      text NOT NULL,
  at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX transitions_order ON transitions (order_id, id);

-- The transactional outbox: one row per business event, written with the state change (G4).
CREATE TABLE events (
  id          text PRIMARY KEY,
  app_id      text NOT NULL,
  order_id    text NOT NULL,
  type        text NOT NULL,
  sequence    integer NOT NULL,
  data        jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (order_id, sequence)
);
CREATE INDEX events_app_created ON events (app_id, created_at, id);

-- Every notification received, verified or refused (G5 evidence). Verified ones are unique per
-- channel notification id; refused ones are all kept (a forger may reuse a real id).
CREATE TABLE notifications (
  id               bigserial PRIMARY KEY,
  channel          text NOT NULL,
  notification_id  text,
  verified         boolean NOT NULL,
  refusal_reason   text,
  out_trade_no     text,
  order_id         text,
  outcome          text,
  headers          jsonb NOT NULL,
  body             text NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX notifications_verified_once ON notifications (channel, notification_id) WHERE verified;
CREATE INDEX notifications_order ON notifications (order_id);

-- Every call made to a channel for an attempt, with its normalized result and latency.
CREATE TABLE channel_calls (
  id           bigserial PRIMARY KEY,
  order_id     text NOT NULL,
  attempt_id   text NOT NULL,
  operation    text NOT NULL CHECK (operation IN ('create', 'query', 'close')),
  outcome      text NOT NULL,
  detail       text,
  latency_ms   integer NOT NULL,
  at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX channel_calls_order ON channel_calls (order_id);

-- Idempotency-Key records (IETF draft): the first response is replayed for 24 h.
CREATE TABLE idempotency_keys (
  app_id           text NOT NULL,
  key              text NOT NULL,
  request_hash     text NOT NULL,
  response_status  integer,
  response_body    jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  PRIMARY KEY (app_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- The Postgres duplicate-submission guard, used when no Redis is configured: one row per
-- order-content fingerprint, claimed with INSERT … ON CONFLICT inside the order's transaction.
CREATE TABLE submission_guard (
  app_id       text NOT NULL,
  fingerprint  text NOT NULL,
  order_id     text NOT NULL,
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (app_id, fingerprint)
);
CREATE INDEX submission_guard_expiry ON submission_guard (expires_at);

-- Small key/value settings that must survive restarts (e.g. generated sandbox merchant keys).
CREATE TABLE settings (
  key    text PRIMARY KEY,
  value  jsonb NOT NULL
);
