// The rows of one raw_events partition as row groups (RawColumns), in (ts, idempotency_key) order, holding
// one group at a time whatever the day's size (the consumer hands each written group back with
// releaseColumns, so its memory serves the next). On PostgreSQL they stream by binary COPY, the server's
// cheapest way out (numbers and timestamps exact, text as its own UTF-8); the embedded PGlite's socket
// does not speak COPY, so there a cursor fetches them group by group. Call inside a transaction on
// `client` to read one snapshot.
import type { PoolClient } from 'pg';
import { FLAT_ARRAY_HEADER, flatArrayCount, readTimestampMicros } from '../db/binary-copy.ts';
import { BinaryCopyDecoder } from '../db/binary-copy-decoder.ts';
import { copyOutChunks } from '../db/copy-out.ts';
import type { Interner } from './raw-columns.ts';
import { Arena, EMPTY_LIST, emptyColumns, type RawColumns } from './raw-columns.ts';
import { markUnusable } from '../db/transaction.ts';

/** raw_events' columns in the order of RawColumns and of the Parquet schema. */
export const RAW_SELECT =
  'ts, event_type, source, idempotency_key, metric_names, metric_values, dimension_names, dimension_values, data, ingested_at';
const FIELD_COUNT = 10;

const PARTITION_NAME = /^raw_events_\d{8}$/;

export function checkedPartition(name: string): string {
  if (!PARTITION_NAME.test(name)) throw new RangeError(`"${name}" is not a raw_events day partition`);
  return name;
}

export interface RawSourceOptions {
  /** Rows per group. */
  groupRows: number;
  /** The embedded database: fetch by cursor. */
  embedded: boolean;
  interner: Interner;
}

export function rawRowGroups(
  client: PoolClient,
  partition: string,
  options: RawSourceOptions,
): AsyncGenerator<RawColumns> {
  return options.embedded
    ? cursorGroups(client, checkedPartition(partition), options)
    : copyGroups(client, checkedPartition(partition), options);
}

async function* copyGroups(
  client: PoolClient,
  partition: string,
  { groupRows, interner }: RawSourceOptions,
): AsyncGenerator<RawColumns> {
  const done: RawColumns[] = [];
  const slabs: Buffer[] = [];
  let group = emptyColumns(groupRows, new Arena(slabs));
  const decoder = new BinaryCopyDecoder(FIELD_COUNT, (buffer, f) => {
    appendTuple(group, buffer, f, interner);
    if (group.length === groupRows) {
      done.push(group);
      group = emptyColumns(groupRows, new Arena(slabs));
    }
  });
  const chunks = copyOutChunks(
    client,
    `COPY (SELECT ${RAW_SELECT} FROM ${partition} ORDER BY ts, idempotency_key) TO STDOUT (FORMAT binary)`,
  );
  for await (const chunk of chunks) {
    decoder.push(chunk);
    while (done.length > 0) yield done.shift() as RawColumns;
  }
  decoder.finish();
  if (group.length > 0) yield group;
}

/** One binary COPY tuple (fields as [start, length] pairs) appended to the group. */
function appendTuple(group: RawColumns, b: Buffer, f: Int32Array, interner: Interner): void {
  const i = group.length;
  group.ts[i] = readTimestampMicros(b, f[0]!);
  group.eventType.push(interner.bytes(b, f[2]!, f[2]! + f[3]!));
  group.source.push(interner.bytes(b, f[4]!, f[4]! + f[5]!));
  const arena = group.arena!;
  group.idempotencyKey.push(arena.copy(b, f[6]!, f[6]! + f[7]!));
  group.metricNames.push(textArray(b, f[8]!, f[9]!, interner));
  group.metricValues.push(doubleArray(b, f[10]!));
  group.dimensionNames.push(textArray(b, f[12]!, f[13]!, interner));
  group.dimensionValues.push(textArray(b, f[14]!, f[15]!, interner));
  // jsonb's binary form is a version byte (1) and the JSON text
  group.data.push(arena.copy(b, f[16]! + 1, f[16]! + f[17]!));
  group.ingestedAt[i] = readTimestampMicros(b, f[18]!);
  group.length = i + 1;
}

// raw_events' arrays are one-dimensional without NULLs; each element an int32 length and the bytes.
function arrayHeader(b: Buffer, at: number): number {
  const count = flatArrayCount(b, at);
  if (count !== undefined) return count;
  const dimensions = b.readInt32BE(at);
  throw new Error(
    dimensions === 1
      ? 'binary COPY: an array of raw_events holds a NULL'
      : `binary COPY: an array has ${dimensions} dimensions, expected 1`,
  );
}

function textArray(b: Buffer, at: number, size: number, interner: Interner): Uint8Array[] {
  const length = arrayHeader(b, at);
  if (length === 0) return EMPTY_LIST;
  return interner.array(b, at, at + size, () => {
    const out = new Array<Uint8Array>(length);
    let next = at + FLAT_ARRAY_HEADER;
    for (let k = 0; k < length; k++) {
      const n = b.readInt32BE(next);
      out[k] = interner.bytes(b, next + 4, next + 4 + n);
      next += 4 + n;
    }
    return out;
  });
}

function doubleArray(b: Buffer, at: number): number[] {
  const length = arrayHeader(b, at);
  if (length === 0) return EMPTY_LIST;
  const out = new Array<number>(length);
  let next = at + FLAT_ARRAY_HEADER + 4; // past the first element's length (always 8)
  for (let k = 0; k < length; k++) {
    out[k] = b.readDoubleBE(next);
    next += 12;
  }
  return out;
}

interface CursorRow {
  0: number;
  1: string;
  2: string;
  3: string;
  4: string[];
  5: number[];
  6: string[];
  7: string[];
  8: string;
  9: number;
}

const CURSOR = 'hxp_retention_export';

async function* cursorGroups(
  client: PoolClient,
  partition: string,
  { groupRows, interner }: RawSourceOptions,
): AsyncGenerator<RawColumns> {
  await client.query(
    `DECLARE ${CURSOR} NO SCROLL CURSOR FOR
     SELECT (extract(epoch FROM ts) * 1000000)::int8, event_type, source, idempotency_key, metric_names,
            metric_values, dimension_names, dimension_values, data::text,
            (extract(epoch FROM ingested_at) * 1000000)::int8
     FROM ${partition} ORDER BY ts, idempotency_key`,
  );
  try {
    for (;;) {
      const { rows } = await client.query<CursorRow & unknown[]>({
        text: `FETCH ${groupRows} FROM ${CURSOR}`,
        rowMode: 'array',
      });
      if (rows.length === 0) break;
      const group = emptyColumns(rows.length);
      for (const row of rows) {
        const i = group.length;
        group.ts[i] = Number(row[0]);
        group.eventType.push(interner.string(row[1]));
        group.source.push(interner.string(row[2]));
        group.idempotencyKey.push(Buffer.from(row[3], 'utf8'));
        group.metricNames.push(interner.strings(row[4]));
        group.metricValues.push(row[5].length === 0 ? EMPTY_LIST : row[5]);
        group.dimensionNames.push(interner.strings(row[6]));
        group.dimensionValues.push(interner.strings(row[7]));
        group.data.push(Buffer.from(row[8], 'utf8'));
        group.ingestedAt[i] = Number(row[9]);
        group.length = i + 1;
      }
      yield group;
      if (rows.length < groupRows) break;
    }
  } finally {
    // A cursor that cannot be closed leaves the session in an unknown state: the connection is discarded.
    await client.query(`CLOSE ${CURSOR}`).catch(() => markUnusable(client));
  }
}
