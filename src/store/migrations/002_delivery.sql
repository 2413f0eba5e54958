-- Event delivery (G4): webhook endpoints, one delivery per (event, target) written in the state
-- change's own transaction, and a log row for every attempt.

-- The payload is kept as the exact JSON text written (json, not jsonb: key order is the API's).
ALTER TABLE events ALTER COLUMN data TYPE json USING data::json;
-- A gap-free order for consumers that poll: (txid, position). Only rows whose transaction id is
-- below the oldest running transaction are listed, and every later commit has a higher txid, so a
-- cursor never skips an event that commits late.
ALTER TABLE events ADD COLUMN position bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_app_feed ON events (app_id, txid, position);
DROP INDEX events_app_created;

CREATE TABLE webhook_endpoints (
  id               text PRIMARY KEY,
  app_id           text NOT NULL REFERENCES apps (id),
  url              text NOT NULL,
  -- The signing secret (whsec_…); Paycenter must be able to sign with it, so it is kept as is.
  secret           text NOT NULL,
  -- NULL: every event type.
  event_types      text[],
  -- Made from PAYCENTER_WEBHOOK_URL: replaced when that setting changes.
  from_config      boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- Set when the receiver answered 410 Gone; no new deliveries are made to it.
  disabled_at      timestamptz,
  disabled_reason  text,
  deleted_at       timestamptz
);
CREATE INDEX webhook_endpoints_active ON webhook_endpoints (app_id) WHERE deleted_at IS NULL AND disabled_at IS NULL;

CREATE TABLE deliveries (
  id               bigserial PRIMARY KEY,
  event_id         text NOT NULL REFERENCES events (id),
  target           text NOT NULL CHECK (target IN ('webhook', 'amqp', 'nats')),
  endpoint_id      text REFERENCES webhook_endpoints (id),
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  -- Attempts ever made (a claim counts: a process killed mid-attempt still used one).
  attempts         integer NOT NULL DEFAULT 0,
  -- Place in the retry schedule; a redelivery starts the schedule again.
  step             integer NOT NULL DEFAULT 0,
  -- When pending: due time, or the end of the current claim's lease.
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  created_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  last_error       text,
  CHECK ((target = 'webhook') = (endpoint_id IS NOT NULL))
);
CREATE UNIQUE INDEX deliveries_one_per_target ON deliveries (event_id, target, coalesce(endpoint_id, ''));
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_dead ON deliveries (created_at) WHERE state = 'dead';

CREATE TABLE delivery_attempts (
  id                bigserial PRIMARY KEY,
  delivery_id       bigint NOT NULL REFERENCES deliveries (id),
  attempt           integer NOT NULL,
  started_at        timestamptz NOT NULL,
  latency_ms        integer NOT NULL,
  outcome           text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'gone')),
  status_code       integer,
  -- The first bytes of the receiver's answer, for whoever debugs a failing endpoint.
  response_excerpt  text,
  error             text
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
