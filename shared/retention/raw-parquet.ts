// raw_events as Parquet: every column, its type kept — timestamptz as TIMESTAMP(MICROS, UTC), text as
// STRING, text[] and double precision[] as LIST, jsonb as JSON. Schema version 1; a reader checks the
// version in the file's key/value metadata before trusting the layout.
import type { ColumnSource, SchemaElement } from 'hyparquet-writer';
import type { Interner, RawColumns } from './raw-columns.ts';
import { ParquetFileWriter, readParquetGroups } from './parquet-file.ts';
import { RawStatsBuilder, type RawStats } from './raw-stats.ts';

export const RAW_SCHEMA_VERSION = 1;

const timestamp = (name: string): SchemaElement => ({
  name,
  type: 'INT64',
  repetition_type: 'REQUIRED',
  logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
});
const text = (name: string): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: 'REQUIRED',
});
const list = (name: string, element: SchemaElement): SchemaElement[] => [
  { name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { ...element, name: 'element' },
];

export const RAW_SCHEMA: SchemaElement[] = [
  { name: 'raw_events', num_children: 10 },
  timestamp('ts'),
  text('event_type'),
  text('source'),
  text('idempotency_key'),
  ...list('metric_names', text('element')),
  ...list('metric_values', { name: 'element', type: 'DOUBLE', repetition_type: 'REQUIRED' }),
  ...list('dimension_names', text('element')),
  ...list('dimension_values', text('element')),
  // logical JSON, not the converted type: the writer would JSON.stringify a converted-JSON value again
  { name: 'data', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', logical_type: { type: 'JSON' } },
  timestamp('ingested_at'),
];

export const RAW_COLUMN_NAMES = [
  'ts',
  'event_type',
  'source',
  'idempotency_key',
  'metric_names',
  'metric_values',
  'dimension_names',
  'dimension_values',
  'data',
  'ingested_at',
] as const;

/** A row group as the writer's columns. Unique per row: keys and data skip the dictionary attempt. */
function columnSources(group: RawColumns): ColumnSource[] {
  const n = group.length;
  return [
    { name: 'ts', data: Array.from(group.ts.subarray(0, n)), encoding: 'PLAIN' },
    { name: 'event_type', data: group.eventType },
    { name: 'source', data: group.source },
    { name: 'idempotency_key', data: group.idempotencyKey, encoding: 'PLAIN' },
    { name: 'metric_names', data: group.metricNames },
    { name: 'metric_values', data: group.metricValues },
    { name: 'dimension_names', data: group.dimensionNames },
    { name: 'dimension_values', data: group.dimensionValues },
    { name: 'data', data: group.data, encoding: 'PLAIN' },
    { name: 'ingested_at', data: Array.from(group.ingestedAt.subarray(0, n)), encoding: 'PLAIN' },
  ] as ColumnSource[];
}

export interface RawFileMetadata {
  day: string;
  part: number;
  runId: number;
}

/** A Parquet file of raw rows being written. */
export class RawParquetWriter {
  readonly #file: ParquetFileWriter;

  constructor(meta: RawFileMetadata) {
    this.#file = new ParquetFileWriter(RAW_SCHEMA, {
      'hxp.schema': 'raw_events',
      'hxp.schema_version': String(RAW_SCHEMA_VERSION),
      'hxp.day': meta.day,
      'hxp.part': String(meta.part),
      'hxp.run_id': String(meta.runId),
    });
  }

  write(group: RawColumns): void {
    this.#file.writeGroup(columnSources(group), group.length);
  }

  get rows(): number {
    return this.#file.rows;
  }

  get size(): number {
    return this.#file.size;
  }

  finish(): Buffer {
    return this.#file.finish();
  }
}

/** Adds a row group to the statistics (the manifest's figures, computed on the way out). */
export function addGroupStats(stats: RawStatsBuilder, group: RawColumns, interner: Interner): void {
  for (let i = 0; i < group.length; i++) {
    const metrics = stats.row(interner.text(group.eventType[i]!), group.ts[i]!);
    const names = group.metricNames[i]!;
    const values = group.metricValues[i]!;
    for (let k = 0; k < names.length; k++) {
      RawStatsBuilder.metric(metrics, interner.text(names[k]!), values[k]!);
    }
  }
}

/** Refuses a file this code did not write, or wrote with another layout. */
export function checkRawSchema(kv: Record<string, string>, what: string): void {
  if (kv['hxp.schema'] !== 'raw_events' || kv['hxp.schema_version'] !== String(RAW_SCHEMA_VERSION)) {
    throw new Error(
      `${what} is not a raw_events archive of schema version ${RAW_SCHEMA_VERSION} ` +
        `(its metadata says ${kv['hxp.schema'] ?? 'nothing'} version ${kv['hxp.schema_version'] ?? 'none'})`,
    );
  }
}

/** The statistics of a raw Parquet file, read back from its bytes. */
export async function rawFileStats(bytes: Uint8Array, what: string): Promise<RawStats> {
  const stats = new RawStatsBuilder();
  await readParquetGroups(
    bytes,
    ['ts', 'event_type', 'metric_names', 'metric_values'],
    (group, rows) => {
      const ts = group.ts as number[];
      const types = group.event_type as string[];
      const names = group.metric_names as string[][];
      const values = group.metric_values as number[][];
      for (let i = 0; i < rows; i++) {
        const metrics = stats.row(types[i]!, ts[i]!);
        const n = names[i]!;
        const v = values[i]!;
        if (n.length !== v.length)
          throw new Error(`${what}: row ${i} has ${n.length} metric names and ${v.length} values`);
        for (let k = 0; k < n.length; k++) RawStatsBuilder.metric(metrics, n[k]!, v[k]!);
      }
    },
    (kv) => checkRawSchema(kv, what),
  );
  return stats.build();
}

/** One raw row as read back (text decoded), in raw_events' column order. */
export interface RawRow {
  ts: number;
  event_type: string;
  source: string;
  idempotency_key: string;
  metric_names: string[];
  metric_values: number[];
  dimension_names: string[];
  dimension_values: string[];
  data: string;
  ingested_at: number;
}

/** Every row of a raw Parquet file, a row group at a time. */
export async function readRawRows(
  bytes: Uint8Array,
  what: string,
  onRows: (rows: RawRow[]) => Promise<void> | void,
): Promise<void> {
  await readParquetGroups(
    bytes,
    RAW_COLUMN_NAMES,
    (group, n) => {
      const rows: RawRow[] = new Array<RawRow>(n);
      for (let i = 0; i < n; i++) {
        const row: Record<string, unknown> = {};
        for (const c of RAW_COLUMN_NAMES) row[c] = group[c]![i];
        rows[i] = row as unknown as RawRow;
      }
      return onRows(rows);
    },
    (kv) => checkRawSchema(kv, what),
  );
}
