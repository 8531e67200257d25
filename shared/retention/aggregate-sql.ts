// The retention sweep's statements on aggregate_state and aggregate_sketch_bins: which months of a level
// are past retention and safe to remove, their rows for the archive, their figures, and the delete.
// A unit is one level's state of one calendar month (in the configured zone), buckets by their start.
import type { PoolClient } from 'pg';
import { levelsAbove, markStateRemoved, type Level } from '../aggregate/index.ts';
import type { Queryable } from '../db/index.ts';
import { normalizeDecimal } from './decimal.ts';
import type { AggregateFigures } from './manifest.ts';

export interface AggregateUnit {
  level: Level;
  /** YYYY-MM in the configured zone. */
  month: string;
  /** The month's start, and the later of its end and its last bucket's end (a week may run past it). */
  start: Date;
  end: Date;
  rows: number;
  bytes: number;
}

/** The unit name stored in archives.unit: `<level>/<YYYY-MM>`. */
export function aggregateUnitName(level: Level, month: string): string {
  return `${level}/${month}`;
}

/** Months of `level` holding state whose whole range ends at or before `cutoff`, oldest first. */
export async function listAggregateUnits(
  db: Queryable,
  level: Level,
  cutoff: Date,
  timeZone: string,
): Promise<AggregateUnit[]> {
  const { rows } = await db.query<{ month: string; start: Date; end: Date; rows: number }>(
    `WITH months AS (
       SELECT agg_bucket_start('month', bucket, $3) AS start, count(*)::int8 AS rows,
              max(agg_bucket_end(level, bucket, $3)) AS last_end
       FROM aggregate_state WHERE level = $1
       GROUP BY 1
     )
     SELECT to_char(start AT TIME ZONE $3, 'YYYY-MM') AS month, start,
            greatest(agg_bucket_end('month', start, $3), last_end) AS end, rows
     FROM months
     WHERE greatest(agg_bucket_end('month', start, $3), last_end) <= $2
     ORDER BY start`,
    [level, cutoff, timeZone],
  );
  // state and bins rows are about the same size across levels; the table share is an estimate
  const perRow = await bytesPerStateRow(db);
  return rows.map((r) => ({
    level,
    month: r.month,
    start: r.start,
    end: r.end,
    rows: Number(r.rows),
    bytes: Math.round(Number(r.rows) * perRow),
  }));
}

async function bytesPerStateRow(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ per_row: number | null }>(
    `SELECT (pg_total_relation_size('aggregate_state') + pg_total_relation_size('aggregate_sketch_bins'))::float8
            / nullif((SELECT count(*) FROM aggregate_state), 0) AS per_row`,
  );
  return Number(rows[0]?.per_row ?? 0);
}

/**
 * Why the unit cannot be removed yet, or undefined: a window of its own level in the range is still to be
 * (re)computed, or a window of a level that reads it (day for hours; week and month for days) overlapping
 * the range is — it would be rolled up from missing state.
 */
export async function aggregateUnitBlocker(
  db: Queryable,
  unit: AggregateUnit,
  timeZone: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ level: string; bucket: Date }>(
    `SELECT w.level, w.bucket FROM aggregation_windows w
     WHERE (w.done_seq IS NULL OR w.done_seq < w.changed_seq)
       AND ((w.level = $1 AND w.bucket >= $2 AND w.bucket < $3)
            OR (w.level = ANY ($4::text[]) AND w.bucket < $3 AND agg_bucket_end(w.level, w.bucket, $5) > $2))
     ORDER BY w.bucket LIMIT 1`,
    [unit.level, unit.start, unit.end, levelsAbove(unit.level), timeZone],
  );
  const first = rows[0];
  return first
    ? `the ${first.level} window ${first.bucket.toISOString()} is not final yet; ${unit.level} state of ${unit.month} is kept until it is`
    : undefined;
}

export const AGGREGATE_CURSOR = 'hxp_retention_aggregates';

