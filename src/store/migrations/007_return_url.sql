-- Where a redirect method's cashier sends the buyer back (Alipay return_url, UnionPay frontUrl),
-- per payment; NULL: the channel's configured one. Kept on the attempt so a retried create signs
-- the same parameters.
ALTER TABLE payment_attempts ADD COLUMN return_url text;
