// One level's aggregate state of one month: exported to Parquet (every column of aggregate_state, the exact
// numeric sums as text beside a double, and the series' sketch bins), read back and compared, then deleted
// in the transaction that re-checks the live rows against the manifest.
import { createHash } from 'node:crypto';
import type { ColumnSource, SchemaElement } from 'hyparquet-writer';
import { isLevel } from '../aggregate/index.ts';
import { BatchError } from '../errors/index.ts';
import {
  AGGREGATE_CURSOR,
  aggregateUnitBlocker,
  aggregateUnitName,
  deleteAggregateUnit,
  figures,
  liveAggregateFigures,
  openAggregateCursor,
  type AggregateUnit,
} from './aggregate-sql.ts';
import { markRemoved } from './archives-sql.ts';
import { DecimalSum } from './decimal.ts';
import { aggregateFolder, manifestKey, partKey } from './layout.ts';
import {
  MANIFEST_VERSION,
  manifestBytes,
  parseManifest,
  type AggregateFigures,
  type AggregateManifest,
  type ManifestObject,
} from './manifest.ts';
import { PARQUET_CODEC, ParquetFileWriter, readParquetGroups } from './parquet-file.ts';
import type { RawDayContext } from './raw-archive.ts';
import { BEGIN_READ_ONLY_SNAPSHOT, inTransaction } from '../db/transaction.ts';

export const AGGREGATE_SCHEMA_VERSION = 1;

const req = (
  name: string,
  type: SchemaElement['type'],
  extra: Partial<SchemaElement> = {},
): SchemaElement => ({
  name,
  type,
  repetition_type: 'REQUIRED',
  ...extra,
});
const text = (name: string) => req(name, 'BYTE_ARRAY', { converted_type: 'UTF8' });
const micros = (name: string) =>
  req(name, 'INT64', { logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } });
const optionalDouble = (name: string): SchemaElement => ({
  name,
  type: 'DOUBLE',
  repetition_type: 'OPTIONAL',
});
const list = (name: string, type: SchemaElement['type']): SchemaElement[] => [
  { name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  req('element', type),
];

export const AGGREGATE_SCHEMA: SchemaElement[] = [
  { name: 'aggregate_state', num_children: 19 },
  text('level'),
  micros('bucket'),
  text('event_type'),
  text('metric'),
  text('dimension'),
  text('dimension_value'),
  req('count', 'INT64'),
  req('sum', 'DOUBLE'),
  // numeric, exactly: the double above is for readers who want a number
  text('sum_exact'),
  text('sum_squares'),
  req('min', 'DOUBLE'),
  req('max', 'DOUBLE'),
  optionalDouble('p50'),
  optionalDouble('p95'),
  optionalDouble('p99'),
  micros('computed_at'),
  ...list('sketch_signs', 'INT32'),
  ...list('sketch_keys', 'INT32'),
  ...list('sketch_counts', 'INT64'),
];

const COLUMNS = [
  'level',
  'bucket',
  'event_type',
  'metric',
  'dimension',
  'dimension_value',
  'count',
  'sum',
  'sum_exact',
  'sum_squares',
  'min',
  'max',
  'p50',
  'p95',
  'p99',
  'computed_at',
  'sketch_signs',
  'sketch_keys',
  'sketch_counts',
] as const;

type StateRow = unknown[];

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function failed(unit: string, problems: readonly string[]): BatchError {
  return new BatchError(
    'ARCHIVE_VERIFICATION_FAILED',
    `the archive of aggregates ${unit} does not match: ${problems.slice(0, 5).join('; ')}`,
    {
      context: { unit, problems: problems.slice(0, 20) },
    },
  );
}

/** Figures of state rows, computed the same way from the cursor's rows and from the files read back. */
class FiguresBuilder {
  rows = 0;
  #min: number | null = null;
  #max: number | null = null;
  readonly #series = new Map<
    string,
    { buckets: number; count: number; sum: DecimalSum; min: number; max: number }
  >();

  add(
    bucket: number,
    eventType: string,
    metric: string,
    dimension: string,
    count: number,
    sum: string,
    min: number,
    max: number,
  ): void {
    this.rows += 1;
    this.#min = this.#min === null ? bucket : Math.min(this.#min, bucket);
    this.#max = this.#max === null ? bucket : Math.max(this.#max, bucket);
    if (dimension !== 'all') return;
    const key = `${eventType}/${metric}`;
    let s = this.#series.get(key);
    if (s === undefined)
      this.#series.set(
        key,
        (s = { buckets: 0, count: 0, sum: new DecimalSum(), min: Infinity, max: -Infinity }),
      );
    s.buckets += 1;
    s.count += count;
    s.sum.add(sum);
    s.min = Math.min(s.min, min);
    s.max = Math.max(s.max, max);
  }

  build(): AggregateFigures {
    const series = [...this.#series.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, s]) => {
        const slash = key.indexOf('/');
        return {
          event_type: key.slice(0, slash),
          metric: key.slice(slash + 1),
          buckets: s.buckets,
          count: s.count,
          sum: s.sum.toString(),
          min: s.min,
          max: s.max,
        };
      });
    return figures(this.rows, this.#min, this.#max, series);
  }
}

