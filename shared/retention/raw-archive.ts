// One raw day: exported to Parquet parts and a manifest, read back and compared, then dropped — the
// partition detached and dropped in the same transaction that re-checks it against the manifest and
// records the day as archived.
import { createHash } from 'node:crypto';
import { deletePartialsBetween } from '../aggregate/partials-sql.ts';
import type { ObjectStore } from '../archive/index.ts';
import { BatchError } from '../errors/index.ts';
import { manifestKey, partKey, rawDayFolder } from './layout.ts';
import {
  MANIFEST_VERSION,
  manifestBytes,
  parseManifest,
  rawFigures,
  rawStatsOf,
  type ManifestObject,
  type RawManifest,
} from './manifest.ts';
import { PARQUET_CODEC } from './parquet-file.ts';
import { Interner, releaseColumns } from './raw-columns.ts';
import { addGroupStats, RAW_SCHEMA_VERSION, RawParquetWriter, rawFileStats } from './raw-parquet.ts';
import { rawRowGroups } from './raw-source.ts';
import {
  dropPartition,
  liveRawStats,
  lockPartitionForDrop,
  lockRawDay,
  unfinishedHours,
  type RawPartition,
} from './raw-sql.ts';
import { markRemoved } from './archives-sql.ts';
import { mergeRawStats, RawStatsBuilder, rawStatsDifferences, type RawStats } from './raw-stats.ts';
import type { RetentionDeps, RetentionOptions } from './types.ts';
import { BEGIN_READ_ONLY_SNAPSHOT, inTransaction } from '../db/transaction.ts';

