-- 000011 (aggregate): partial hourly state written at ingest. Each ingest transaction adds, beside its raw
-- rows, one row per (UTC hour, series) of what its kept events hold there: count, exact numeric sums, min, max
-- and the sketch bins (bins-bytes.ts: varint pairs, one bytea rather than three arrays, so a partial is sent
-- and read as one value instead of an element per bin). The hourly job merges an hour's partials instead of
-- reading its raw rows. Late events are more partial rows; nothing here is ever updated.
CREATE TABLE aggregate_partials (
  bucket          timestamptz      NOT NULL,
  event_type      text             NOT NULL,
  metric          text             NOT NULL,
  dimension       text             NOT NULL,
  dimension_value text             NOT NULL,
  count           bigint           NOT NULL,
  sum             numeric          NOT NULL,
  sum_squares     numeric          NOT NULL,
  min             double precision NOT NULL,
  max             double precision NOT NULL,
  bins            bytea            NOT NULL
);
CREATE INDEX aggregate_partials_bucket ON aggregate_partials (bucket);

-- Whether an hour's partials hold every raw row of the hour (hour windows only). Only ingest creating the
-- hour's window sets it, with partials for everything it stored there; any later batch whose partials could
-- not be computed (rows only the SQL statement handles), a restore of archived rows, a backfill of an hour
-- without a window, and every hour that existed before this migration leave it false: such an hour is
-- computed from its raw rows, the reference path, for good.
ALTER TABLE aggregation_windows
  ADD COLUMN partials_complete boolean NOT NULL DEFAULT false,
  -- raw rows the hour's partials were computed from (the hourly job's rows_in when it merges them)
  ADD COLUMN partial_rows bigint NOT NULL DEFAULT 0;
