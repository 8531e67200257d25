// Reads a resource's hourly series from the data contract's view hourly_aggregations (never raw events):
// one row per hour per series, for the fleet (dimension 'all') and per host/source (dimension 'source').
import type { Queryable } from '../db/index.ts';
import type { SeriesSource, Statistic } from './resources.ts';

export interface HourlyRow {
  hour: Date;
  /** 'all' (the fleet) or 'source'. */
  dimension: string;
  /** '*' for the fleet, else the host/source name. */
  dimensionValue: string;
  value: number;
}

// With several metrics (or *), sum adds them up and count takes the most counted one (every event of the
// type carries it); a single metric's statistic passes through max() unchanged.
const VALUE: Record<Statistic, string> = {
  avg: 'max(avg)',
  sum: 'sum(sum)',
  count: 'max(count)',
  min: 'min(min)',
  max: 'max(max)',
  p50: 'max(p50)',
  p95: 'max(p95)',
  p99: 'max(p99)',
};

/** Hours in [from, to) of `source`, fleet and per source, ordered by series then hour. */
export async function readHourlySeries(
  db: Queryable,
  source: SeriesSource,
  from: Date,
  to: Date,
): Promise<HourlyRow[]> {
  const { rows } = await db.query<{ hour: Date; dimension: string; dimension_value: string; value: number }>(
    `SELECT "timestamp" AS hour, dimension, dimension_value, ${VALUE[source.statistic]}::float8 AS value
       FROM hourly_aggregations
      WHERE event_type = $1
        AND ($2::text[] IS NULL OR metric = ANY($2::text[]))
        AND dimension IN ('all', 'source')
        AND "timestamp" >= $3 AND "timestamp" < $4
      GROUP BY 1, 2, 3
      ORDER BY 2, 3, 1`,
    [source.eventType, source.metrics ?? null, from, to],
  );
  return rows
    .filter((r) => r.value !== null && Number.isFinite(r.value))
    .map((r) => ({
      hour: r.hour,
      dimension: r.dimension,
      dimensionValue: r.dimension_value,
      value: r.value,
    }));
}

/** End of the latest hour with aggregates of `eventType` (exclusive), or undefined when there is none. */
export async function latestHourEnd(db: Queryable, eventType: string): Promise<Date | undefined> {
  const { rows } = await db.query<{ latest: Date | null }>(
    `SELECT max(bucket) + interval '1 hour' AS latest
       FROM aggregate_state WHERE level = 'hour' AND event_type = $1`,
    [eventType],
  );
  return rows[0]?.latest ?? undefined;
}
