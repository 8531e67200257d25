-- 000009 (retention): the archives ledger, and raw days that stay gone once archived.

-- One row per unit the retention sweep archives and removes: a raw day (kind 'raw', unit '2026-10-01'), one
-- level's aggregates of a month (kind 'aggregate', unit 'hour/2026-10') or a month of expired reports (kind
-- 'reports', unit '2024-10': their rows kept in a manifest, objects and rows deleted). Status, in order:
--   pending   the export started (objects may be partly written; the next sweep starts it again);
--   verified  every object and the manifest are written and read back equal to the live data;
--   archived  the live data is gone; the archive is the only copy;
--   deleted   the live data is gone without an archive (archival was disabled);
--   restored  a raw day read back into raw_events, kept until keep_until;
--   failed    the last attempt failed (error_code, error); nothing was removed.
-- shared/retention/archives-sql.ts owns every statement on this table.
CREATE TABLE archives (
  id              bigserial   PRIMARY KEY,
  kind            text        NOT NULL CHECK (kind IN ('raw', 'aggregate', 'reports')),
  unit            text        NOT NULL,
  range_start     timestamptz NOT NULL,
  range_end       timestamptz NOT NULL,
  status          text        NOT NULL
                  CHECK (status IN ('pending', 'verified', 'archived', 'deleted', 'restored', 'failed')),
  run_id          bigint,
  attempts        integer     NOT NULL DEFAULT 0,
  rows            bigint,
  bytes           bigint,
  manifest_key    text,
  manifest_sha256 text,
  objects         jsonb       NOT NULL DEFAULT '[]',
  error_code      text,
  error           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  verified_at     timestamptz,
  removed_at      timestamptz,
  restored_at     timestamptz,
  keep_until      timestamptz,
  UNIQUE (kind, unit),
  CHECK (range_start < range_end)
);
CREATE INDEX archives_status_idx ON archives (kind, status, range_start);

-- A raw day whose partition the sweep dropped must not come back half-filled: an event for it would create
-- an empty partition, mark its hour dirty, and the hour's aggregate would be recomputed from that one event.
-- Ingest refuses such events up front (shared/events, EVENT_DAY_ARCHIVED); this is the guard for the race
-- where the sweep drops the day between that check and the store. The sweep drops a partition holding the
-- same advisory lock, so the lookup here sees its commit. The error is a serialization failure: the batch
-- is retried, and the retry's up-front check turns the event into a dead letter.
CREATE OR REPLACE FUNCTION ensure_raw_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  part text := format('raw_events_%s', to_char(day, 'YYYYMMDD'));
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('hxp.raw_partition'), (day - date '2000-01-01'));
  -- Looked up before the partition: after waiting for the lock the catalog snapshot may still show a
  -- partition the sweep has just dropped (see 000003), while this statement sees the sweep's commit.
  IF EXISTS (SELECT 1 FROM archives
             WHERE kind = 'raw' AND unit = to_char(day, 'YYYY-MM-DD') AND status IN ('archived', 'deleted')) THEN
    RAISE EXCEPTION 'raw events of % are archived; the event cannot be stored', to_char(day, 'YYYY-MM-DD')
      USING ERRCODE = 'serialization_failure',
            HINT = 'restore the day (npm run restore) to store events for it again';
  END IF;
  IF to_regclass(part) IS NULL THEN
    BEGIN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF raw_events FOR VALUES FROM (%L) TO (%L)',
        part,
        (day::timestamp AT TIME ZONE 'UTC'),
        ((day + 1)::timestamp AT TIME ZONE 'UTC'));
    EXCEPTION WHEN duplicate_table THEN
      NULL; -- created by a concurrent transaction that committed while we waited
    END;
  END IF;
  RETURN part;
END $$;
