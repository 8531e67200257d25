// A raw_events row in the binary COPY format (shared/db/binary-copy.ts), columns in RAW_COLUMNS order (raw-sql.ts),
// written straight into a batch's CopyBuffer. Nothing is escaped in this format, so a row is its values'
// bytes behind their lengths, whatever the strings hold; what PostgreSQL cannot store at all (NUL, a lone
// surrogate) is turned away before a row is written (storable.ts).
import {
  ARRAY_FIELD_OVERHEAD,
  CopyFieldReader,
  EIGHT_BYTE_FIELD,
  maxTextFieldBytes,
  putFloat8ArrayField,
  putInt16,
  putJsonbField,
  putTextArrayField,
  putTextField,
  putTimestampField,
} from '../db/binary-copy.ts';
import type { CopyBuffer, RowIndex } from './copy-buffer.ts';

export interface RawRow {
  /** The event's time in epoch milliseconds. */
  timestampMs: number;
  eventType: string;
  source: string;
  idempotencyKey: string;
  metricNames: readonly string[];
  /** Numbers, or their JSON text as a plain event carries them (see putFloat8ArrayField). */
  metricValues: readonly number[] | readonly string[];
  dimensionNames: readonly string[];
  dimensionValues: readonly string[];
  dataJson: string;
}

const FIELDS = 9;

function unitsOf(values: readonly string[]): number {
  let units = 0;
  for (let i = 0; i < values.length; i++) units += (values[i] as string).length;
  return units;
}

/** An upper bound of the row's bytes, so that it is written into one reserved piece. */
function maxRowBytes(row: RawRow): number {
  const elements = row.metricNames.length + row.dimensionNames.length + row.dimensionValues.length;
  const units =
    row.eventType.length +
    row.source.length +
    row.idempotencyKey.length +
    1 +
    row.dataJson.length +
    unitsOf(row.metricNames) +
    unitsOf(row.dimensionNames) +
    unitsOf(row.dimensionValues);
  return (
    2 +
    EIGHT_BYTE_FIELD +
    4 * ARRAY_FIELD_OVERHEAD +
    row.metricValues.length * EIGHT_BYTE_FIELD +
    maxTextFieldBytes(units) +
    (3 + elements) * 4
  );
}

/** Appends the row to `rows` and returns its number there. */
export function appendRawRow(rows: CopyBuffer, row: RawRow): RowIndex {
  const buffer = rows.reserve(maxRowBytes(row));
  let at = putInt16(buffer, rows.end, FIELDS);
  at = putTimestampField(buffer, at, row.timestampMs);
  at = putTextField(buffer, at, row.idempotencyKey);
  at = putTextField(buffer, at, row.eventType);
  at = putTextField(buffer, at, row.source);
  at = putTextArrayField(buffer, at, row.dimensionNames);
  at = putTextArrayField(buffer, at, row.dimensionValues);
  at = putTextArrayField(buffer, at, row.metricNames);
  at = putFloat8ArrayField(buffer, at, row.metricValues);
  at = putJsonbField(buffer, at, row.dataJson);
  return rows.commit(at);
}

/** The values of a row appendRawRow wrote (metric values as numbers). */
export function readRawRow(bytes: Buffer): RawRow {
  const fields = new CopyFieldReader(bytes);
  const count = fields.fieldCount();
  if (count !== FIELDS) throw new RangeError(`readRawRow: ${count} fields, not ${FIELDS}`);
  const timestampMs = fields.timestampMs();
  const idempotencyKey = fields.text();
  const eventType = fields.text();
  const source = fields.text();
  const dimensionNames = fields.textArray();
  const dimensionValues = fields.textArray();
  const metricNames = fields.textArray();
  const metricValues = fields.float8Array();
  const dataJson = fields.jsonb();
  return {
    timestampMs,
    eventType,
    source,
    idempotencyKey,
    metricNames,
    metricValues,
    dimensionNames,
    dimensionValues,
    dataJson,
  };
}
