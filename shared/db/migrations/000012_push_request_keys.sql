-- 000012 (ingest): a push request's answer, kept under the Idempotency-Key the producer sent with it. A
-- producer whose answer was lost (a timeout, a 503 after a COMMIT whose reply never came, a crash) sends the
-- same request again with the same key and gets the first answer back: its events counted stored once, not
-- as duplicates of themselves. The row is written in the transaction that stores the request's events, so
-- it exists exactly when they do. `answer` is NULL only inside that transaction: the key is claimed first,
-- so a second request with the key waits on the row and then reads the answer. Kept as long as the event
-- idempotency keys (retention.dedupKeysDays), deleted by the retention sweep.
CREATE TABLE push_requests (
  request_key text        PRIMARY KEY,
  -- sha256 of what the request asked (body, content type, connector record): the same key with another
  -- request is refused, never answered with the first one's counts
  fingerprint bytea       NOT NULL,
  answer      jsonb,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_requests_received_at ON push_requests (received_at);
