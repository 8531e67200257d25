-- 000001: first schema. Migrations only move forward: never edit a landed file, add a new one.

-- Raw events, partitioned by UTC day. Partitions are created on demand by ensure_raw_partition().
-- Metrics and dimensions are extracted at ingest (shared/events) so aggregation can unnest arrays
-- instead of walking jsonb.
CREATE TABLE raw_events (
  ts               timestamptz      NOT NULL,
  event_type       text             NOT NULL,
  source           text             NOT NULL,
  idempotency_key  text             NOT NULL,
  metric_names     text[]           NOT NULL,
  metric_values    double precision[] NOT NULL,
  dimension_names  text[]           NOT NULL,
  dimension_values text[]           NOT NULL,
  data             jsonb            NOT NULL,
  ingested_at      timestamptz      NOT NULL DEFAULT now()
) PARTITION BY RANGE (ts);

CREATE INDEX raw_events_ts_idx ON raw_events (ts);

-- Idempotency is global, not per partition: an event without timestamp or id may land in another
-- day when delivered twice, so uniqueness cannot live on the partitioned table.
CREATE TABLE event_keys (
  idempotency_key text        PRIMARY KEY,
  ts              timestamptz NOT NULL,
  first_seen      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_keys_ts_idx ON event_keys (ts);

-- Creates the daily partition holding `day` (UTC) if it is missing. The transaction-scoped advisory
-- lock serialises concurrent creators of the same day so none of them fails on a duplicate.
CREATE FUNCTION ensure_raw_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  part text := format('raw_events_%s', to_char(day, 'YYYYMMDD'));
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('hxp.raw_partition'), (day - date '2000-01-01'));
  IF to_regclass(part) IS NULL THEN
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF raw_events FOR VALUES FROM (%L) TO (%L)',
      part,
      (day::timestamp AT TIME ZONE 'UTC'),
      ((day + 1)::timestamp AT TIME ZONE 'UTC'));
  END IF;
  RETURN part;
END $$;

-- Change tracking per aggregation window. Ingest bumps changed_seq of the hours it touched; an
-- aggregation records the changed_seq it read as done_seq. A window is dirty while
-- done_seq < changed_seq, so a late event re-opens its hour, and finishing an hour bumps its day,
-- week and month. Retry state of failed windows lives here too.
CREATE SEQUENCE window_change_seq;

CREATE TABLE aggregation_windows (
  level        text        NOT NULL CHECK (level IN ('hour', 'day', 'week', 'month')),
  bucket       timestamptz NOT NULL,
  changed_seq  bigint      NOT NULL,
  done_seq     bigint,
  attempts     integer     NOT NULL DEFAULT 0,
  retry_at     timestamptz,
  last_error   text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (level, bucket)
);

-- Mergeable aggregate state, one row per (level, bucket, series). Sums are numeric so that rollups
-- and direct queries agree exactly; p50/p95/p99 are materialised from aggregate_sketch_bins when
-- the row is written.
CREATE TABLE aggregate_state (
  level           text        NOT NULL CHECK (level IN ('hour', 'day', 'week', 'month')),
  bucket          timestamptz NOT NULL,
  event_type      text        NOT NULL,
  metric          text        NOT NULL,
  dimension       text        NOT NULL,
  dimension_value text        NOT NULL,
  count           bigint      NOT NULL,
  sum             numeric     NOT NULL,
  sum_squares     numeric     NOT NULL,
  min             double precision NOT NULL,
  max             double precision NOT NULL,
  p50             double precision,
  p95             double precision,
  p99             double precision,
  computed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (level, bucket, event_type, metric, dimension, dimension_value)
);

