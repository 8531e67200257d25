-- 000013 (reports): the answers of POST /reports/generate and POST /reports/{id}/deliver requests sent with
-- an Idempotency-Key. A client whose answer was lost (a timeout, a dropped connection) sends the request again
-- with the same key and gets the first answer back, instead of a second generation and a second round of
-- e-mails. Unlike a push, a generation cannot run inside one transaction (it renders, stores files and sends
-- e-mail), so a key is claimed with a lease: `answer` is NULL while the request that claimed it runs; a
-- claim whose request died (claimed_until passed, no answer) is taken over by the request sent again.
-- Kept as long as push request keys (retention.dedupKeysDays), deleted by the retention sweep.
CREATE TABLE report_requests (
  request_key   text        PRIMARY KEY,
  -- sha256 of the route and what the request asked: the same key with another request is refused
  fingerprint   bytea       NOT NULL,
  -- the invocation holding the claim; only it records the answer
  owner         text        NOT NULL,
  claimed_until timestamptz NOT NULL,
  status        integer,
  answer        jsonb,
  received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_requests_received_at ON report_requests (received_at);

-- The e-mails of a keyed request: one per (key, report type, period, recipient), so a request that runs
-- again after its first run died finds the e-mails that run queued or sent, and sends none twice.
ALTER TABLE report_deliveries ADD COLUMN request_key text;
CREATE UNIQUE INDEX report_deliveries_request_idx
  ON report_deliveries (request_key, report_type, period_start, recipient) WHERE request_key IS NOT NULL;
