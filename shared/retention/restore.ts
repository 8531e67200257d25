// Restore: archived raw days read back into raw_events, each exactly once — in one transaction that holds
// the day's archives row (FOR UPDATE) and partition lock, re-creates the partition, inserts every row of
// every part (checksums checked), compares the result with the manifest and marks the day restored. A crash
// rolls it all back; a second restore of the same day finds it restored and reads nothing (with recompute, it
// marks the day's hours dirty again). Restored days stay until restored_keep_days have passed; then the sweep
// verifies the archive again and drops them.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { codeOf, messageOf } from '../aggregate/errors.ts';
import { BatchError } from '../errors/index.ts';
import { finishRun, startRun, type Trigger } from '../jobs/index.ts';
import { lockArchive, markRestored } from './archives-sql.ts';
import { manifestKey, rawDayFolder } from './layout.ts';
import { parseManifest, rawStatsOf, type RawManifest } from './manifest.ts';
import { DAY_MS, dayStart, isoDay } from './policy.ts';
import { readRawRows } from './raw-parquet.ts';
import {
  createPartition,
  insertRawRows,
  liveRawStats,
  lockRawDay,
  partitionExists,
  partitionName,
  touchRawHours,
} from './raw-sql.ts';
import { rawStatsDifferences } from './raw-stats.ts';
import type { RetentionDeps } from './types.ts';

export const RESTORE_JOB = 'retention-restore';
/** The most days one restore takes; a longer range is several calls. */
export const MAX_RESTORE_DAYS = 366;
const INSERT_ROWS = 5_000;

export interface RestoreRequest {
  /** First and last UTC day, YYYY-MM-DD, both included. */
  from: string;
  to: string;
  /**
   * Mark the days' hours dirty so aggregation recomputes them (and the rollups above): the days restored now,
   * and those of the range already in the database (live).
   */
  recompute?: boolean;
  trigger: Trigger;
}

export type DayOutcome = 'restored' | 'live' | 'failed';

export interface RestoredDay {
  day: string;
  outcome: DayOutcome;
  rows: number;
  objects?: number;
  keepUntil?: string;
  hoursMarked?: number;
  error?: { code: string; message: string };
}

export interface RestoreSummary {
  status: 'succeeded' | 'partial' | 'failed';
  runId: number;
  from: string;
  to: string;
  days: RestoredDay[];
  rows: number;
  durationMs: number;
}

