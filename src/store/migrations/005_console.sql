-- The operator console (issue 7): operators, their sessions, and every action they take.

CREATE TABLE operators (
  id               text PRIMARY KEY,
  username         text NOT NULL UNIQUE,
  role             text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  -- scrypt$N$r$p$salt$hash (base64url); the password itself is never stored.
  password_hash    text NOT NULL,
  -- Sign-in failures since the last success; the lock-out counts them.
  failed_signins   integer NOT NULL DEFAULT 0,
  locked_until     timestamptz,
  disabled_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE operator_sessions (
  -- SHA-256 of the cookie's token: a stolen table does not sign anyone in.
  token_hash   text PRIMARY KEY,
  operator_id  text NOT NULL REFERENCES operators (id),
  -- The CSRF token every state-changing request of this session must carry.
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX operator_sessions_expiry ON operator_sessions (expires_at);

-- Who did what, when and why. Written before the action runs (outcome NULL), finished after it:
-- an action cut short by a crash is still on record.
CREATE TABLE operator_actions (
  id           bigserial PRIMARY KEY,
  operator_id  text NOT NULL REFERENCES operators (id),
  username     text NOT NULL,
  action       text NOT NULL,
  order_id     text,
  -- What the action was about besides the order: an event, an app, an endpoint, an operator.
  target       text,
  note         text NOT NULL,
  outcome      text,
  at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX operator_actions_order ON operator_actions (order_id, id) WHERE order_id IS NOT NULL;
CREATE INDEX operator_actions_at ON operator_actions (at DESC);

-- Console searches and lists over many orders: every filter has an index, newest first.
DROP INDEX orders_state;
CREATE INDEX orders_state_created ON orders (state, created_at DESC, id DESC);
CREATE INDEX orders_created ON orders (created_at DESC, id DESC);
CREATE INDEX orders_merchant_order_no ON orders (merchant_order_no);
CREATE INDEX orders_customer ON orders (customer_id, created_at DESC) WHERE customer_id IS NOT NULL;
-- Refused notifications, newest first; the id breaks ties so the console's pages are a keyset.
CREATE INDEX notifications_refused ON notifications (received_at DESC, id DESC) WHERE NOT verified;
-- The console's event list across every app, newest first (position is the insert order), whole or by type.
CREATE INDEX events_position ON events (position);
CREATE INDEX events_type_position ON events (type, position);
