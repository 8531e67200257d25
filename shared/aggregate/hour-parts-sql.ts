// The series of a part of a UTC hour, read from the quarter-hour state (000010, quarters.ts). Where a local
// day starts inside a UTC hour (Asia/Kolkata, +05:30), what happened in the day's first and last minutes is
// known only from the quarters of the two edge hours; a day's rollup reads them (state-sql.ts rollupSources),
// and so must anything that splits a day, a week or a month into hours and wants the parts to add up to it
// (the reports' hourly rows). The quarters are merged as that rollup merges them: counts, sums, sums of
// squares, min and max added up, the sketch bins added per key and p50/p95/p99 read off the merged bins,
// clamped to the exact [min, max].
import { sqlBinArrays, sqlSortedBinQuantiles } from '../sketch/index.ts';

const HOUR_MS = 3_600_000;
const SERIES = 'event_type, metric, dimension, dimension_value';
const QUANTILES = sqlSortedBinQuantiles({
  signs: 'b.signs',
  keys: 'b.keys',
  counts: 'b.counts',
  total: 'b.bin_total',
});

/** A part of one UTC hour, [start, end), on quarter-hour bounds. */
export interface HourPart {
  start: Date;
  end: Date;
}

/**
 * The parts of UTC hours that [start, end) covers only in part: from `start` to the end of the hour it starts
 * inside, and from the start of the hour `end` falls inside to `end`. None when both are whole hours (UTC and
 * every zone whose offset is a whole number of hours).
 */
export function edgeHourParts(start: Date, end: Date): HourPart[] {
  const parts: HourPart[] = [];
  const s = start.getTime();
  const e = end.getTime();
  if (s % HOUR_MS !== 0)
    parts.push({ start, end: new Date(Math.min(e, (Math.floor(s / HOUR_MS) + 1) * HOUR_MS)) });
  const lastHour = Math.floor(e / HOUR_MS) * HOUR_MS;
  if (e % HOUR_MS !== 0 && lastHour >= s) parts.push({ start: new Date(lastHour), end });
  return parts;
}

/**
 * A relation with the columns of the aggregate views ("timestamp" the part's start) and `timestamp_end`: per
 * hour part, each series of the quarters stored in it. `starts` and `ends` are SQL expressions of two
 * timestamptz[] of equal length (parameters: the parts of edgeHourParts). Quarters are stored for every hour
 * a local day of the configured zone starts in, once that hour or the day is aggregated; a part of an hour
 * with none stored has no rows.
 */
export function sqlHourPartSeries(starts: string, ends: string): string {
  const series = (alias: string): string =>
    SERIES.split(', ')
      .map((c) => `${alias}.${c}`)
      .join(', ');
  const s = series('s');
  return `WITH parts AS (
  SELECT * FROM unnest(${starts}::timestamptz[], ${ends}::timestamptz[]) AS p(part_start, part_end)
),
stats AS (
  SELECT p.part_start, p.part_end, ${s}, sum(s.count)::bigint AS count, sum(s.sum) AS sum,
         sum(s.sum_squares) AS sum_squares, min(s.min) AS min, max(s.max) AS max
  FROM parts p
  JOIN aggregate_quarter_state s ON s.level = 'quarter' AND s.bucket >= p.part_start AND s.bucket < p.part_end
  GROUP BY 1, 2, 3, 4, 5, 6
),
bins AS (
  SELECT part_start, ${SERIES}, ${sqlBinArrays('sign', 'key', 'count')}, sum(count)::bigint AS bin_total
  FROM (
    SELECT p.part_start, ${series('b')}, u.sign, u.key, sum(u.count)::bigint AS count
    FROM parts p
    JOIN aggregate_quarter_sketch_bins b
      ON b.level = 'quarter' AND b.bucket >= p.part_start AND b.bucket < p.part_end
    CROSS JOIN LATERAL unnest(b.signs, b.keys, b.counts) AS u(sign, key, count)
    GROUP BY 1, 2, 3, 4, 5, 6, 7
  ) AS per_key
  GROUP BY 1, 2, 3, 4, 5
)
SELECT s.part_start AS "timestamp", s.part_end AS timestamp_end, ${s}, s.count, s.sum::float8 AS sum,
       s.min, s.max, (s.sum / s.count)::float8 AS avg,
       CASE WHEN s.count > 1
            THEN sqrt(greatest((s.count * s.sum_squares - s.sum * s.sum) / (s.count * (s.count - 1)), 0))::float8
       END AS stddev,
       least(greatest(q.p50, s.min), s.max) AS p50, least(greatest(q.p95, s.min), s.max) AS p95,
       least(greatest(q.p99, s.min), s.max) AS p99
FROM stats s
LEFT JOIN bins b USING (part_start, ${SERIES})
LEFT JOIN LATERAL ${QUANTILES} AS q ON true`;
}
