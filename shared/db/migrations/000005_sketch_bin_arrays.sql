-- 000005 (aggregate): sketch bins stored as one row per series instead of one row per bin.
-- Writing ~4000 narrow rows per hour under an 8-column text primary key was a quarter of an hourly
-- window's time. A series' bins now sit in three parallel arrays in value order (sign, then sign·key:
-- negatives by descending key, the zero bin, positives by ascending key), so the quantiles of a window
-- are read off the arrays by running count and a rollup merges by unnest(). Counts are summed per
-- (sign, key) as before: the sketch's content is unchanged, only its layout. The views do not read this
-- table and stay as they are.
CREATE TABLE aggregate_sketch_series (
  level           text        NOT NULL,
  bucket          timestamptz NOT NULL,
  event_type      text        NOT NULL,
  metric          text        NOT NULL,
  dimension       text        NOT NULL,
  dimension_value text        NOT NULL,
  signs           smallint[]  NOT NULL,
  keys            integer[]   NOT NULL,
  counts          bigint[]    NOT NULL,
  PRIMARY KEY (level, bucket, event_type, metric, dimension, dimension_value),
  CONSTRAINT aggregate_sketch_bins_parallel CHECK (cardinality(signs) = cardinality(keys) AND cardinality(keys) = cardinality(counts))
);

-- Existing bins (a database aggregated before this migration) keep working: same bins, new layout.
INSERT INTO aggregate_sketch_series (level, bucket, event_type, metric, dimension, dimension_value, signs, keys, counts)
SELECT level, bucket, event_type, metric, dimension, dimension_value,
       array_agg(sign ORDER BY sign, sign * key),
       array_agg(key ORDER BY sign, sign * key),
       array_agg(count ORDER BY sign, sign * key)
FROM aggregate_sketch_bins
GROUP BY level, bucket, event_type, metric, dimension, dimension_value;

DROP TABLE aggregate_sketch_bins;
ALTER TABLE aggregate_sketch_series RENAME TO aggregate_sketch_bins;
ALTER INDEX aggregate_sketch_series_pkey RENAME TO aggregate_sketch_bins_pkey;