/** Declares a cursor over the unit's state rows (with their sketch bins), in bucket and series order. */
export async function openAggregateCursor(client: PoolClient, unit: AggregateUnit): Promise<void> {
  await client.query(
    `DECLARE ${AGGREGATE_CURSOR} NO SCROLL CURSOR FOR
     SELECT s.level, (extract(epoch FROM s.bucket) * 1000000)::int8 AS bucket, s.event_type, s.metric, s.dimension,
            s.dimension_value, s.count, s.sum::float8 AS sum, s.sum::text AS sum_exact,
            s.sum_squares::text AS sum_squares, s.min, s.max, s.p50, s.p95, s.p99,
            (extract(epoch FROM s.computed_at) * 1000000)::int8 AS computed_at,
            coalesce(b.signs, '{}') AS signs, coalesce(b.keys, '{}') AS keys, coalesce(b.counts, '{}') AS counts
     FROM aggregate_state s
     LEFT JOIN aggregate_sketch_bins b USING (level, bucket, event_type, metric, dimension, dimension_value)
     WHERE s.level = '${unit.level}' AND s.bucket >= '${unit.start.toISOString()}' AND s.bucket < '${unit.end.toISOString()}'
     ORDER BY s.bucket, s.event_type, s.metric, s.dimension, s.dimension_value`,
  );
}

/** The unit's figures as PostgreSQL computes them. */
export async function liveAggregateFigures(db: Queryable, unit: AggregateUnit): Promise<AggregateFigures> {
  const args = [unit.level, unit.start, unit.end];
  const span = await db.query<{ rows: number; min_bucket: number | null; max_bucket: number | null }>(
    `SELECT count(*)::int8 AS rows, (extract(epoch FROM min(bucket)) * 1000000)::int8 AS min_bucket,
            (extract(epoch FROM max(bucket)) * 1000000)::int8 AS max_bucket
     FROM aggregate_state WHERE level = $1 AND bucket >= $2 AND bucket < $3`,
    args,
  );
  const series = await db.query<{
    event_type: string;
    metric: string;
    buckets: number;
    count: number;
    sum: string;
    min: number;
    max: number;
  }>(
    `SELECT event_type, metric, count(*)::int8 AS buckets, sum(count)::int8 AS count, sum(sum)::text AS sum,
            min(min) AS min, max(max) AS max
     FROM aggregate_state
     WHERE level = $1 AND bucket >= $2 AND bucket < $3 AND dimension = 'all'
     GROUP BY event_type, metric ORDER BY event_type, metric`,
    args,
  );
  const s = span.rows[0];
  return figures(
    Number(s?.rows ?? 0),
    s?.min_bucket ?? null,
    s?.max_bucket ?? null,
    series.rows.map((r) => ({ ...r, sum: normalizeDecimal(r.sum) })),
  );
}

export function figures(
  rows: number,
  minBucket: number | string | null,
  maxBucket: number | string | null,
  series: readonly {
    event_type: string;
    metric: string;
    buckets: number;
    count: number;
    sum: string;
    min: number;
    max: number;
  }[],
): AggregateFigures {
  const iso = (v: number | string | null) => (v === null ? null : new Date(Number(v) / 1000).toISOString());
  return {
    rows,
    min_bucket: iso(minBucket),
    max_bucket: iso(maxBucket),
    series: Object.fromEntries(
      series.map((r) => [
        `${r.event_type}/${r.metric}`,
        {
          buckets: Number(r.buckets),
          count: Number(r.count),
          sum: r.sum,
          min: Number(r.min),
          max: Number(r.max),
        },
      ]),
    ),
  };
}

/**
 * Deletes the unit's state and sketch bins, and marks its windows' state removed (removed-sources.ts in
 * shared/aggregate); returns the state rows deleted. An hour unit takes the quarter hours of its hours along
 * (shared/aggregate/quarters.ts): only days read them, and the blocker check has made sure no day overlapping
 * the unit is still to be computed.
 */
export async function deleteAggregateUnit(db: Queryable, unit: AggregateUnit): Promise<number> {
  const args = [unit.level, unit.start, unit.end];
  await db.query('DELETE FROM aggregate_sketch_bins WHERE level = $1 AND bucket >= $2 AND bucket < $3', args);
  if (unit.level === 'hour') {
    await db.query(
      `WITH bins AS (DELETE FROM aggregate_quarter_sketch_bins WHERE level = 'quarter' AND bucket >= $1 AND bucket < $2),
            state AS (DELETE FROM aggregate_quarter_state WHERE level = 'quarter' AND bucket >= $1 AND bucket < $2)
       DELETE FROM aggregate_quarter_hours WHERE hour >= $1 AND hour < $2`,
      [unit.start, unit.end],
    );
  }
  const { rowCount } = await db.query(
    'DELETE FROM aggregate_state WHERE level = $1 AND bucket >= $2 AND bucket < $3',
    args,
  );
  // a window re-opened later must not be recomputed from here on as if its state were whole
  await markStateRemoved(db, unit.level, unit.start, unit.end);
  return rowCount ?? 0;
}
