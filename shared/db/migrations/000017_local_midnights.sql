-- 000017 (aggregate): days, weeks and months start at the first instant of their local date, also where the
-- clocks skip or repeat a midnight; and each window ends where the next one starts.
--
-- 000002 took a window's start from date_trunc in the zone, that is `local midnight AT TIME ZONE zone`, and
-- its end from the start's wall time plus the unit. Two kinds of zone broke that:
-- - A skipped midnight (America/Santiago 2026-09-06, America/Asuncion 2026-10-04: 00:00 → 01:00). The day
--   starts at 01:00 (04:00Z in Santiago); a day added to that wall time gave 01:00 the next day (04:00Z) while
--   the next day starts at 00:00 (03:00Z), so the day also rolled up the next day's first hour, and a week
--   starting that Sunday (weeks from Sunday) took the whole next Sunday: counted twice in days, weeks, months.
-- - A repeated midnight (America/Havana 2026-11-01, Atlantic/Azores 2026-10-25: 01:00 → 00:00). AT TIME ZONE
--   takes the second 00:00, so the hour from the first one, already on the new date, fell in the day before,
--   and a late event in it re-opened the day after instead of the day that holds it.
-- agg_local_instant places a local wall time as a calendar does: a repeated time at its first occurrence, a
-- skipped one where AT TIME ZONE puts it (after the gap). Both window functions place local midnights with it.
--
-- Windows rolled up by the old functions are not found here (the zone is a setting, not stored). In a zone
-- that skips or repeats a midnight, backfill the days, weeks and months of those changes (README: backfill);
-- a dirty window whose bucket is no longer a start is moved by the jobs (rekeyStaleWindows).
CREATE FUNCTION agg_local_instant(wall timestamp, zone text)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  -- The same wall time with the offset of a day before: the earlier occurrence when the time repeats.
  SELECT CASE
    WHEN ((wall - interval '1 day') AT TIME ZONE zone + interval '1 day') < (wall AT TIME ZONE zone)
     AND (((wall - interval '1 day') AT TIME ZONE zone + interval '1 day') AT TIME ZONE zone) = wall
    THEN (wall - interval '1 day') AT TIME ZONE zone + interval '1 day'
    ELSE wall AT TIME ZONE zone
  END
$$;

COMMENT ON FUNCTION agg_local_instant(timestamp, text) IS
  'The instant of local wall time wall in zone: a repeated time at its first occurrence, a skipped one after the gap.';

CREATE OR REPLACE FUNCTION agg_bucket_start(level text, ts timestamptz, zone text, week_start text DEFAULT 'monday')
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE level
    WHEN 'hour' THEN date_trunc('hour', ts, 'UTC')
    ELSE agg_local_instant(CASE level
      WHEN 'day' THEN date_trunc('day', ts AT TIME ZONE zone)
      WHEN 'week' THEN CASE WHEN week_start = 'sunday'
        THEN date_trunc('week', (ts AT TIME ZONE zone) + interval '1 day') - interval '1 day'
        ELSE date_trunc('week', ts AT TIME ZONE zone) END
      ELSE date_trunc('month', ts AT TIME ZONE zone) END, zone)
  END
$$;

CREATE OR REPLACE FUNCTION agg_bucket_end(level text, bucket timestamptz, zone text)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE level
    WHEN 'hour' THEN bucket + interval '1 hour'
    WHEN 'month' THEN agg_local_instant(date_trunc('month', (bucket AT TIME ZONE zone) + interval '1 month'), zone)
    ELSE agg_local_instant(date_trunc('day', (bucket AT TIME ZONE zone) + CASE level
      WHEN 'day' THEN interval '1 day'
      ELSE interval '7 days' END), zone)
  END
$$;

COMMENT ON FUNCTION agg_bucket_start(text, timestamptz, text, text) IS
  'Start of the window of level containing ts: hours in UTC; days, weeks, months at the first instant of their local date in zone.';
COMMENT ON FUNCTION agg_bucket_end(text, timestamptz, text) IS
  'End (exclusive) of the window of level starting at bucket: where the next window starts.';
