-- 000003 (ingest): ensure_raw_partition() raced. A creator that waited on the advisory lock still
-- looked the partition up with the catalog snapshot taken before the wait (an advisory lock does not
-- process catalog invalidations), missed the table the winner had just committed, and failed with
-- duplicate_table. The lookup stays as the fast path; the CREATE now tolerates the winner's table.
CREATE OR REPLACE FUNCTION ensure_raw_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  part text := format('raw_events_%s', to_char(day, 'YYYYMMDD'));
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('hxp.raw_partition'), (day - date '2000-01-01'));
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
