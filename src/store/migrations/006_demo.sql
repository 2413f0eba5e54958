-- The demo shop at /demo (issue 7), served only beside the sandbox: the shop's business side keeps
-- its own rows here, as a merchant's system keeps them in its own database.

-- The shop's Paycenter app, one per installation, made at the first start with the sandbox on.
CREATE TABLE demo_shop (
  singleton            boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  app_id               text NOT NULL REFERENCES apps (id),
  -- Kept in clear, unlike every other app's key: each Paycenter process's demo calls the API with
  -- it. It opens the demo app's orders only, and the demo runs only with the simulated banks.
  api_key              text NOT NULL,
  -- The endpoint Paycenter sends the shop's events to (this server's /demo/webhook); replaced when
  -- the server's address changes.
  webhook_endpoint_id  text NOT NULL REFERENCES webhook_endpoints (id),
  created_at           timestamptz NOT NULL DEFAULT now()
);

-- The client kit's inbox (createInbox, table demo_inbox): one row per event the shop verified and
-- applied, so a redelivered event is applied once.
CREATE TABLE demo_inbox (
  event_id      text PRIMARY KEY,
  type          text NOT NULL,
  order_id      text NOT NULL,
  sequence      bigint NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now(),
  -- The order's state as the event told it, written by the shop's handler in the inbox's
  -- transaction (NULL only between the kit's insert and the handler's update, never committed).
  order_state   text
);
CREATE INDEX demo_inbox_order ON demo_inbox (order_id, sequence);