function figureDifferences(expected: AggregateFigures, actual: AggregateFigures, what: string): string[] {
  const out: string[] = [];
  if (expected.rows !== actual.rows) out.push(`${what} has ${actual.rows} rows, expected ${expected.rows}`);
  if (expected.min_bucket !== actual.min_bucket || expected.max_bucket !== actual.max_bucket) {
    out.push(
      `${what} spans ${actual.min_bucket}..${actual.max_bucket}, expected ${expected.min_bucket}..${expected.max_bucket}`,
    );
  }
  for (const key of new Set([...Object.keys(expected.series), ...Object.keys(actual.series)])) {
    const e = expected.series[key];
    const a = actual.series[key];
    if (JSON.stringify(e) !== JSON.stringify(a))
      out.push(`${what}: series ${key} is ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`);
  }
  return out;
}

class AggregateParquetWriter {
  readonly file: ParquetFileWriter;

  constructor(unit: AggregateUnit, part: number, runId: number) {
    this.file = new ParquetFileWriter(AGGREGATE_SCHEMA, {
      'hxp.schema': 'aggregate_state',
      'hxp.schema_version': String(AGGREGATE_SCHEMA_VERSION),
      'hxp.level': unit.level,
      'hxp.month': unit.month,
      'hxp.part': String(part),
      'hxp.run_id': String(runId),
    });
  }

  write(rows: readonly StateRow[]): void {
    const columns: unknown[][] = COLUMNS.map(() => new Array<unknown>(rows.length));
    rows.forEach((row, i) => {
      COLUMNS.forEach((name, c) => {
        const value = row[c];
        columns[c]![i] =
          name === 'count'
            ? BigInt(value as number)
            : name === 'sketch_counts'
              ? (value as number[]).map((v) => BigInt(v))
              : value;
      });
    });
    const sources = COLUMNS.map((name, c) => ({ name, data: columns[c] })) as ColumnSource[];
    this.file.writeGroup(sources, rows.length);
  }
}

/** Exports the unit's rows (cursor, group by group) into parts, then the manifest. */
export async function exportAggregateUnit(
  ctx: RawDayContext,
  unit: AggregateUnit,
): Promise<{ manifest: AggregateManifest; sha256: string }> {
  const { deps, options, runId } = ctx;
  const { store, hooks } = deps;
  if (!isLevel(unit.level)) throw new RangeError(`"${String(unit.level)}" is not a level`);
  const folder = aggregateFolder(unit.level, unit.month);
  const objects: ManifestObject[] = [];
  const stats = new FiguresBuilder();
  const upload = async (writer: AggregateParquetWriter): Promise<void> => {
    const key = partKey(folder, objects.length);
    const rows = writer.file.rows;
    const stored = await store.put(key, writer.file.finish(), {
      contentType: 'application/vnd.apache.parquet',
    });
    objects.push({ key, rows, bytes: stored.size, sha256: stored.sha256 });
    await hooks?.afterPut?.(key);
  };
  await deps.db.withClient(async (client) => {
    await inTransaction(
      client,
      async () => {
        await openAggregateCursor(client, unit);
        let writer: AggregateParquetWriter | undefined;
        for (;;) {
          const { rows } = await client.query<StateRow & unknown[]>({
            text: `FETCH ${options.rowsPerGroup} FROM ${AGGREGATE_CURSOR}`,
            rowMode: 'array',
          });
          if (rows.length === 0) break;
          for (const r of rows) {
            r[1] = Number(r[1]);
            r[15] = Number(r[15]);
            stats.add(
              r[1] as number,
              r[2] as string,
              r[3] as string,
              r[4] as string,
              Number(r[6]),
              r[8] as string,
              r[10] as number,
              r[11] as number,
            );
          }
          writer ??= new AggregateParquetWriter(unit, objects.length, runId);
          writer.write(rows);
          if (writer.file.rows >= options.rowsPerPart) {
            await upload(writer);
            writer = undefined;
          }
        }
        if (writer) await upload(writer);
      },
      BEGIN_READ_ONLY_SNAPSHOT,
    );
  });
  const keep = new Set([...objects.map((o) => o.key), manifestKey(folder)]);
  const stale = (await store.list(folder)).map((o) => o.key).filter((k) => !keep.has(k));
  if (stale.length > 0) await store.delete(stale);
  const manifest: AggregateManifest = {
    kind: 'aggregate',
    schema: 'aggregate_state',
    manifest_version: MANIFEST_VERSION,
    schema_version: AGGREGATE_SCHEMA_VERSION,
    level: unit.level,
    month: unit.month,
    time_zone: deps.policy.timeZone,
    range: { from: unit.start.toISOString(), to: unit.end.toISOString() },
    run_id: runId,
    created_at: (deps.clock?.() ?? new Date()).toISOString(),
    codec: PARQUET_CODEC,
    objects,
    ...stats.build(),
  };
  const key = manifestKey(folder);
  const stored = await store.put(key, manifestBytes(manifest), { contentType: 'application/json' });
  await hooks?.afterPut?.(key);
  await hooks?.step?.('aggregate-exported', aggregateUnitName(unit.level, unit.month));
  return { manifest, sha256: stored.sha256 };
}

