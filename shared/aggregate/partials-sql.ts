// The statements on aggregate_partials (000011) and on the partial columns of an hour's window: what ingest
// adds, what the hourly job merges, and the raw path's replacement of an hour's partials by its state.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Queryable } from '../db/index.ts';
import { PARTIAL_COLUMNS, type PartialTuples } from './partial-tuples.ts';
import {
  PartialColumnRows,
  type BatchPartialsResult,
  type PartialColumns,
  type PartialHours,
} from './partials.ts';

const SERIES = 'event_type, metric, dimension, dimension_value';

/** The INSERT of partial rows given column by column as $1..$11 (partialParams). */
const INSERT_PARTIALS = `INSERT INTO aggregate_partials (${PARTIAL_COLUMNS})
  SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                       $7::numeric[], $8::numeric[], $9::float8[], $10::float8[], $11::bytea[])`;

function partialParams(c: PartialColumns): unknown[] {
  return [
    c.buckets,
    c.eventTypes,
    c.metrics,
    c.dimensions,
    c.dimensionValues,
    c.counts,
    c.sums,
    c.sumSquares,
    c.mins,
    c.maxes,
    c.bins,
  ];
}

/**
 * The upsert of a batch's UTC hours (sorted) given as $n, $n+1, $n+2 (hours, rows, complete): each marked
 * changed so aggregation recomputes it, with what the partials cover — an hour's window created here starts
 * complete when the batch's partials hold all its rows; once incomplete it stays so until the hourly job
 * replaces its partials (hour-partials.ts).
 */
function upsertHours(n: number): string {
  return `INSERT INTO aggregation_windows (level, bucket, changed_seq, partials_complete, partial_rows)
     SELECT 'hour', u.hour, nextval('window_change_seq'), u.complete, u.rows
     FROM unnest($${n}::timestamptz[], $${n + 1}::bigint[], $${n + 2}::boolean[]) AS u(hour, rows, complete)
     ON CONFLICT (level, bucket) DO UPDATE
       SET changed_seq = EXCLUDED.changed_seq, updated_at = now(),
           partials_complete = aggregation_windows.partials_complete AND EXCLUDED.partials_complete,
           partial_rows = aggregation_windows.partial_rows + EXCLUDED.partial_rows`;
}

const hourParams = (h: PartialHours): unknown[] => [h.hours, h.rows, h.complete];

/**
 * Records a batch's partials inside its ingest transaction: its partial rows and its hours (upsertHours).
 * Columns go in one statement with the hours; tuples by a binary COPY, then the hours.
 */
export async function recordPartials(
  db: PoolClient,
  { rows, hours }: BatchPartialsResult<PartialColumnRows | PartialTuples>,
): Promise<void> {
  if (hours.hours.length === 0) return;
  if (rows instanceof PartialColumnRows) {
    await db.query(`WITH partials AS (${INSERT_PARTIALS}) ${upsertHours(12)}`, [
      ...partialParams(rows.columns),
      ...hourParams(hours),
    ]);
    return;
  }
  if (rows.count > 0) {
    await pipeline(
      Readable.from(rows.stream(), { objectMode: false }),
      db.query(copyFrom(`COPY aggregate_partials (${PARTIAL_COLUMNS}) FROM STDIN (FORMAT binary)`)),
    );
  }
  await db.query(upsertHours(1), hourParams(hours));
}

/**
 * Writes an hour's partials anew (those before were taken by takeHourPartials) and records that they hold its
 * `rows` raw rows, all of them.
 */
export async function writeHourPartials(
  db: Queryable,
  bucket: Date,
  columns: PartialColumns,
  rows: number,
): Promise<void> {
  await db.query(
    `WITH partials AS (${INSERT_PARTIALS})
     UPDATE aggregation_windows SET partials_complete = true, partial_rows = $13
     WHERE level = 'hour' AND bucket = $12`,
    [...partialParams(columns), bucket, rows],
  );
}

/**
 * Locks the hours' windows (sorted, as touchHours takes them) for the rest of the hourly job's transaction:
 * a batch storing rows in one of them waits to commit until the job has, so the raw rows, partials and
 * changed_seq the job reads stay what they were — READ COMMITTED would otherwise let a batch in between the
 * job's read of an hour's raw rows and its replacement of the hour's partials.
 */
export async function lockHourWindows(db: Queryable, buckets: readonly Date[]): Promise<void> {
  await db.query(
    `SELECT 1 FROM aggregation_windows WHERE level = 'hour' AND bucket = ANY ($1::timestamptz[])
     ORDER BY bucket FOR UPDATE`,
    [buckets],
  );
}

