// The one place a range's state (an hour window's, or a quarter hour's) is computed from raw events. On
// PostgreSQL the range's rows leave by binary COPY and Node adds them up (range-accumulator.ts): the range
// statement spent most of its time converting every value to numeric, taking its logarithm and grouping by
// bin inside the executor: ~60 ms for an hour of ~3,000 events of the 1M benchmark, ~20 µs per event;
// Node does the same work for a few µs. The series
// go back in one statement, p50/p95/p99 read off the bins in Node with the SQL tail's arithmetic. The embedded
// PGlite's socket speaks no COPY: there, and for a range holding what the accumulator does not mirror, the
// SQL statement computes it. Both give the same rows to the last digit
// (test/integration/aggregate-range-node.test.ts).
import type { PoolClient } from 'pg';
import { clampedToRange, sortedBinsQuantile } from '../sketch/index.ts';
import { BinaryCopyDecoder } from '../db/binary-copy-decoder.ts';
import { copyOutChunks } from '../db/copy-out.ts';
import { RANGE_FIELD_COUNT, RangeAccumulator, type SeriesState } from './range-accumulator.ts';
import {
  insertRangeStateInSql,
  insertSeriesState,
  rangeRowsCopySql,
  type SeriesColumns,
  type RangeGrain,
  type StateCounts,
} from './state-sql.ts';

/** How a window's statements run: recompute.ts picks it per database. */
export interface WindowMode {
  /** Named statements, planned once per connection (not on PGlite, one session shared by its clients). */
  prepared: boolean;
  /** Ranges added up in Node from a binary COPY (not on PGlite, whose socket speaks no COPY). */
  rangeInNode: boolean;
}

export function windowMode(embedded: boolean): WindowMode {
  return { prepared: !embedded, rangeInNode: !embedded };
}

/** Adds up the raw rows of [from, to) as they stream in; one snapshot with the transaction's other reads. */
export async function accumulateRange(
  db: PoolClient,
  from: Date,
  to: Date,
  accumulator = new RangeAccumulator(),
): Promise<RangeAccumulator> {
  const decoder = new BinaryCopyDecoder(RANGE_FIELD_COUNT, (buffer, fields) =>
    accumulator.add(buffer, fields),
  );
  for await (const chunk of copyOutChunks(db, rangeRowsCopySql(from, to))) decoder.push(chunk);
  decoder.finish();
  return accumulator;
}

/** A finite float8 as text that reads back as the same float8: String(), but -0 stays -0. */
export const float8Text = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

/**
 * The series column by column, for insertSeriesState. p50/p95/p99 are read off the bins by sortedBinsQuantile,
 * the same float8 as the SQL tail computes, clamped to [min, max] as it is.
 */
export function seriesColumns(series: Iterable<SeriesState>): SeriesColumns {
  const c: SeriesColumns = {
    eventTypes: [],
    metrics: [],
    dimensions: [],
    dimensionValues: [],
    counts: [],
    sums: [],
    sumSquares: [],
    mins: [],
    maxes: [],
    p50: [],
    p95: [],
    p99: [],
    binSigns: [],
    binKeys: [],
    binCounts: [],
  };
  for (const s of series) {
    const total = s.counts.reduce((a, b) => a + b, 0);
    const quantile = (q: number): number =>
      clampedToRange(sortedBinsQuantile(s.signs, s.keys, s.counts, total, q), s.min, s.max);
    c.eventTypes.push(s.eventType);
    c.metrics.push(s.metric);
    c.dimensions.push(s.dimension);
    c.dimensionValues.push(s.dimensionValue);
    c.counts.push(s.count);
    c.sums.push(s.sum);
    c.sumSquares.push(s.sumSquares);
    c.mins.push(float8Text(s.min));
    c.maxes.push(float8Text(s.max));
    c.p50.push(float8Text(quantile(0.5)));
    c.p95.push(float8Text(quantile(0.95)));
    c.p99.push(float8Text(quantile(0.99)));
    c.binSigns.push(`{${s.signs.join(',')}}`);
    c.binKeys.push(`{${s.keys.join(',')}}`);
    c.binCounts.push(`{${s.counts.join(',')}}`);
  }
  return c;
}

/** Writes the state of the range [from, to) (emptied before) as `grain`'s; returns raw rows read, rows written. */
export async function insertRangeState(
  db: PoolClient,
  grain: RangeGrain,
  from: Date,
  to: Date,
  mode: WindowMode,
): Promise<StateCounts> {
  if (!mode.rangeInNode) return insertRangeStateInSql(db, grain, from, to, mode.prepared);
  const accumulator = await accumulateRange(db, from, to);
  if (accumulator.unusual) return insertRangeStateInSql(db, grain, from, to, mode.prepared);
  const columns = seriesColumns(accumulator.series());
  const rowsOut = columns.counts.length;
  if (rowsOut > 0) await insertSeriesState(db, grain, from, columns, mode.prepared);
  return { rowsIn: accumulator.rows, rowsOut };
}