/** Reads the unit's archive back and compares it with its manifest; throws ARCHIVE_VERIFICATION_FAILED. */
export async function verifyAggregateArchive(
  ctx: RawDayContext,
  unit: AggregateUnit,
  manifestSha256: string,
): Promise<AggregateManifest> {
  const { store } = ctx.deps;
  const name = aggregateUnitName(unit.level, unit.month);
  const folder = aggregateFolder(unit.level, unit.month);
  const key = manifestKey(folder);
  const bytes = await store.get(key);
  if (sha256(bytes) !== manifestSha256)
    throw failed(name, [`${key} has SHA-256 ${sha256(bytes)}, recorded ${manifestSha256}`]);
  const manifest = parseManifest(bytes, key);
  if (manifest.kind !== 'aggregate') throw failed(name, [`${key} is not an aggregate manifest`]);
  const problems: string[] = [];
  const stats = new FiguresBuilder();
  for (const object of manifest.objects) {
    const body = await store.get(object.key);
    if (sha256(body) !== object.sha256) {
      problems.push(`${object.key} has SHA-256 ${sha256(body)}, the manifest says ${object.sha256}`);
      continue;
    }
    try {
      await readParquetGroups(
        body,
        ['bucket', 'event_type', 'metric', 'dimension', 'count', 'sum_exact', 'min', 'max'],
        (g, rows) => {
          for (let i = 0; i < rows; i++) {
            stats.add(
              g.bucket![i] as number,
              g.event_type![i] as string,
              g.metric![i] as string,
              g.dimension![i] as string,
              Number(g.count![i]),
              g.sum_exact![i] as string,
              g.min![i] as number,
              g.max![i] as number,
            );
          }
        },
        (kv) => {
          if (
            kv['hxp.schema'] !== 'aggregate_state' ||
            kv['hxp.schema_version'] !== String(AGGREGATE_SCHEMA_VERSION)
          ) {
            throw new Error(
              `${object.key} is not an aggregate_state archive of schema version ${AGGREGATE_SCHEMA_VERSION}`,
            );
          }
        },
      );
    } catch (err) {
      problems.push(`${object.key} cannot be decoded: ${(err as Error).message}`);
    }
  }
  if (problems.length === 0)
    problems.push(...figureDifferences(manifest, stats.build(), 'the archive read back'));
  if (problems.length > 0) throw failed(name, problems);
  return manifest;
}

/** Deletes the unit once the live rows still equal the manifest and nothing reads them any more. */
export async function deleteArchivedAggregates(
  ctx: RawDayContext,
  unit: AggregateUnit,
  archiveId: number,
  manifest: AggregateManifest | undefined,
): Promise<{ deleted: true; rows: number } | { deleted: false; reason: string }> {
  const { deps } = ctx;
  const name = aggregateUnitName(unit.level, unit.month);
  const result = await deps.db.transaction(async (tx) => {
    // writers of aggregate_state wait; the blocker check and the comparison see the final rows
    await tx.query('LOCK TABLE aggregate_state, aggregate_sketch_bins IN SHARE ROW EXCLUSIVE MODE');
    const blocker = await aggregateUnitBlocker(tx, unit, deps.policy.timeZone);
    if (blocker) return { deleted: false as const, reason: blocker };
    if (manifest) {
      const problems = figureDifferences(manifest, await liveAggregateFigures(tx, unit), 'the live state');
      if (problems.length > 0) throw failed(name, problems);
    }
    const rows = await deleteAggregateUnit(tx, unit);
    await markRemoved(tx, archiveId, manifest ? 'archived' : 'deleted', rows);
    return { deleted: true as const, rows };
  });
  if (result.deleted) await deps.hooks?.step?.('aggregate-deleted', name);
  return result;
}