/** A series' exact figures as a row of aggregate_state or of merged partials has them. */
interface SeriesFiguresRow {
  event_type: string;
  metric: string;
  dimension: string;
  dimension_value: string;
  count: number;
  /** numeric text */
  sum: string;
  sum_squares: string;
  min: number;
  max: number;
}

/** One series of an hour with its partials merged: exact sums by PostgreSQL, bins as their partials' bytes. */
export interface MergedPartialRow extends SeriesFiguresRow {
  /** Each partial's bins with its length before it (4 bytes), one after the other (BinsMerger.addFramed). */
  bins: Buffer;
}

export interface HourPartials {
  /** Whether the partials hold every raw row of the hour (else `series` is empty: read the raw rows). */
  complete: boolean;
  /** Raw rows the partials were computed from. */
  rowsIn: number;
  /** aggregate_partials rows merged. */
  partialRows: number;
  series: MergedPartialRow[];
}

/** Each hour's merged partials, in the order of `buckets`: one statement, one snapshot. */
export async function readHourPartials(db: Queryable, buckets: readonly Date[]): Promise<HourPartials[]> {
  const { rows } = await db.query<
    { o: number; complete: boolean; rows_in: number; partials: number | null } & {
      [K in keyof MergedPartialRow]: MergedPartialRow[K] | null;
    }
  >(
    `WITH w AS (
       SELECT b.o, b.bucket, coalesce(a.partials_complete, false) AS complete, coalesce(a.partial_rows, 0) AS rows_in
       FROM unnest($1::timestamptz[]) WITH ORDINALITY AS b(bucket, o)
       LEFT JOIN aggregation_windows a ON a.level = 'hour' AND a.bucket = b.bucket
     )
     SELECT w.o::int AS o, w.complete, w.rows_in, p.*
     FROM w LEFT JOIN LATERAL (
       SELECT ${SERIES}, sum(count)::bigint AS count, sum(sum)::text AS sum, sum(sum_squares)::text AS sum_squares,
              min(min) AS min, max(max) AS max, string_agg(int4send(length(bins)) || bins, ''::bytea) AS bins,
              count(*)::int AS partials
       FROM aggregate_partials WHERE bucket = w.bucket AND w.complete
       GROUP BY ${SERIES}
     ) AS p ON true`,
    [buckets],
  );
  const out: HourPartials[] = buckets.map(() => ({ complete: false, rowsIn: 0, partialRows: 0, series: [] }));
  for (const { partials, ...r } of rows) {
    const hour = out[r.o - 1]!;
    hour.complete = r.complete;
    hour.rowsIn = Number(r.rows_in);
    hour.partialRows += partials ?? 0;
    if (r.event_type !== null) hour.series.push(r as MergedPartialRow);
  }
  return out;
}

/** An hour's state and bins as stored, for replacePartialsWithState. */
export interface StoredSeriesRow extends SeriesFiguresRow {
  signs: number[];
  keys: number[];
  /** bigint[] elements come as text */
  counts: string[];
}

/** Deletes the hour's partials and reads its state just written, to be written back as its one partial. */
export async function takeHourPartials(db: Queryable, bucket: Date): Promise<StoredSeriesRow[]> {
  const { rows } = await db.query<StoredSeriesRow>(
    `WITH gone AS (DELETE FROM aggregate_partials WHERE bucket = $1)
     SELECT s.event_type, s.metric, s.dimension, s.dimension_value, s.count, s.sum::text AS sum,
            s.sum_squares::text AS sum_squares, s.min, s.max, b.signs, b.keys, b.counts
     FROM aggregate_state s
     JOIN aggregate_sketch_bins b USING (level, bucket, ${SERIES})
     WHERE s.level = 'hour' AND s.bucket = $1`,
    [bucket],
  );
  return rows;
}

/**
 * Deletes the partials of [from, to) as raw retention drops its rows; the hours count as incomplete after, so
 * that what is restored (and marked changed) is read from its raw rows.
 */
export async function deletePartialsBetween(db: Queryable, from: Date, to: Date): Promise<void> {
  await db.query(
    `WITH gone AS (DELETE FROM aggregate_partials WHERE bucket >= $1 AND bucket < $2)
     UPDATE aggregation_windows SET partials_complete = false, partial_rows = 0
     WHERE level = 'hour' AND bucket >= $1 AND bucket < $2`,
    [from, to],
  );
}
