// An ingest batch's partial hourly state (000011): its kept rows added up per UTC hour and series, from the
// binary COPY rows the batch already holds (raw-row-binary.ts), by the accumulator the hourly job's raw path
// uses — so a partial holds to the last digit what that path would compute from the same rows. An hour
// holding rows the accumulator leaves to SQL (range-accumulator.ts: `unusual`) gets no partials from the
// batch and is recorded incomplete: the hourly job reads that hour's raw rows.
import type { CopyBuffer, RowIndex } from '../ingest/copy-buffer.ts';
import { BinsMerger, encodeBins } from '../sketch/index.ts';
import { MetricFigures, RAW_LAYOUT, RangeAccumulator } from './range-accumulator.ts';
import { float8Text } from './range-state.ts';
import type { SeriesColumns } from './state-sql.ts';

/** raw_events' columns in a COPY row (RAW_COLUMNS of shared/ingest/raw-sql.ts). */
const RAW_FIELD_COUNT = 9;
const HOUR_MS = 3_600_000;

/** aggregate_partials rows, column by column, as partials-sql.ts writes them. */
export type PartialColumns = Pick<
  SeriesColumns,
  | 'eventTypes'
  | 'metrics'
  | 'dimensions'
  | 'dimensionValues'
  | 'counts'
  | 'sums'
  | 'sumSquares'
  | 'mins'
  | 'maxes'
> & {
  /** The hour's start, ISO. */
  buckets: string[];
  /** bins-bytes.ts */
  bins: Buffer[];
};

/** A partial's figures as partials-sql.ts writes them: numeric sums as text. */
export interface PartialFigures {
  count: number;
  sum: string;
  sumSquares: string;
  min: number;
  max: number;
}

/** The series a partial row belongs to. */
export interface PartialSeries {
  eventType: string;
  metric: string;
  dimension: string;
  dimensionValue: string;
}

/** Where a batch's partial rows are put: columns (PartialColumnRows) or binary COPY tuples (partial-tuples.ts). */
export interface PartialRowSink {
  push(bucketMs: number, series: PartialSeries, figures: PartialFigures, bins: Buffer): void;
}

/**
 * Partial rows as the columns of one unnest INSERT: small batches, PGlite, which takes no COPY, and an hour's
 * partials replaced by its state (hour-partials.ts).
 */
export class PartialColumnRows implements PartialRowSink {
  readonly columns = emptyPartialColumns();
  private lastBucketMs = NaN;
  private lastBucket = '';

  push(bucketMs: number, series: PartialSeries, figures: PartialFigures, bins: Buffer): void {
    if (bucketMs !== this.lastBucketMs) {
      this.lastBucketMs = bucketMs;
      this.lastBucket = new Date(bucketMs).toISOString();
    }
    const c = this.columns;
    c.buckets.push(this.lastBucket);
    c.eventTypes.push(series.eventType);
    c.metrics.push(series.metric);
    c.dimensions.push(series.dimension);
    c.dimensionValues.push(series.dimensionValue);
    c.counts.push(figures.count);
    c.sums.push(figures.sum);
    c.sumSquares.push(figures.sumSquares);
    c.mins.push(float8Text(figures.min));
    c.maxes.push(float8Text(figures.max));
    c.bins.push(bins);
  }
}

const figuresOf = (f: MetricFigures): PartialFigures => ({
  count: f.count,
  sum: f.sums.sum.toString(),
  sumSquares: f.sums.squares.toString(),
  min: f.min,
  max: f.max,
});

function emptyPartialColumns(): PartialColumns {
  return {
    buckets: [],
    eventTypes: [],
    metrics: [],
    dimensions: [],
    dimensionValues: [],
    counts: [],
    sums: [],
    sumSquares: [],
    mins: [],
    maxes: [],
    bins: [],
  };
}

/** What a batch leaves per hour in aggregation_windows (recordPartials): sorted by hour. */
export interface PartialHours {
  /** ISO starts. */
  hours: string[];
  /** Raw rows stored in each hour. */
  rows: number[];
  /** Whether the batch's partials hold every one of them. */
  complete: boolean[];
}

/** Fills `f` with the [start, length] pairs of the fields of the raw COPY row at `start` (BinaryCopyDecoder's form). */
function rawFields(chunk: Buffer, start: number, f: Int32Array): void {
  let at = start + 2; // past the field count
  for (let k = 0; k < RAW_FIELD_COUNT; k++) {
    const length = chunk.readInt32BE(at);
    f[2 * k] = at + 4;
    f[2 * k + 1] = length;
    at += 4 + Math.max(0, length);
  }
}

/** A batch's partials as recordPartials writes them. */
export interface BatchPartialsResult<Rows extends PartialRowSink = PartialRowSink> {
  rows: Rows;
  hours: PartialHours;
}

export class BatchPartials {
  /** By the hour's start in epoch ms. */
  private readonly hours = new Map<number, RangeAccumulator>();
  private readonly fields = new Int32Array(2 * RAW_FIELD_COUNT);
  private readonly merger = new BinsMerger();

  /** Adds one raw_events COPY row (at `start` in `chunk`) whose event time is `timestampMs`. */
  add(timestampMs: number, chunk: Buffer, start: number): void {
    const hour = Math.floor(timestampMs / HOUR_MS) * HOUR_MS;
    let accumulator = this.hours.get(hour);
    if (accumulator === undefined) this.hours.set(hour, (accumulator = new RangeAccumulator(RAW_LAYOUT)));
    rawFields(chunk, start, this.fields);
    accumulator.add(chunk, this.fields);
  }

  /** add() of row `row` of `rows`. */
  addRow(timestampMs: number, rows: CopyBuffer, row: RowIndex): void {
    this.add(timestampMs, rows.rowChunk(row), rows.rowStart(row));
  }

  /** What recordPartials writes: the partial rows put into `rows`, and the hours. */
  result<Rows extends PartialRowSink>(rows: Rows): BatchPartialsResult<Rows> {
    this.putRows(rows);
    return { rows, hours: this.summary() };
  }

  /** The hours the rows fell in, with their counts and whether their partials are complete. */
  summary(): PartialHours {
    const out: PartialHours = { hours: [], rows: [], complete: [] };
    for (const hour of [...this.hours.keys()].sort((a, b) => a - b)) {
      const accumulator = this.hours.get(hour)!;
      out.hours.push(new Date(hour).toISOString());
      out.rows.push(accumulator.rows);
      out.complete.push(!accumulator.unusual);
    }
    return out;
  }

  /** Puts the partial rows of the complete hours into `rows`. */
  private putRows(rows: PartialRowSink): void {
    for (const [hour, accumulator] of this.hours) {
      if (accumulator.unusual) continue;
      for (const part of accumulator.seriesParts()) {
        const { states } = part;
        if (states.length === 1) {
          rows.push(hour, part, figuresOf(states[0]!), encodeBins(states[0]!.bins));
          continue;
        }
        // added up as MetricState.merge does, the bins without a BinCounts of their own
        const figures = new MetricFigures();
        for (const state of states) {
          figures.mergeFigures(state);
          this.merger.add(state.bins);
        }
        rows.push(hour, part, figuresOf(figures), this.merger.encode());
      }
    }
  }
}
