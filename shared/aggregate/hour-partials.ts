// The hourly job's side of the partials (000011): an hour whose partials are complete is written from them
// merged — sums added by PostgreSQL, bins here — without reading its raw rows; an hour computed from its raw
// rows (the reference path: partials incomplete, or a backfill) has its partials replaced by its state, one
// partial that holds every row read, so later batches' partials add to it.
import type { PoolClient } from 'pg';
import { BinCounts, BinsMerger, binArrays, binOf, encodeBins } from '../sketch/index.ts';
import { PartialColumnRows } from './partials.ts';
import { takeHourPartials, writeHourPartials, type HourPartials } from './partials-sql.ts';
import type { SeriesState } from './range-accumulator.ts';
import { seriesColumns } from './range-state.ts';
import { insertSeriesState, type StateCounts } from './state-sql.ts';

/** The series of an hour's merged partials, as range-state.ts writes a range's. */
export function* mergedSeries(partials: HourPartials): Generator<SeriesState> {
  const merger = new BinsMerger();
  for (const p of partials.series) {
    merger.addFramed(p.bins);
    yield {
      eventType: p.event_type,
      metric: p.metric,
      dimension: p.dimension,
      dimensionValue: p.dimension_value,
      count: Number(p.count),
      sum: p.sum,
      sumSquares: p.sum_squares,
      min: p.min,
      max: p.max,
      ...binArrays((f) => merger.drain(f)),
    };
  }
}

/** Writes the hour's state (emptied before) from its complete partials. */
export async function insertHourFromPartials(
  db: PoolClient,
  bucket: Date,
  partials: HourPartials,
  prepared: boolean,
): Promise<StateCounts> {
  const columns = seriesColumns(mergedSeries(partials));
  const rowsOut = columns.counts.length;
  if (rowsOut > 0) await insertSeriesState(db, 'hour', bucket, columns, prepared);
  return { rowsIn: partials.rowsIn, rowsOut };
}

/**
 * Partials an hour may keep per series after the job merged them. Live ingestion writes one per batch, every
 * few seconds; past this many the merged state replaces them, so an hour's partials stay bounded however its
 * events arrived. The benchmark's 129 (1M) and 1,281 (10M) batches leave ~4 and ~6 per series, kept as they are.
 */
export const PARTIALS_KEPT_PER_SERIES = 16;

/** After insertHourFromPartials: replaces the hour's partials by its state when they are too many to keep. */
export async function compactPartials(db: PoolClient, bucket: Date, partials: HourPartials): Promise<void> {
  if (partials.partialRows <= PARTIALS_KEPT_PER_SERIES * partials.series.length) return;
  await replacePartialsWithState(db, bucket, partials.rowsIn);
}

/**
 * After the hour's state was computed from its `rowsIn` raw rows (in this transaction, its window locked):
 * its partials become that state, and complete.
 */
export async function replacePartialsWithState(db: PoolClient, bucket: Date, rowsIn: number): Promise<void> {
  const stored = await takeHourPartials(db, bucket);
  const rows = new PartialColumnRows();
  for (const s of stored) {
    const bins = new BinCounts();
    s.signs.forEach((sign, i) => bins.add(binOf(sign, s.keys[i]!), Number(s.counts[i])));
    rows.push(
      bucket.getTime(),
      {
        eventType: s.event_type,
        metric: s.metric,
        dimension: s.dimension,
        dimensionValue: s.dimension_value,
      },
      { count: Number(s.count), sum: s.sum, sumSquares: s.sum_squares, min: s.min, max: s.max },
      encodeBins(bins),
    );
  }
  await writeHourPartials(db, bucket, rows.columns, rowsIn);
}
