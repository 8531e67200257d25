-- Claiming a key is a second index insert for every ingested event, so its cost sits next to COPY's.
-- Two changes make it cheaper without changing what it decides:
-- 1. Keys compare bytewise (COLLATE "C"): equality is the same under every deterministic collation, and
--    the b-tree no longer pays for locale-aware comparison on each step.
-- 2. The b-tree on ts becomes a BRIN on first_seen. Keys arrive in first_seen order, so a BRIN summary
--    costs almost nothing to keep and still finds old keys for the retention sweep: a key whose
--    first_seen is older than the raw retention plus the allowed future skew can only belong to an
--    event that is itself past retention (and a redelivery of it would be refused as too old).
ALTER TABLE event_keys ALTER COLUMN idempotency_key TYPE text COLLATE "C";
DROP INDEX event_keys_ts_idx;
CREATE INDEX event_keys_first_seen_brin ON event_keys USING brin (first_seen);

-- Kafka records (pull, and connector pushes with X-Topic/X-Kafka-Partition/X-Kafka-Offset) are claimed
-- as offset ranges instead of one event_keys row each: a pull batch of thousands of records is one
-- row. Ranges of one (topic, partition) never overlap; claimers of a partition serialise on an advisory
-- lock (shared/ingest/kafka-claims-sql.ts). end_offset is exclusive.
CREATE TABLE kafka_record_claims (
  topic        text COLLATE "C" NOT NULL,
  partition    integer     NOT NULL,
  first_offset bigint      NOT NULL,
  end_offset   bigint      NOT NULL,
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition, first_offset),
  CHECK (first_offset >= 0 AND end_offset > first_offset)
);
CREATE INDEX kafka_record_claims_end_idx ON kafka_record_claims (topic, partition, end_offset);
CREATE INDEX kafka_record_claims_claimed_brin ON kafka_record_claims USING brin (claimed_at);

-- Keys of Kafka records already in event_keys move over as one-offset ranges. A Kafka key is
-- topic:partition:offset (topic names are [A-Za-z0-9._-]); `id:` and `sha256:` keys never have that
-- shape with a topic named like their prefix, except for topics literally named "id" or "sha256",
-- whose old keys stay where they are.
WITH moved AS (
  DELETE FROM event_keys
  WHERE idempotency_key ~ '^[A-Za-z0-9._-]+:[0-9]{1,9}:[0-9]{1,18}$'
    AND split_part(idempotency_key, ':', 1) NOT IN ('id', 'sha256')
  RETURNING idempotency_key, first_seen
)
INSERT INTO kafka_record_claims (topic, partition, first_offset, end_offset, claimed_at)
SELECT split_part(idempotency_key, ':', 1), split_part(idempotency_key, ':', 2)::integer,
       split_part(idempotency_key, ':', 3)::bigint, split_part(idempotency_key, ':', 3)::bigint + 1, first_seen
FROM moved;