-- Quantile sketch bins (see shared/sketch): sign is -1/0/1, key the log-bucket index.
CREATE TABLE aggregate_sketch_bins (
  level           text        NOT NULL,
  bucket          timestamptz NOT NULL,
  event_type      text        NOT NULL,
  metric          text        NOT NULL,
  dimension       text        NOT NULL,
  dimension_value text        NOT NULL,
  sign            smallint    NOT NULL,
  key             integer     NOT NULL,
  count           bigint      NOT NULL,
  PRIMARY KEY (level, bucket, event_type, metric, dimension, dimension_value, sign, key)
);

-- The data contract: exactly these columns, in this order. avg and stddev (sample, as PostgreSQL's
-- stddev) are derived from the exact numeric sums.
CREATE VIEW aggregations AS
SELECT level, bucket AS "timestamp", event_type, metric, dimension, dimension_value, count,
       sum::double precision AS sum, min, max,
       (sum / count)::double precision AS avg,
       CASE WHEN count > 1
            THEN sqrt(greatest((count * sum_squares - sum * sum) / (count * (count - 1)), 0))::double precision
       END AS stddev,
       p50, p95, p99
FROM aggregate_state;

CREATE VIEW hourly_aggregations AS
SELECT "timestamp", event_type, metric, dimension, dimension_value, count, sum, min, max, avg, stddev, p50, p95, p99
FROM aggregations WHERE level = 'hour';

CREATE VIEW daily_aggregations AS
SELECT "timestamp", event_type, metric, dimension, dimension_value, count, sum, min, max, avg, stddev, p50, p95, p99
FROM aggregations WHERE level = 'day';

CREATE VIEW weekly_aggregations AS
SELECT "timestamp", event_type, metric, dimension, dimension_value, count, sum, min, max, avg, stddev, p50, p95, p99
FROM aggregations WHERE level = 'week';

CREATE VIEW monthly_aggregations AS
SELECT "timestamp", event_type, metric, dimension, dimension_value, count, sum, min, max, avg, stddev, p50, p95, p99
FROM aggregations WHERE level = 'month';

-- The runs ledger: one row per invocation of a job (and per retried window attempt).
CREATE TABLE runs (
  id            bigserial   PRIMARY KEY,
  job           text        NOT NULL,
  trigger       text        NOT NULL,
  window_start  timestamptz,
  window_end    timestamptz,
  attempt       integer     NOT NULL DEFAULT 1,
  status        text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  rows_in       bigint,
  rows_out      bigint,
  error_code    text,
  error         text,
  details       jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX runs_job_started_idx ON runs (job, started_at DESC);
CREATE INDEX runs_status_idx ON runs (status, started_at DESC);

-- Rejected input, with the original payload. The key makes a redelivered bad record land once.
CREATE TABLE dead_letters (
  id              bigserial   PRIMARY KEY,
  received_at     timestamptz NOT NULL DEFAULT now(),
  origin          text        NOT NULL CHECK (origin IN ('kafka', 'http')),
  topic           text,
  kafka_partition integer,
  kafka_offset    bigint,
  idempotency_key text        NOT NULL UNIQUE,
  reason_code     text        NOT NULL,
  reason          text        NOT NULL,
  payload         bytea       NOT NULL
);
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at);

-- Kafka offsets stored in the same transaction as the rows they produced (exactly-once ingest).
-- next_offset is the offset of the next record to read, as Kafka commits it.
CREATE TABLE kafka_offsets (
  consumer_group text        NOT NULL,
  topic          text        NOT NULL,
  partition      integer     NOT NULL,
  next_offset    bigint      NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, partition)
);

-- Generated reports (the reports issue fills it).
CREATE TABLE reports (
  id            bigserial   PRIMARY KEY,
  report_type   text        NOT NULL,
  period_start  timestamptz NOT NULL,
  period_end    timestamptz NOT NULL,
  format        text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('generating', 'stored', 'failed', 'expired')),
  location      text,
  size_bytes    bigint,
  sha256        text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  details       jsonb       NOT NULL DEFAULT '{}',
  UNIQUE (report_type, period_start, format)
);
