// The statements that rebuild one window's aggregate_state and aggregate_sketch_bins. A rollup is one
// INSERT…SELECT over the state below it (data-modifying CTEs write bins and state in one pass). A range of raw
// events (an hour, a quarter hour) is either one such statement over its raw rows (RANGE_SQL: the embedded
// PGlite, and the reference) or, on PostgreSQL, the COPY that sends its rows to Node and the statement that
// brings its series back (range-state.ts decides). Parameters of the INSERT…SELECTs: $1 level, $2 bucket (the
// range's start), and $3: the range's end for state read from raw events, the zone for rollups.
import type { PoolClient } from 'pg';
import type { Queryable } from '../db/index.ts';
import type { Level } from './levels.ts';
import { RANGE_COLUMNS } from './range-accumulator.ts';
import { sqlBinArrays, sqlKey, sqlSign, sqlSortedBinQuantiles } from '../sketch/index.ts';

const SERIES = 'event_type, metric, dimension, dimension_value';
const SERIES_C = SERIES.split(', ')
  .map((c) => `${c} COLLATE "C" AS ${c}`)
  .join(', ');
const QUANTILES = sqlSortedBinQuantiles({
  signs: 'm.signs',
  keys: 'm.keys',
  counts: 'm.counts',
  total: 'm.bin_total',
});

/** Where a statement writes: the windows' tables (hours and rollups alike), or the quarter hours' (000010). */
interface StateTables {
  state: string;
  bins: string;
}
const STATE_TABLES = {
  hour: { state: 'aggregate_state', bins: 'aggregate_sketch_bins' },
  quarter: { state: 'aggregate_quarter_state', bins: 'aggregate_quarter_sketch_bins' },
} as const satisfies Record<string, StateTables>;

/** A range whose state is read from raw events: an hour window, or a quarter of an hour a local day starts in. */
export type RangeGrain = 'hour' | 'quarter';

/**
 * The common tail: given CTEs `bins_in(series, sign, key, count)` with one row per (series, sign, key) and partial
 * states `stats_in(series, count, sum, sum_squares, min, max)` (several rows per series are merged), writes one
 * bins row per series (its bins as sorted arrays, sqlBinArrays) and the state rows with p50/p95/p99 read off those
 * arrays by shared/sketch (rank q·(n−1), interpolated between the bins holding its two neighbours as
 * percentile_cont does), clamped here to the exact [min, max]. Stats and bins meet in one GROUP BY over a UNION ALL
 * rather than a join (CTE row estimates are 1, and a join may be planned as a nested loop); each series has one
 * non-NULL set of arrays, so max() of the arrays is that set. The GROUP BYs sort (ordered aggregates), so they
 * compare the series bytewise (COLLATE "C"): any consistent order will do, and the database collation would
 * go through strcoll().
 */
