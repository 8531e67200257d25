// What the report builders read: the data contract's views (hourly/daily/weekly/monthly_aggregations), the
// stored sketch bins and quarter-hour state, the aggregation windows, the runs ledger and dead letters — never
// raw_events, so a report costs the same at 1M events as at 10M. Every statement is bounded by one period's
// buckets.
// Per-hour rows cover the period exactly: its whole UTC hours from the hourly view and, where the period starts
// or ends inside a UTC hour (a zone with a half- or quarter-hour offset), the part of that hour inside the
// period from the quarter-hour state a day's rollup reads too (shared/aggregate/hour-parts-sql.ts).
import { edgeHourParts, sqlHourPartSeries, type Level } from '../../aggregate/index.ts';
import type { Queryable } from '../../db/index.ts';
import { aggregationJobName } from '../../jobs/run-aggregation.ts';

export const VIEW_OF: Readonly<Record<Level, string>> = {
  hour: 'hourly_aggregations',
  day: 'daily_aggregations',
  week: 'weekly_aggregations',
  month: 'monthly_aggregations',
};

export interface SeriesRow {
  event_type: string;
  metric: string;
  dimension: string;
  dimension_value: string;
  count: number;
  sum: number;
  avg: number | null;
  min: number | null;
  max: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** Every series of one bucket of `level` (all, per source, per dimension). */
export async function bucketSeries(db: Queryable, level: Level, bucket: Date): Promise<SeriesRow[]> {
  const { rows } = await db.query<SeriesRow>(
    `SELECT event_type, metric, dimension, dimension_value, count::float8 AS count, sum, avg, min, max, p50, p95, p99
     FROM ${VIEW_OF[level]} WHERE "timestamp" = $1
     ORDER BY event_type, metric, dimension, dimension_value`,
    [bucket],
  );
  return rows;
}

export interface HourSeriesRow extends SeriesRow {
  hour: Date;
}

/**
 * The per-hour series of [start, end) as one relation (the aggregate views' columns and `timestamp_end`): the
 * hours wholly inside from hourly_aggregations, the edge hours' parts inside from their quarters. Parameters:
 * $1 start, $2 end, $3/$4 the parts' starts and ends (periodHoursParams).
 */
const PERIOD_HOURS = `(
  SELECT "timestamp", "timestamp" + interval '1 hour' AS timestamp_end, event_type, metric, dimension,
         dimension_value, count, sum, min, max, avg, stddev, p50, p95, p99
  FROM hourly_aggregations WHERE "timestamp" >= $1 AND "timestamp" <= $2::timestamptz - interval '1 hour'
  UNION ALL
  SELECT "timestamp", timestamp_end, event_type, metric, dimension, dimension_value, count, sum, min, max, avg,
         stddev, p50, p95, p99
  FROM (${sqlHourPartSeries('$3', '$4')}) AS part
)`;

function periodHoursParams(start: Date, end: Date): unknown[] {
  const parts = edgeHourParts(start, end);
  return [start, end, parts.map((p) => p.start.toISOString()), parts.map((p) => p.end.toISOString())];
}

export interface PeriodHourSeriesRow extends HourSeriesRow {
  /** The end of the row's span: the hour's, or the period's where it ends inside the hour. */
  hour_end: Date;
}

/** System metrics per host (source) and hour of [start, end), edge hours cut to the period (utilisation chart). */
export async function hostHours(db: Queryable, start: Date, end: Date): Promise<PeriodHourSeriesRow[]> {
  const { rows } = await db.query<PeriodHourSeriesRow>(
    `SELECT "timestamp" AS hour, timestamp_end AS hour_end, event_type, metric, dimension, dimension_value,
            count::float8 AS count, sum, avg, min, max, p50, p95, p99
     FROM ${PERIOD_HOURS} AS h
     WHERE event_type = 'system_metric' AND dimension = 'source'
     ORDER BY "timestamp", dimension_value, metric`,
    periodHoursParams(start, end),
  );
  return rows;
}

/** Bins of one series' stored sketch: representative value (by shared/sketch's mapping) is the caller's. */
export async function sketchBins(
  db: Queryable,
  level: Level,
  bucket: Date,
  eventType: string,
  metric: string,
): Promise<Array<{ sign: number; key: number; count: number }>> {
  const { rows } = await db.query<{ sign: number; key: number; count: string }>(
    `SELECT u.sign, u.key, u.count
     FROM aggregate_sketch_bins b CROSS JOIN LATERAL unnest(b.signs, b.keys, b.counts) AS u(sign, key, count)
     WHERE b.level = $1 AND b.bucket = $2 AND b.event_type = $3 AND b.metric = $4
       AND b.dimension = 'all' AND b.dimension_value = '*'
     ORDER BY u.sign, u.sign * u.key`,
    [level, bucket, eventType, metric],
  );
  return rows.map((r) => ({ sign: Number(r.sign), key: Number(r.key), count: Number(r.count) }));
}

export interface PeriodReadiness {
  /** done_seq of the period's own window; null when it has none (no data) or it was never done. */
  windowSeq: number | null;
  /** The period's window, or a window below it inside the period, still has work to do. */
  pending: number;
}

/**
 * Whether the aggregation of [start, end) at `level` is final: its own window done and no window of a finer
 * level inside it dirty (a day waits for its hours; a week or month for its days and hours). In a zone whose
 * days start inside a UTC hour (Asia/Kolkata) that hour counts too: its quarters hold the period's first minutes.
 */
export async function periodReadiness(
  db: Queryable,
  level: Level,
  start: Date,
  end: Date,
): Promise<PeriodReadiness> {
  const finer: Record<Level, string[]> = {
    hour: ['hour'],
    day: ['hour', 'day'],
    week: ['hour', 'day', 'week'],
    month: ['hour', 'day', 'month'],
  };
  const { rows } = await db.query<{ window_seq: string | null; pending: string }>(
    `SELECT (SELECT done_seq FROM aggregation_windows
              WHERE level = $1 AND bucket = $2 AND done_seq >= changed_seq) AS window_seq,
            (SELECT count(*) FROM aggregation_windows
              WHERE level = ANY($4::text[]) AND bucket >= date_trunc('hour', $2::timestamptz, 'UTC') AND bucket < $3
                AND (done_seq IS NULL OR done_seq < changed_seq)) AS pending`,
    [level, start, end, finer[level]],
  );
  const row = rows[0];
  return {
    windowSeq: row?.window_seq == null ? null : Number(row.window_seq),
    pending: Number(row?.pending ?? 0),
  };
}

export interface CompletenessRow {
  hours_with_data: number;
  hours_aggregated: number;
  hours_pending: number;
  hours_reopened: number;
}

/** Hour windows of [start, end): with data, final, not final, and aggregated more than once (runs ledger). */
export async function hourCompleteness(db: Queryable, start: Date, end: Date): Promise<CompletenessRow> {
  const { rows } = await db.query<Record<keyof CompletenessRow, string>>(
    `SELECT
       (SELECT count(DISTINCT "timestamp") FROM hourly_aggregations
         WHERE "timestamp" >= $1 AND "timestamp" < $2) AS hours_with_data,
       (SELECT count(*) FROM aggregation_windows
         WHERE level = 'hour' AND bucket >= $1 AND bucket < $2 AND done_seq >= changed_seq) AS hours_aggregated,
       (SELECT count(*) FROM aggregation_windows
         WHERE level = 'hour' AND bucket >= $1 AND bucket < $2
           AND (done_seq IS NULL OR done_seq < changed_seq)) AS hours_pending,
       (SELECT count(*) FROM (
          SELECT window_start FROM runs
          WHERE job = $3 AND status = 'succeeded' AND window_start >= $1 AND window_start < $2
          GROUP BY window_start HAVING count(*) > 1) AS again) AS hours_reopened`,
    [start, end, aggregationJobName('hour')],
  );
  const r = rows[0];
  return {
    hours_with_data: Number(r?.hours_with_data ?? 0),
    hours_aggregated: Number(r?.hours_aggregated ?? 0),
    hours_pending: Number(r?.hours_pending ?? 0),
    hours_reopened: Number(r?.hours_reopened ?? 0),
  };
}

/** Dead letters received in [start, end), per reason code. */
export async function deadLettersByReason(
  db: Queryable,
  start: Date,
  end: Date,
): Promise<Array<{ reason_code: string; count: number }>> {
  const { rows } = await db.query<{ reason_code: string; count: string }>(
    `SELECT reason_code, count(*) AS count FROM dead_letters
     WHERE received_at >= $1 AND received_at < $2 GROUP BY reason_code ORDER BY count(*) DESC, reason_code`,
    [start, end],
  );
  return rows.map((r) => ({ reason_code: r.reason_code, count: Number(r.count) }));
}

/** Daily totals (dimension all) of [start, end) for trends: one row per day and metric. */
export async function dailyTotals(db: Queryable, start: Date, end: Date): Promise<HourSeriesRow[]> {
  const { rows } = await db.query<HourSeriesRow>(
    `SELECT "timestamp" AS hour, event_type, metric, dimension, dimension_value, count::float8 AS count, sum, avg,
            min, max, p50, p95, p99
     FROM daily_aggregations
     WHERE "timestamp" >= $1 AND "timestamp" < $2 AND dimension = 'all'
     ORDER BY "timestamp", event_type, metric`,
    [start, end],
  );
  return rows;
}

export interface TimelineRow {
  bucket: Date;
  requests: number;
  errors: number;
  cost_usd: number;
  latency_p95_ms: number | null;
}

/** A timeline row's figures, over the llm_request rows (dimension all) of one bucket. */
const TIMELINE_FIGURES = `max(count)::float8 AS requests,
  coalesce(max(sum) FILTER (WHERE metric = 'error'), 0) AS errors,
  coalesce(max(sum) FILTER (WHERE metric = 'cost_usd'), 0) AS cost_usd,
  max(p95) FILTER (WHERE metric = 'latency_ms') AS latency_p95_ms`;

/** Requests (the count of llm_request's most-reported metric), errors, cost and p95 latency per bucket. */
export async function requestTimeline(
  db: Queryable,
  level: 'hour' | 'day',
  start: Date,
  end: Date,
): Promise<TimelineRow[]> {
  const { rows } = await db.query<TimelineRow>(
    `SELECT "timestamp" AS bucket, ${TIMELINE_FIGURES}
     FROM ${VIEW_OF[level]}
     WHERE "timestamp" >= $1 AND "timestamp" < $2 AND event_type = 'llm_request' AND dimension = 'all'
     GROUP BY "timestamp" ORDER BY "timestamp"`,
    [start, end],
  );
  return rows;
}

export interface HourTimelineRow extends TimelineRow {
  /** The end of the row's span: bucket + 1 h, or less at the period's edges (hourTimeline). */
  bucket_end: Date;
}

/**
 * requestTimeline's figures per hour of [start, end), covering it exactly: whole UTC hours, and where the
 * period starts or ends inside a UTC hour, the part of it inside the period. The rows add up to the period.
 */
export async function hourTimeline(db: Queryable, start: Date, end: Date): Promise<HourTimelineRow[]> {
  const { rows } = await db.query<HourTimelineRow>(
    `SELECT "timestamp" AS bucket, timestamp_end AS bucket_end, ${TIMELINE_FIGURES}
     FROM ${PERIOD_HOURS} AS h
     WHERE event_type = 'llm_request' AND dimension = 'all'
     GROUP BY 1, 2 ORDER BY 1`,
    periodHoursParams(start, end),
  );
  return rows;
}

/** Hours of [start, end) with any aggregated data (of any event type): the hours the platform was reporting. */
export async function hoursWithData(db: Queryable, start: Date, end: Date): Promise<Date[]> {
  const { rows } = await db.query<{ hour: Date }>(
    `SELECT DISTINCT "timestamp" AS hour FROM hourly_aggregations
     WHERE "timestamp" >= $1 AND "timestamp" < $2 AND dimension = 'all' ORDER BY 1`,
    [start, end],
  );
  return rows.map((r) => r.hour);
}
