// A batch's partial rows as tuples of a binary COPY into aggregate_partials (shared/db/binary-copy.ts), for
// batches whose raw rows are copied too. As columns of text for one unnest INSERT they cost Node an escaped
// array element per value and a hex string per bins, survived the transaction's round trips as objects on
// the JS heap, and cost PostgreSQL the array literals' parsing; here they are bytes at once, as the raw rows
// are, and PostgreSQL reads each value in its binary form.
import {
  copyStream,
  EIGHT_BYTE_FIELD,
  maxNumericFieldBytes,
  maxTextFieldBytes,
  putByteaField,
  putFloat8Field,
  putInt16,
  putInt8Field,
  putNumericField,
  putTextField,
  putTimestampField,
} from '../db/binary-copy.ts';
import { CopyBuffer } from '../ingest/copy-buffer.ts';
import type { PartialFigures, PartialRowSink, PartialSeries } from './partials.ts';

/** aggregate_partials' columns in the order of a tuple's fields. */
export const PARTIAL_COLUMNS =
  'bucket, event_type, metric, dimension, dimension_value, count, sum, sum_squares, min, max, bins';
const PARTIAL_FIELD_COUNT = 11;

export class PartialTuples implements PartialRowSink {
  private readonly rows = new CopyBuffer();

  get count(): number {
    return this.rows.count;
  }

  push(bucketMs: number, series: PartialSeries, figures: PartialFigures, bins: Buffer): void {
    const { eventType, metric, dimension, dimensionValue } = series;
    const maxBytes =
      2 +
      4 * EIGHT_BYTE_FIELD +
      maxTextFieldBytes(eventType.length) +
      maxTextFieldBytes(metric.length) +
      maxTextFieldBytes(dimension.length) +
      maxTextFieldBytes(dimensionValue.length) +
      maxNumericFieldBytes(figures.sum.length) +
      maxNumericFieldBytes(figures.sumSquares.length) +
      4 +
      bins.length;
    const b = this.rows.reserve(maxBytes);
    let at = putInt16(b, this.rows.end, PARTIAL_FIELD_COUNT);
    at = putTimestampField(b, at, bucketMs);
    at = putTextField(b, at, eventType);
    at = putTextField(b, at, metric);
    at = putTextField(b, at, dimension);
    at = putTextField(b, at, dimensionValue);
    at = putInt8Field(b, at, figures.count);
    at = putNumericField(b, at, figures.sum);
    at = putNumericField(b, at, figures.sumSquares);
    at = putFloat8Field(b, at, figures.min);
    at = putFloat8Field(b, at, figures.max);
    this.rows.commit(putByteaField(b, at, bins));
  }

  /** The whole COPY stream: header, every tuple, trailer. */
  stream(): Buffer[] {
    return copyStream(this.rows.chunks());
  }
}
