-- 000002: aggregation bucket arithmetic and job locks (owned by shared/aggregate and shared/jobs).

-- Start of the window of `level` containing `ts`. Hours are UTC; days, weeks and months are local to
-- `zone` and returned as the local midnight (a timestamptz). Weeks start on Monday (ISO) unless
-- week_start = 'sunday'. Zones whose offset is not a whole number of hours are refused in the
-- application before these are called, so every day starts on a UTC hour and hours nest in days.
CREATE FUNCTION agg_bucket_start(level text, ts timestamptz, zone text, week_start text DEFAULT 'monday')
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE level
    WHEN 'hour' THEN date_trunc('hour', ts, 'UTC')
    WHEN 'day' THEN date_trunc('day', ts, zone)
    WHEN 'week' THEN CASE WHEN week_start = 'sunday'
      THEN (date_trunc('week', (ts AT TIME ZONE zone) + interval '1 day') - interval '1 day') AT TIME ZONE zone
      ELSE date_trunc('week', ts, zone) END
    WHEN 'month' THEN date_trunc('month', ts, zone)
  END
$$;

-- End (exclusive) of the window of `level` starting at `bucket`. Local calendar arithmetic, so a DST
-- day lasts 23 or 25 hours and a month its own number of days.
CREATE FUNCTION agg_bucket_end(level text, bucket timestamptz, zone text)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE level
    WHEN 'hour' THEN bucket + interval '1 hour'
    ELSE ((bucket AT TIME ZONE zone) + CASE level
      WHEN 'day' THEN interval '1 day'
      WHEN 'week' THEN interval '7 days'
      ELSE interval '1 month' END) AT TIME ZONE zone
  END
$$;

-- One row per job that has ever run. A run claims the job by setting locked_by/locked_at in one
-- atomic upsert; a holder refreshes locked_at after every window, and a lock older than the lease
-- is stale (its holder died) and may be taken over. See shared/jobs/lock.ts for why a row and not
-- a session advisory lock.
CREATE TABLE job_locks (
  job        text        PRIMARY KEY,
  locked_by  text,
  locked_at  timestamptz,
  run_id     bigint
);

-- Windows still to do, oldest first, for the catch-up scan.
CREATE INDEX aggregation_windows_dirty_idx ON aggregation_windows (level, bucket)
  WHERE done_seq IS NULL OR done_seq < changed_seq;
