-- The duplicate-submission guard's fallback marker (src/guard/fallback.ts). While Redis does not
-- answer, fingerprint claims go to submission_guard; this one row says until when claims made
-- there may still be live (the last fallback claim + the duplicate window + a lease). While it is
-- in the future, processes whose Redis answers claim in PostgreSQL as well, so a duplicate of an
-- order claimed during the outage is still refused once Redis is back. It only ever moves later.
CREATE TABLE submission_guard_fallback (
  singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  pg_claims_until  timestamptz NOT NULL
);