function writeTail(rowsInExpr: string, target: StateTables = STATE_TABLES.hour): string {
  return `,
merged AS MATERIALIZED (
  SELECT ${SERIES}, sum(count)::bigint AS count, sum(sum) AS sum, sum(sum_squares) AS sum_squares,
         min(min) AS min, max(max) AS max, max(signs) AS signs, max(keys) AS keys, max(counts) AS counts,
         max(bin_total) AS bin_total
  FROM (
    SELECT ${SERIES_C}, count, sum, sum_squares, min, max,
           NULL::smallint[] AS signs, NULL::integer[] AS keys, NULL::bigint[] AS counts, NULL::bigint AS bin_total
    FROM stats_in
    UNION ALL
    SELECT ${SERIES_C}, NULL, NULL, NULL, NULL, NULL, ${sqlBinArrays('sign', 'key', 'count')},
           sum(count)::bigint
    FROM bins_in GROUP BY 1, 2, 3, 4
  ) AS parts
  GROUP BY 1, 2, 3, 4
),
ins_bins AS (
  INSERT INTO ${target.bins} (level, bucket, ${SERIES}, signs, keys, counts)
  SELECT $1::text, $2::timestamptz, ${SERIES}, signs, keys, counts FROM merged
),
ins_state AS (
  INSERT INTO ${target.state} (level, bucket, ${SERIES}, count, sum, sum_squares, min, max, p50, p95, p99)
  SELECT $1::text, $2::timestamptz, ${SERIES}, m.count, m.sum, m.sum_squares, m.min, m.max,
         least(greatest(q.p50, m.min), m.max), least(greatest(q.p95, m.min), m.max), least(greatest(q.p99, m.min), m.max)
  FROM merged AS m CROSS JOIN LATERAL ${QUANTILES} AS q
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
 * The state of the range [$2, $3) from raw events — an hour, or a quarter hour: one statement for both, so a
 * day assembled from hours and quarters holds exactly what one statement over the day would. Each metric
 * value is counted in every series seriesOf() gives its event. The exact stats and the sketch take separate
 * paths, so numeric sums are kept per series, not per bin. Both first group by everything that decides a
 * series (type, source, dimension arrays, metric; the sketch also by bin) — fewer rows, since dimension
 * combinations repeat — and then fan those partial states out to the series and add them up (numeric sums
 * are exact, so the order of addition does not matter). Each value is converted to numeric once, as an array.
 */
function rangeSql(grain: RangeGrain): string {
  // the leading comment tells the two apart in statement profiles and pg_stat_statements
  return (
    `/* ${grain} state */ WITH src AS MATERIALIZED (
  SELECT event_type, source, metric_names, metric_values, dimension_names, dimension_values
  FROM raw_events WHERE ts >= $2::timestamptz AND ts < $3::timestamptz
),
stats_base AS (
  SELECT s.event_type, s.source, s.dimension_names, s.dimension_values, m.metric,
         count(*) AS count, sum(m.num) AS sum, sum(m.num * m.num) AS sum_squares,
         min(m.value) AS min, max(m.value) AS max
  FROM src s
  CROSS JOIN LATERAL unnest(s.metric_names, s.metric_values, s.metric_values::numeric[]) AS m(metric, value, num)
  WHERE m.metric IS NOT NULL AND m.value IS NOT NULL
  GROUP BY 1, 2, 3, 4, 5
),
stats_in AS (
  SELECT b.event_type, b.metric, d.dimension, d.dimension_value,
         b.count, b.sum, b.sum_squares, b.min, b.max
  FROM stats_base b CROSS JOIN LATERAL ${seriesOf('b')}
),
bins_base AS (
  SELECT s.event_type, s.source, s.dimension_names, s.dimension_values, m.metric,
         ${sqlSign('m.value')} AS sign, ${sqlKey('m.value')} AS key, count(*) AS count
  FROM src s CROSS JOIN LATERAL unnest(s.metric_names, s.metric_values) AS m(metric, value)
  WHERE m.metric IS NOT NULL AND m.value IS NOT NULL
  GROUP BY 1, 2, 3, 4, 5, 6, 7
),
bins_in AS (
  SELECT b.event_type, b.metric, d.dimension, d.dimension_value, b.sign, b.key, sum(b.count)::bigint AS count
  FROM bins_base b CROSS JOIN LATERAL ${seriesOf('b')}
  GROUP BY 1, 2, 3, 4, 5, 6
)` + writeTail('SELECT count(*) FROM src', STATE_TABLES[grain])
  );
}

const RANGE_SQL = { hour: rangeSql('hour'), quarter: rangeSql('quarter') } as const;

const WINDOW_END = 'agg_bucket_end($1::text, $2::timestamptz, $3::text)';

/**
 * The stored state a rollup reads, as `SELECT <cols> FROM <table> WHERE <range>` parts. Weeks and months read
 * the days in [bucket, end): their edges are local midnights, which days start at. A day reads the hours
 * wholly inside it and, where it starts or ends inside a UTC hour (a zone with a half- or quarter-hour
 * offset), the quarters of those edge hours that fall in the day (shared/aggregate/quarters.ts makes sure
 * they are stored). The two conditions are each other's complement within [bucket, end), so nothing is
 * read twice: stale quarters of an hour wholly inside the day (stored for another zone) are never read.
 */
function rollupSources(below: Level): { table: StateTables; where: string }[] {
  if (below !== 'hour') {
    return [
      {
        table: STATE_TABLES.hour,
        where: `level = '${below}' AND bucket >= $2::timestamptz AND bucket < ${WINDOW_END}`,
      },
    ];
  }
  const hourOf = `date_trunc('hour', bucket, 'UTC')`;
  return [
    {
      table: STATE_TABLES.hour,
      where: `level = 'hour' AND bucket >= $2::timestamptz AND bucket <= ${WINDOW_END} - interval '1 hour'`,
    },
    {
      table: STATE_TABLES.quarter,
      where:
        // level leads the primary key: with it the bucket range is an index range as the table grows
        `level = 'quarter' AND bucket >= $2::timestamptz AND bucket < ${WINDOW_END} ` +
        `AND (${hourOf} < $2::timestamptz OR ${hourOf} > ${WINDOW_END} - interval '1 hour')`,
    },
  ];
}

/** A rollup from the stored state below it (rollupSources): sums add, bins add per key. */
function rollupSql(below: Level): string {
  const sources = rollupSources(below);
  const stats = sources
    .map((s) => `SELECT ${SERIES}, count, sum, sum_squares, min, max FROM ${s.table.state} WHERE ${s.where}`)
    .join('\n  UNION ALL\n  ');
  const bins = sources
    .map(
      (s) => `SELECT b.event_type, b.metric, b.dimension, b.dimension_value, b.signs, b.keys, b.counts
    FROM ${s.table.bins} AS b WHERE ${s.where}`,
    )
    .join('\n    UNION ALL\n    ');
  return (
    `WITH stats_in AS (
  ${stats}
),
bins_in AS (
  SELECT b.event_type, b.metric, b.dimension, b.dimension_value, u.sign, u.key, sum(u.count)::bigint AS count
  FROM (
    ${bins}
  ) AS b CROSS JOIN LATERAL unnest(b.signs, b.keys, b.counts) AS u(sign, key, count)
  GROUP BY 1, 2, 3, 4, 5, 6
)` + writeTail('SELECT count(*) FROM stats_in')
  );
}

const ROLLUP_SQL = { day: rollupSql('hour'), week: rollupSql('day'), month: rollupSql('day') } as const;

const HOUR_MS = 3_600_000;

/**
 * The statement that rebuilds a window of `level` (for EXPLAIN and benchmarks); its parameters are
 * windowStateParams(level, …).
 */
export function windowStateSql(level: Level): string {
  return level === 'hour' ? RANGE_SQL.hour : ROLLUP_SQL[level];
}

/** The parameters of windowStateSql(level): level, bucket, and the hour's end or the rollup's zone. */
export function windowStateParams(level: Level, bucket: Date, timeZone: string): unknown[] {
  return level === 'hour' ? [level, bucket, new Date(bucket.getTime() + HOUR_MS)] : [level, bucket, timeZone];
}

/**
 * work_mem of a window's transaction. A busy hour (~50k events) groups ~230k metric values; the planner
 * guesses a tenth of that as groups and, with the default 4MB, sorts them through temporary files instead of
 * hashing — three times slower per window at 10M events. The hash tables really used stay at a few MB; this
 * only lifts the guess over the line. Per sort or hash node, and windows run a few at a time.
 */
export const WINDOW_WORK_MEM = '64MB';

/**
 * Settings for the rest of a window's transaction (SET LOCAL ends with it): WINDOW_WORK_MEM, and JIT off:
 * the statement runs for milliseconds, and compiling its expressions (chosen once the estimates of a busy
 * hour pass jit_above_cost) took longer than the whole statement. With `prepared`, generic plans: the named
 * window statement is then planned once per connection instead of once per window; its shape is fixed by
 * the CTEs and the hour's partition is still pruned at run time, so a custom plan bought nothing.
 */
export async function tuneWindowTransaction(db: Queryable, prepared: boolean): Promise<void> {
  const settings = `SET LOCAL jit = off; SET LOCAL work_mem = '${WINDOW_WORK_MEM}'`;
  await db.query(prepared ? `${settings}; SET LOCAL plan_cache_mode = force_generic_plan` : settings);
}

/**
 * Empties the state of windows of one level. An hour's also takes its quarters and their marker (quarters.ts):
 * they are written again by the same recompute where the configured zone needs them, so no quarter outlives
 * the hour state it was computed with.
 */
export async function deleteWindowsState(
  db: Queryable,
  level: Level,
  buckets: readonly Date[],
): Promise<void> {
  const quarters =
    level === 'hour'
      ? `,
     hours AS (SELECT b AS hour, b + interval '1 hour' AS hour_end FROM unnest($2::timestamptz[]) AS b),
     quarter_bins AS (DELETE FROM aggregate_quarter_sketch_bins q USING hours h
                      WHERE q.level = 'quarter' AND q.bucket >= h.hour AND q.bucket < h.hour_end),
     quarter_state AS (DELETE FROM aggregate_quarter_state q USING hours h
                       WHERE q.level = 'quarter' AND q.bucket >= h.hour AND q.bucket < h.hour_end),
     quarter_hour AS (DELETE FROM aggregate_quarter_hours WHERE hour = ANY ($2::timestamptz[]))`
      : '';
  await db.query(
    `WITH bins AS (DELETE FROM aggregate_sketch_bins WHERE level = $1 AND bucket = ANY ($2::timestamptz[]))${quarters}
     DELETE FROM aggregate_state WHERE level = $1 AND bucket = ANY ($2::timestamptz[])`,
    [level, buckets],
  );
}

export interface StateCounts {
  rowsIn: number;
  rowsOut: number;
}

function stateCounts(rows: { rows_in: number; rows_out: number }[]): StateCounts {
  return { rowsIn: Number(rows[0]?.rows_in ?? 0), rowsOut: Number(rows[0]?.rows_out ?? 0) };
}

/**
 * Writes the state of one (already emptied) rollup window from the state below it; returns the rows read and
 * the state rows written. With `prepared`, the statement is a named one (parsed and planned once per
 * connection, see tuneWindowTransaction); the embedded PGlite is one session shared by reconnecting clients,
 * whose per-client record of prepared names would not match it, so it runs unnamed there. Hours are
 * range-state.ts's.
 */
export async function insertRollupState(
  db: PoolClient,
  level: Exclude<Level, 'hour'>,
  bucket: Date,
  timeZone: string,
  prepared: boolean,
): Promise<StateCounts> {
  const text = windowStateSql(level);
  const values = windowStateParams(level, bucket, timeZone);
  const { rows } = await db.query<{ rows_in: number; rows_out: number }>(
    prepared ? { name: `hxp_window_state_${level}`, text, values } : { text, values },
  );
  return stateCounts(rows);
}

/**
 * The state of the range [from, to) computed by PostgreSQL from raw events (RANGE_SQL), written as `grain`'s.
 * Prepared as insertRollupState.
 */
export async function insertRangeStateInSql(
  db: PoolClient,
  grain: RangeGrain,
  from: Date,
  to: Date,
  prepared: boolean,
): Promise<StateCounts> {
  const text = RANGE_SQL[grain];
  const values = [grain, from, to];
  const { rows } = await db.query<{ rows_in: number; rows_out: number }>(
    prepared ? { name: `hxp_range_state_${grain}`, text, values } : { text, values },
  );
  return stateCounts(rows);
}

/** A range's series computed in Node (range-state.ts), column by column, as insertSeriesState writes them. */
export interface SeriesColumns {
  eventTypes: string[];
  metrics: string[];
  dimensions: string[];
  dimensionValues: string[];
  counts: number[];
  /** numeric text */
  sums: string[];
  sumSquares: string[];
  /** float8 text (float8Text): -0 stays -0 */
  mins: string[];
  maxes: string[];
  p50: string[];
  p95: string[];
  p99: string[];
  /** Each series' bins as array literals ('{…}'), in the order of sqlBinArrays. */
  binSigns: string[];
  binKeys: string[];
  binCounts: string[];
}

/**
 * Writes a range's series as `grain`'s state and bins rows in one statement (one round trip: two COPYs took
 * four). $3.. are the SeriesColumns in order; numeric sums are read from their text, display scale included.
 */
function seriesStateSql(grain: RangeGrain): string {
  const target = STATE_TABLES[grain];
  return `/* ${grain} state from node */ WITH s AS (
  SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::numeric[], $9::numeric[],
    $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::text[], $16::text[], $17::text[])
    AS u(event_type, metric, dimension, dimension_value, count, sum, sum_squares, min, max, p50, p95, p99,
         signs, keys, counts)
),
ins_state AS (
  INSERT INTO ${target.state} (level, bucket, ${SERIES}, count, sum, sum_squares, min, max, p50, p95, p99)
  SELECT $1::text, $2::timestamptz, ${SERIES}, count, sum, sum_squares, min, max, p50, p95, p99 FROM s
)
INSERT INTO ${target.bins} (level, bucket, ${SERIES}, signs, keys, counts)
SELECT $1::text, $2::timestamptz, ${SERIES}, signs::smallint[], keys::integer[], counts::bigint[] FROM s`;
}

const SERIES_STATE_SQL = { hour: seriesStateSql('hour'), quarter: seriesStateSql('quarter') } as const;

/** Writes a range's series computed in Node (seriesStateSql). Prepared as insertRollupState. */
export async function insertSeriesState(
  db: PoolClient,
  grain: RangeGrain,
  from: Date,
  c: SeriesColumns,
  prepared: boolean,
): Promise<void> {
  const text = SERIES_STATE_SQL[grain];
  const values = [
    grain,
    from,
    c.eventTypes,
    c.metrics,
    c.dimensions,
    c.dimensionValues,
    c.counts,
    c.sums,
    c.sumSquares,
    c.mins,
    c.maxes,
    c.p50,
    c.p95,
    c.p99,
    c.binSigns,
    c.binKeys,
    c.binCounts,
  ];
  await db.query(prepared ? { name: `hxp_series_state_${grain}`, text, values } : { text, values });
}

/** A range's raw rows as a binary COPY of RANGE_COLUMNS (range-accumulator.ts reads them). */
export function rangeRowsCopySql(from: Date, to: Date): string {
  // COPY takes no parameters: the instants are written as literals, from Dates only
  return (
    `COPY (SELECT ${RANGE_COLUMNS} FROM raw_events ` +
    `WHERE ts >= '${from.toISOString()}'::timestamptz AND ts < '${to.toISOString()}'::timestamptz) ` +
    'TO STDOUT (FORMAT binary)'
  );
}