/** The days of [from, to], checked. */
export function restoreDays(from: string, to: string): string[] {
  const bad = (field: string, value: string, why: string) =>
    new BatchError('REQUEST_INVALID', `"${field}" is ${JSON.stringify(value)}: ${why}`, {
      context: { [field]: value },
    });
  let start: Date;
  let end: Date;
  try {
    start = dayStart(from);
  } catch {
    throw bad('from', from, 'not a day; use YYYY-MM-DD, e.g. "2026-10-01"');
  }
  try {
    end = dayStart(to);
  } catch {
    throw bad('to', to, 'not a day; use YYYY-MM-DD, e.g. "2026-10-03"');
  }
  if (end < start) throw bad('to', to, `before "from" (${from}); both days are included`);
  const count = Math.round((end.getTime() - start.getTime()) / DAY_MS) + 1;
  if (count > MAX_RESTORE_DAYS)
    throw bad('to', to, `${count} days; restore at most ${MAX_RESTORE_DAYS} at a time`);
  return Array.from({ length: count }, (_, i) => isoDay(new Date(start.getTime() + i * DAY_MS)));
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function restoreDay(
  deps: RetentionDeps,
  day: string,
  recompute: boolean,
  now: Date,
): Promise<RestoredDay> {
  const { store, policy } = deps;
  return deps.db.transaction(async (tx): Promise<RestoredDay> => {
    const archive = await lockArchive(tx, 'raw', day);
    await lockRawDay(tx, day);
    if (archive?.status !== 'archived') {
      if (await partitionExists(tx, day)) {
        // Nothing to read back (restored before, or never archived), but the recompute asked for is still
        // done: answering "succeeded" without it left the caller believing the hours were recomputed.
        const hoursMarked = recompute ? await touchRawHours(tx, partitionName(day)) : undefined;
        return { day, outcome: 'live', rows: 0, ...(hoursMarked === undefined ? {} : { hoursMarked }) };
      }
      throw new BatchError(
        'ARCHIVE_MISSING',
        archive?.status === 'deleted'
          ? `the raw events of ${day} were deleted without an archive (archival was disabled); there is nothing to restore`
          : `there is no archive of ${day} and no live data either; archived days are listed by GET /retention/status`,
        { context: { day, status: archive?.status ?? null } },
      );
    }
    const key = archive.manifestKey ?? manifestKey(rawDayFolder(day));
    const bytes = await store.get(key);
    if (archive.manifestSha256 && sha256(bytes) !== archive.manifestSha256) {
      throw new BatchError(
        'ARCHIVE_VERIFICATION_FAILED',
        `${key} has changed since it was written (SHA-256 ${sha256(bytes)}, recorded ${archive.manifestSha256}); nothing was restored`,
        {
          context: { day, key },
        },
      );
    }
    const manifest = parseManifest(bytes, key) as RawManifest;
    await createPartition(tx, day);
    for (const object of manifest.objects) {
      const body = await store.get(object.key);
      if (sha256(body) !== object.sha256) {
        throw new BatchError(
          'ARCHIVE_VERIFICATION_FAILED',
          `${object.key} does not match its manifest (SHA-256 ${sha256(body)}, expected ${object.sha256}); nothing was restored`,
          {
            context: { day, key: object.key },
          },
        );
      }
      await readRawRows(body, object.key, async (rows) => {
        for (let i = 0; i < rows.length; i += INSERT_ROWS)
          await insertRawRows(tx, rows.slice(i, i + INSERT_ROWS));
      });
    }
    await deps.hooks?.step?.('restore-inserted', day);
    const problems = rawStatsDifferences(
      rawStatsOf(manifest),
      await liveRawStats(tx, partitionName(day)),
      'the restored day',
    );
    if (problems.length > 0) {
      throw new BatchError(
        'ARCHIVE_VERIFICATION_FAILED',
        `restoring ${day} gave other rows than its manifest: ${problems.slice(0, 3).join('; ')}; nothing was restored`,
        {
          context: { day, problems: problems.slice(0, 20) },
        },
      );
    }
    const keepUntil = new Date(now.getTime() + policy.restoredKeepDays * DAY_MS);
    await markRestored(tx, archive.id, keepUntil);
    const hoursMarked = recompute ? await touchRawHours(tx, partitionName(day)) : undefined;
    return {
      day,
      outcome: 'restored',
      rows: manifest.rows,
      objects: manifest.objects.length,
      keepUntil: keepUntil.toISOString(),
      ...(hoursMarked === undefined ? {} : { hoursMarked }),
    };
  });
}

export async function restoreArchivedDays(
  deps: RetentionDeps,
  request: RestoreRequest,
): Promise<RestoreSummary> {
  const started = performance.now();
  const days = restoreDays(request.from, request.to);
  const now = deps.clock?.() ?? new Date();
  const runId = await startRun(deps.db, {
    job: RESTORE_JOB,
    trigger: request.trigger,
    windowStart: dayStart(days[0]!),
    windowEnd: new Date(dayStart(days.at(-1)!).getTime() + DAY_MS),
    details: { from: request.from, to: request.to, recompute: request.recompute === true },
  });
  const results: RestoredDay[] = [];
  for (const day of days) {
    try {
      const result = await restoreDay(deps, day, request.recompute === true, now);
      results.push(result);
      if (result.outcome === 'restored') await deps.hooks?.step?.('restored', day);
      deps.log?.info(
        { day, outcome: result.outcome, rows: result.rows, runId },
        'restore of a raw day finished',
      );
    } catch (err) {
      results.push({
        day,
        outcome: 'failed',
        rows: 0,
        error: { code: codeOf(err), message: messageOf(err) },
      });
      deps.log?.error({ err, day, runId }, 'restore of a raw day failed; nothing of it was restored');
    }
  }
  const failed = results.filter((r) => r.outcome === 'failed');
  const rows = results.reduce((sum, r) => sum + r.rows, 0);
  const status = failed.length === 0 ? 'succeeded' : failed.length < results.length ? 'partial' : 'failed';
  await finishRun(deps.db, runId, {
    status: status === 'succeeded' ? 'succeeded' : 'failed',
    rowsOut: rows,
    errorCode: failed[0]?.error?.code,
    error: failed[0]
      ? `${failed.length} day(s) failed; first ${failed[0].day}: ${failed[0].error?.message}`
      : undefined,
    details: { days: results.map((r) => ({ day: r.day, outcome: r.outcome, rows: r.rows })) },
  });
  return {
    status,
    runId,
    from: days[0]!,
    to: days.at(-1)!,
    days: results,
    rows,
    durationMs: Math.round(performance.now() - started),
  };
}