export interface RawDayContext {
  deps: RetentionDeps;
  options: RetentionOptions;
  runId: number;
  now: Date;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function verificationFailed(day: string, problems: readonly string[]): BatchError {
  return new BatchError(
    'ARCHIVE_VERIFICATION_FAILED',
    `the archive of ${day} does not match: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
    { context: { day, problems: problems.slice(0, 20) } },
  );
}

/**
 * Streams the day out of PostgreSQL into Parquet parts (one part in memory at a time), uploads each, removes
 * objects an earlier, interrupted attempt left beyond them, and writes the manifest last. Returns the
 * manifest and its SHA-256.
 */
export async function exportRawDay(
  ctx: RawDayContext,
  partition: RawPartition,
): Promise<{ manifest: RawManifest; sha256: string }> {
  const { deps, options, runId } = ctx;
  const { store, hooks } = deps;
  const folder = rawDayFolder(partition.day);
  const objects: ManifestObject[] = [];
  const interner = new Interner();
  const stats = new RawStatsBuilder();

  const upload = async (writer: RawParquetWriter): Promise<void> => {
    const key = partKey(folder, objects.length);
    const rows = writer.rows;
    const stored = await store.put(key, writer.finish(), { contentType: 'application/vnd.apache.parquet' });
    objects.push({ key, rows, bytes: stored.size, sha256: stored.sha256 });
    await hooks?.afterPut?.(key);
    await hooks?.step?.('part-uploaded', partition.day);
  };

  await deps.db.withClient(async (client) => {
    // one snapshot for the whole day, however many parts it takes
    await inTransaction(
      client,
      async () => {
        let writer: RawParquetWriter | undefined;
        for await (const group of rawRowGroups(client, partition.name, {
          groupRows: options.rowsPerGroup,
          embedded: deps.db.embedded,
          interner,
        })) {
          writer ??= new RawParquetWriter({ day: partition.day, part: objects.length, runId });
          writer.write(group);
          addGroupStats(stats, group, interner);
          releaseColumns(group);
          if (writer.rows >= options.rowsPerPart) {
            await upload(writer);
            writer = undefined;
          }
        }
        if (writer) await upload(writer);
      },
      BEGIN_READ_ONLY_SNAPSHOT,
    );
  });
  await hooks?.step?.('parts-uploaded', partition.day);

  // an interrupted attempt may have written more parts than this one: those would be duplicates
  const keep = new Set([...objects.map((o) => o.key), manifestKey(folder)]);
  const stale = (await store.list(folder)).map((o) => o.key).filter((k) => !keep.has(k));
  if (stale.length > 0) await store.delete(stale);

  const manifest: RawManifest = {
    kind: 'raw',
    schema: 'raw_events',
    manifest_version: MANIFEST_VERSION,
    schema_version: RAW_SCHEMA_VERSION,
    day: partition.day,
    range: { from: partition.start.toISOString(), to: partition.end.toISOString() },
    run_id: runId,
    created_at: (deps.clock?.() ?? new Date()).toISOString(),
    codec: PARQUET_CODEC,
    objects,
    ...rawFigures(stats.build()),
  };
  const bytes = manifestBytes(manifest);
  const key = manifestKey(folder);
  const stored = await store.put(key, bytes, { contentType: 'application/json' });
  await hooks?.afterPut?.(key);
  await hooks?.step?.('manifest-written', partition.day);
  return { manifest, sha256: stored.sha256 };
}

/**
 * Reads the day's archive back: the manifest (equal to what was written when `manifestSha256` is given),
 * every object (its SHA-256, then its rows decoded and counted), nothing else in the folder. Throws
 * ARCHIVE_VERIFICATION_FAILED listing what differs; returns the manifest when all agrees.
 */
export async function verifyRawArchive(
  store: ObjectStore,
  day: string,
  manifestSha256?: string | null,
): Promise<RawManifest> {
  const folder = rawDayFolder(day);
  const key = manifestKey(folder);
  const bytes = await store.get(key).catch((err: unknown) => {
    throw verificationFailed(day, [`its manifest ${key} cannot be read: ${(err as Error).message}`]);
  });
  if (manifestSha256 && sha256(bytes) !== manifestSha256) {
    throw verificationFailed(day, [`${key} has SHA-256 ${sha256(bytes)}, recorded ${manifestSha256}`]);
  }
  let manifest: RawManifest;
  try {
    const parsed = parseManifest(bytes, key);
    if (parsed.kind !== 'raw' || parsed.day !== day)
      throw new Error(`${key} is not the manifest of raw day ${day}`);
    manifest = parsed;
  } catch (err) {
    throw verificationFailed(day, [(err as Error).message]);
  }
  const problems: string[] = [];
  const parts: RawStats[] = [];
  for (const object of manifest.objects) {
    let body: Buffer;
    try {
      body = await store.get(object.key);
    } catch (err) {
      if ((err as BatchError).code === 'S3_UNAVAILABLE') throw err;
      problems.push(`${object.key} cannot be read: ${(err as Error).message}`);
      continue;
    }
    const digest = sha256(body);
    if (digest !== object.sha256 || body.byteLength !== object.bytes) {
      problems.push(
        `${object.key} has ${body.byteLength} bytes with SHA-256 ${digest}, the manifest says ${object.bytes} and ${object.sha256}`,
      );
      continue;
    }
    try {
      const stats = await rawFileStats(body, object.key);
      if (stats.rows !== object.rows)
        problems.push(`${object.key} holds ${stats.rows} rows, the manifest says ${object.rows}`);
      parts.push(stats);
    } catch (err) {
      problems.push(`${object.key} cannot be decoded: ${(err as Error).message}`);
    }
  }
  if (problems.length === 0) {
    problems.push(
      ...rawStatsDifferences(rawStatsOf(manifest), mergeRawStats(parts), 'the archive read back'),
    );
  }
  const listed = new Set([key, ...manifest.objects.map((o) => o.key)]);
  for (const extra of (await store.list(folder)).filter((o) => !listed.has(o.key))) {
    problems.push(`${extra.key} is in the day's folder but not in its manifest`);
  }
  if (problems.length > 0) throw verificationFailed(day, problems);
  return manifest;
}

export type DropResult = { dropped: true; rows: number } | { dropped: false; reason: string };

/**
 * Drops the day in one transaction: the day's partition lock (ingest's), writers blocked, every hour
 * checked final, the live rows compared with the manifest (when archiving), then DETACH + DROP and the
 * archives row marked. Anything amiss rolls it all back.
 */
export async function dropRawDay(
  ctx: RawDayContext,
  partition: RawPartition,
  archiveId: number,
  manifest: RawManifest | undefined,
): Promise<DropResult> {
  const { deps, options } = ctx;
  const result = await deps.db.transaction(async (tx): Promise<DropResult> => {
    await lockRawDay(tx, partition.day);
    await lockPartitionForDrop(tx, partition.name, options.lockTimeoutMs);
    const unfinished = await unfinishedHours(tx, partition.name, partition.start, partition.end);
    if (unfinished.length > 0) {
      return {
        dropped: false,
        reason: `${unfinished.length} hour(s) not aggregated yet or re-opened (first ${unfinished[0]}); the day is kept until they are final`,
      };
    }
    const live = await liveRawStats(tx, partition.name);
    if (manifest) {
      const problems = rawStatsDifferences(rawStatsOf(manifest), live, 'the live partition');
      if (problems.length > 0) throw verificationFailed(partition.day, problems);
    }
    await dropPartition(tx, partition.name);
    await deletePartialsBetween(tx, partition.start, partition.end);
    await markRemoved(tx, archiveId, manifest ? 'archived' : 'deleted', live.rows);
    await deps.hooks?.step?.('drop-locked', partition.day);
    return { dropped: true, rows: live.rows };
  });
  if (result.dropped) await deps.hooks?.step?.('dropped', partition.day);
  return result;
}

/** Whether the live partition equals the manifest's figures (a restored day about to be dropped again). */
export async function liveMatchesManifest(
  deps: RetentionDeps,
  partition: RawPartition,
  manifest: RawManifest,
): Promise<boolean> {
  const live = await liveRawStats(deps.db, partition.name);
  return rawStatsDifferences(rawStatsOf(manifest), live, 'the live partition').length === 0;
}
