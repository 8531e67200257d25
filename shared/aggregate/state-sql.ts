// Set-based statements that rebuild one window's aggregate_state and aggregate_sketch_bins inside
// PostgreSQL. Each is one INSERT…SELECT per window (data-modifying CTEs write bins and state in one pass);
// no rows travel to Node. Parameters: $1 level, $2 bucket, and for rollups $3 zone.
import type { Queryable } from '../db/index.ts';
import type { Level } from './levels.ts';
import { sqlKey, sqlQuantileQuery, sqlSign } from '../sketch/index.ts';

const SERIES = 'event_type, metric, dimension, dimension_value';
const QUANTILES = sqlQuantileQuery({
  bins: 'bins_in',
  groupBy: ['event_type', 'metric', 'dimension', 'dimension_value'],
});

/**
 * The common tail: given CTEs `bins_in(series, sign, key, count)` and partial states
 * `stats_in(series, count, sum, sum_squares, min, max)` (several rows per series are merged), writes the
 * bins and the state rows with
 * p50/p95/p99 materialised by shared/sketch's quantile query (rank q·(n−1), interpolated between the bins
 * holding its two neighbours as percentile_cont does), clamped here to the exact [min, max]. Stats and quantiles meet in one
 * GROUP BY over a UNION ALL rather than a join: CTE row estimates are 1, and a join would be planned as a
 * nested loop re-running the quantile query per series.
 */
function writeTail(rowsInExpr: string): string {
  return `,
ins_bins AS (
  INSERT INTO aggregate_sketch_bins (level, bucket, ${SERIES}, sign, key, count)
  SELECT $1::text, $2::timestamptz, ${SERIES}, sign, key, count FROM bins_in
),
q AS (
${QUANTILES}
),
ins_state AS (
  INSERT INTO aggregate_state (level, bucket, ${SERIES}, count, sum, sum_squares, min, max, p50, p95, p99)
  SELECT $1::text, $2::timestamptz, ${SERIES}, count, sum, sum_squares, min, max,
         least(greatest(p50, min), max), least(greatest(p95, min), max), least(greatest(p99, min), max)
  FROM (
    SELECT ${SERIES}, sum(count)::bigint AS count, sum(sum) AS sum, sum(sum_squares) AS sum_squares,
           min(min) AS min, max(max) AS max, max(p50) AS p50, max(p95) AS p95, max(p99) AS p99
    FROM (
      SELECT ${SERIES}, count, sum, sum_squares, min, max,
             NULL::float8 AS p50, NULL::float8 AS p95, NULL::float8 AS p99
      FROM stats_in
      UNION ALL
      SELECT ${SERIES}, NULL, NULL, NULL, NULL, NULL, p50, p95, p99 FROM q
    ) AS parts
    GROUP BY ${SERIES}
  ) AS merged
  RETURNING 1
)
SELECT (${rowsInExpr})::bigint AS rows_in, (SELECT count(*) FROM ins_state)::bigint AS rows_out`;
}

/**
 * The series a row of `alias` (with source, dimension_names, dimension_values) belongs to, as a LATERAL
 * relation d(dimension, dimension_value): the total ('all'/'*'), 'source'/<source>, and one per dimension
 * (names 'all' and 'source' are reserved for the first two). unnest of two arrays pads the shorter with
 * NULLs, which are dropped. Exported so other queries over raw events (the benchmark's yardstick) group
 * exactly the same way.
 */
export function seriesOf(alias: string): string {
  return `(
    SELECT 'all'::text, '*'::text
    UNION ALL SELECT 'source', ${alias}.source
    UNION ALL SELECT u.name, u.value FROM unnest(${alias}.dimension_names, ${alias}.dimension_values) AS u(name, value)
      WHERE u.name IS NOT NULL AND u.value IS NOT NULL AND u.name NOT IN ('all', 'source')
  ) AS d(dimension, dimension_value)`;
}

