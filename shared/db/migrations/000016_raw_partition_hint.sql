-- 000016 (ingest, retention): ensure_raw_partition as in 000009, with a truthful hint. 000009's said "restore
-- the day (npm run restore) to store events for it again", but a day the sweep removed takes no events even
-- restored (shared/events/archived-days.ts says why). Only the HINT text differs; 000009 stays as it landed.
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
            HINT = 'events for a day the retention sweep removed are no longer stored (its aggregates are final); ' ||
                   'the retried batch makes the event a dead letter (EVENT_DAY_ARCHIVED). A restore brings the ' ||
                   'day''s archived events back to read and recompute, not to take new ones';
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
