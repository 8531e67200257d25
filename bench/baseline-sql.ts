// The yardstick of measurement 2: ONE plain SQL GROUP BY over the raw rows with exact
// percentile_cont(0.5, 0.95, 0.99), giving the same series as the hourly aggregation — per UTC hour, per
// event type and metric, for the total ('all'/'*'), per source, and per dimension of the event — with the
// series fan-out taken from the aggregation itself (seriesOf in shared/aggregate/state-sql.ts).

import { seriesOf } from '../shared/aggregate/state-sql.ts';

/** Literal ISO timestamps, not parameters: CREATE TABLE AS takes none. */
export function baselineSql(table: string, from: Date, to: Date): string {
  return `CREATE TEMP TABLE ${table} AS
SELECT date_trunc('hour', r.ts, 'UTC') AS bucket, r.event_type, m.metric, d.dimension, d.dimension_value,
       count(*) AS count, sum(m.value) AS sum, min(m.value) AS min, max(m.value) AS max,
       avg(m.value) AS avg, stddev_samp(m.value) AS stddev,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY m.value) AS pcts
FROM raw_events r
CROSS JOIN LATERAL unnest(r.metric_names, r.metric_values) AS m(metric, value)
CROSS JOIN LATERAL ${seriesOf('r')}
WHERE r.ts >= '${from.toISOString()}' AND r.ts < '${to.toISOString()}'
  AND m.metric IS NOT NULL AND m.value IS NOT NULL
GROUP BY 1, 2, 3, 4, 5`;
}

/**
 * Compares the baseline table with hourly_aggregations: series present in only one of them, and the
 * largest relative error of the sketch's p50/p95/p99 against the exact percentile_cont over every series of
 * at least 100 values (the sketch interpolates between neighbours as percentile_cont does, so 0/1 and
 * small-integer metrics are held to the same 1 % as continuous ones; an exact 0 has no relative error).
 */
export function compareSql(table: string): string {
  return `WITH j AS (
  SELECT b.metric, b.count, b.pcts, h.p50, h.p95, h.p99, b.bucket IS NULL AS only_hourly, h."timestamp" IS NULL AS only_baseline
  FROM ${table} b
  FULL JOIN hourly_aggregations h
    ON h."timestamp" = b.bucket AND h.event_type = b.event_type AND h.metric = b.metric
   AND h.dimension = b.dimension AND h.dimension_value = b.dimension_value
)
SELECT count(*) FILTER (WHERE NOT only_hourly AND NOT only_baseline)::int AS matched,
       count(*) FILTER (WHERE only_hourly)::int AS only_hourly,
       count(*) FILTER (WHERE only_baseline)::int AS only_baseline,
       max(greatest(abs(p50 - pcts[1]) / nullif(abs(pcts[1]), 0),
                    abs(p95 - pcts[2]) / nullif(abs(pcts[2]), 0),
                    abs(p99 - pcts[3]) / nullif(abs(pcts[3]), 0))) FILTER (WHERE count >= 100) AS max_rel_error
FROM j`;
}
