-- 000010 (aggregate): every time zone. A zone whose UTC offset is not a whole number of hours (Asia/Kolkata
-- +05:30, Asia/Kathmandu +05:45, Australia/Adelaide +09:30/+10:30) starts its days inside a UTC hour, at a
-- quarter hour. Hours stay UTC hours; for an hour in which a local day starts, the hour's window also stores
-- the state of its four quarter hours here, and a day rolls up the hours wholly inside it plus the quarters
-- at its edges. A quarter's state depends only on its 15 minutes, not on the zone, so a change of zone leaves
-- nothing stale: at worst a day finds the quarters of an edge hour missing and computes them itself.
-- Own tables (same columns as aggregate_state / aggregate_sketch_bins, level 'quarter'), so no view, report,
-- query or retention unit of the four levels ever sees them.
CREATE TABLE aggregate_quarter_state (LIKE aggregate_state INCLUDING DEFAULTS INCLUDING INDEXES,
  CHECK (level = 'quarter'));
CREATE TABLE aggregate_quarter_sketch_bins (LIKE aggregate_sketch_bins INCLUDING DEFAULTS INCLUDING INDEXES
  INCLUDING CONSTRAINTS, CHECK (level = 'quarter'));

-- The hours whose four quarters are stored (possibly with no rows: quarters without events). Written and
-- deleted in the same transaction as the quarters, so "stored" and "current" are the same thing; an hour's
-- recompute deletes its row and quarters and writes them again where the configured zone needs them.
CREATE TABLE aggregate_quarter_hours (
  hour        timestamptz PRIMARY KEY,
  computed_at timestamptz NOT NULL DEFAULT now()
);

-- agg_bucket_start / agg_bucket_end (000002) serve any IANA zone as they are: date_trunc in a zone and local
-- calendar arithmetic place a day's start at its local midnight whatever the offset. Their comment's
-- "whole hours only" no longer holds; the functions are unchanged.
COMMENT ON FUNCTION agg_bucket_start(text, timestamptz, text, text) IS
  'Start of the window of level containing ts: hours in UTC; days, weeks, months at local midnights of zone (any offset).';