/**
 * Hour from raw events, each metric value counted in every series seriesOf() gives its event.
 * Two stages keep the per-value work to one pass: `base` maps each value to its sketch bin once and groups
 * by everything that decides its series (type, source, dimension arrays, metric, bin) — few groups, since
 * dimension combinations repeat; `fine` then fans those partial states out to the series and adds them up
 * (numeric sums are exact, so the order of addition does not matter).
 */
const HOUR_SQL =
  `WITH src AS MATERIALIZED (
  SELECT event_type, source, metric_names, metric_values, dimension_names, dimension_values
  FROM raw_events WHERE ts >= $2::timestamptz AND ts < $2::timestamptz + interval '1 hour'
),
base AS (
  SELECT s.event_type, s.source, s.dimension_names, s.dimension_values, m.metric,
         ${sqlSign('m.value')} AS sign, ${sqlKey('m.value')} AS key,
         count(*) AS count, sum(m.value::numeric) AS sum, sum(m.value::numeric * m.value::numeric) AS sum_squares,
         min(m.value) AS min, max(m.value) AS max
  FROM src s CROSS JOIN LATERAL unnest(s.metric_names, s.metric_values) AS m(metric, value)
  WHERE m.metric IS NOT NULL AND m.value IS NOT NULL
  GROUP BY 1, 2, 3, 4, 5, 6, 7
),
fine AS MATERIALIZED (
  SELECT b.event_type, b.metric, d.dimension, d.dimension_value, b.sign, b.key,
         sum(b.count)::bigint AS count, sum(b.sum) AS sum, sum(b.sum_squares) AS sum_squares,
         min(b.min) AS min, max(b.max) AS max
  FROM base b
  CROSS JOIN LATERAL ${seriesOf('b')}
  GROUP BY 1, 2, 3, 4, 5, 6
),
bins_in AS (SELECT ${SERIES}, sign, key, count FROM fine),
stats_in AS (SELECT ${SERIES}, count, sum, sum_squares, min, max FROM fine)` +
  writeTail('SELECT count(*) FROM src');

/** A rollup from the stored state of `below` in [bucket, end of bucket in zone): sums add, bins add per key. */
function rollupSql(below: Level): string {
  const range = `level = '${below}' AND bucket >= $2::timestamptz AND bucket < agg_bucket_end($1::text, $2::timestamptz, $3::text)`;
  return (
    `WITH bins_in AS (
  SELECT ${SERIES}, sign, key, sum(count)::bigint AS count
  FROM aggregate_sketch_bins WHERE ${range}
  GROUP BY ${SERIES}, sign, key
),
stats_in AS (
  SELECT ${SERIES}, count, sum, sum_squares, min, max FROM aggregate_state WHERE ${range}
)` + writeTail('SELECT count(*) FROM stats_in')
  );
}

const ROLLUP_SQL = { day: rollupSql('hour'), week: rollupSql('day'), month: rollupSql('day') } as const;

/** The statement that rebuilds a window of `level` (for EXPLAIN and benchmarks): $1 level, $2 bucket, $3 zone. */
export function windowStateSql(level: Level): string {
  return level === 'hour' ? HOUR_SQL : ROLLUP_SQL[level];
}

export async function deleteWindowState(db: Queryable, level: Level, bucket: Date): Promise<void> {
  await db.query('DELETE FROM aggregate_sketch_bins WHERE level = $1 AND bucket = $2', [level, bucket]);
  await db.query('DELETE FROM aggregate_state WHERE level = $1 AND bucket = $2', [level, bucket]);
}

/** Writes the state of one (already emptied) window; returns the rows read and the state rows written. */
export async function insertWindowState(
  db: Queryable,
  level: Level,
  bucket: Date,
  timeZone: string,
): Promise<{ rowsIn: number; rowsOut: number }> {
  const { rows } =
    level === 'hour'
      ? await db.query<{ rows_in: number; rows_out: number }>(HOUR_SQL, [level, bucket])
      : await db.query<{ rows_in: number; rows_out: number }>(ROLLUP_SQL[level], [level, bucket, timeZone]);
  return { rowsIn: Number(rows[0]?.rows_in ?? 0), rowsOut: Number(rows[0]?.rows_out ?? 0) };
}
