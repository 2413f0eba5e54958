-- Switching channels (issue 5). CLOSING: we asked the channel to close the trade, and it refuses
-- payment only from the trade's expiry on (UnionPay has no close; an Alipay QR trade does not
-- exist until scanned). Not open, so the order may open another attempt; still queried.
ALTER TABLE payment_attempts DROP CONSTRAINT payment_attempts_state_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_state_check
  CHECK (state IN ('CREATING', 'PENDING', 'CLOSING', 'SUCCEEDED', 'FAILED', 'CLOSED'));

-- The expiry sweep now also closes PAYING and EXCEPTION orders left with nothing to watch (every
-- attempt refused or closed), not only CREATED ones.
DROP INDEX orders_created_expiry;
CREATE INDEX orders_unpaid_expiry ON orders (expires_at) WHERE state IN ('CREATED', 'PAYING', 'EXCEPTION');
