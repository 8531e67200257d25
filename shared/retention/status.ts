// GET /retention/status: the policy and its cutoffs now, the last sweep and the next, what is archived (raw
// days as contiguous ranges, aggregate months per level), what is restored or failed, and storage usage.
import type { Queryable } from '../db/index.ts';
import { LOCK_REFRESHED_AT_COLUMN } from '../jobs/index.ts';
import { abandonedRunError, type AbandonedRunError } from '../status/abandoned-run.ts';
import { CRON_TIME_ZONE, nextCronFire } from '../status/aggregation-status.ts';
import { listArchives, type ArchiveRow } from './archives-sql.ts';
import { cutoffsAt, DAY_MS, type RetentionPolicy } from './policy.ts';
import { storageUsage, type StorageUsage } from './storage.ts';
import { RETENTION_JOB } from './sweep.ts';

export interface ArchivedRange {
  from: string;
  /** Last day or month included. */
  to: string;
  units: number;
  rows: number;
  bytes: number;
}

export interface LastSweep {
  runId: number;
  status: string;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
  /** The run's details in the ledger (its totals, once finished). */
  details: Record<string, unknown>;
}

export interface RetentionStatus {
  policy: {
    rawDays: number;
    aggregateDays: RetentionPolicy['aggregateDays'];
    reportsDays: number;
    deadLetterDays: number;
    runsDays: number;
    dedupKeysDays: number;
    restoredKeepDays: number;
    archival: boolean;
  };
  cutoffs: {
    raw: string;
    aggregate: Record<string, string>;
    reports: string;
    deadLetters: string;
    runs: string;
    dedupKeys: string;
  };
  location: string;
  lastSweep: LastSweep | null;
  lastSuccess: string | null;
  nextSweep: string;
  archived: { raw: ArchivedRange[]; aggregate: Record<string, ArchivedRange[]>; reports: ArchivedRange[] };
  restored: { day: string; rows: number | null; restoredAt: string | null; keepUntil: string | null }[];
  failed: {
    kind: string;
    unit: string;
    attempts: number;
    errorCode: string | null;
    error: string | null;
    at: string;
  }[];
  pending: { kind: string; unit: string; status: string; attempts: number }[];
  storage: StorageUsage;
}

/** Consecutive units (days, or months) merged into ranges. */
function ranges(rows: readonly ArchiveRow[], label: (r: ArchiveRow) => string): ArchivedRange[] {
  const out: ArchivedRange[] = [];
  let current: (ArchivedRange & { end: number }) | undefined;
  for (const r of rows) {
    const start = r.rangeStart.getTime();
    if (current && start <= current.end + DAY_MS / 2 && start >= current.end - DAY_MS / 2) {
      current.to = label(r);
      current.units += 1;
      current.rows += r.rows ?? 0;
      current.bytes += r.bytes ?? 0;
      current.end = r.rangeEnd.getTime();
    } else {
      if (current) out.push(strip(current));
      current = {
        from: label(r),
        to: label(r),
        units: 1,
        rows: r.rows ?? 0,
        bytes: r.bytes ?? 0,
        end: r.rangeEnd.getTime(),
      };
    }
  }
  if (current) out.push(strip(current));
  return out;
}

function strip(r: ArchivedRange & { end: number }): ArchivedRange {
  const { end: _end, ...range } = r;
  return range;
}

interface SweepRunRow {
  id: number;
  status: string;
  trigger: string;
  started_at: Date;
  finished_at: Date | null;
  error_code: string | null;
  error: string | null;
  details: Record<string, unknown>;
  /** When the sweep's lock was last refreshed for this run; null when the lock is not held for it. */
  lock_refreshed_at: Date | null;
}

/**
 * The last sweep as shown. One whose invocation died shows failed with RUN_ABANDONED at once, though its
 * ledger row says 'running' until the next sweep (which may be a day away) marks it so.
 */
function lastSweep(run: SweepRunRow, abandoned: AbandonedRunError | null): LastSweep {
  const error = run.error_code ? { code: run.error_code, message: run.error ?? '' } : abandoned;
  return {
    runId: Number(run.id),
    status: abandoned ? 'failed' : run.status,
    trigger: run.trigger,
    startedAt: run.started_at.toISOString(),
    finishedAt: run.finished_at?.toISOString() ?? null,
    error,
    details: run.details,
  };
}

export async function retentionStatus(
  db: Queryable,
  policy: RetentionPolicy,
  options: {
    schedule: string;
    location: string;
    now: Date;
    /** The sweep's lock lease: a run still 'running' past it, its lock not refreshed, shows as abandoned. */
    runLeaseMs?: number | undefined;
  },
): Promise<RetentionStatus> {
  const { now } = options;
  const cutoffs = cutoffsAt(policy, now);
  const archives = await listArchives(db);
  const removed = archives.filter((a) => a.status === 'archived' || a.status === 'deleted');
  const aggregate: Record<string, ArchivedRange[]> = {};
  for (const level of ['hour', 'day', 'week', 'month']) {
    const rows = removed.filter((a) => a.kind === 'aggregate' && a.unit.startsWith(`${level}/`));
    if (rows.length > 0) aggregate[level] = ranges(rows, (r) => r.unit.slice(level.length + 1));
  }
  const runs = await db.query<SweepRunRow>(
    `SELECT id, status, trigger, started_at, finished_at, error_code, error, details, ${LOCK_REFRESHED_AT_COLUMN}
     FROM runs
     WHERE job = $1 AND status <> 'skipped' ORDER BY started_at DESC, id DESC LIMIT 1`,
    [RETENTION_JOB],
  );
  const success = await db.query<{ finished_at: Date }>(
    `SELECT finished_at FROM runs WHERE job = $1 AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1`,
    [RETENTION_JOB],
  );
  const last = runs.rows[0];
  return {
    policy: {
      rawDays: policy.rawDays,
      aggregateDays: policy.aggregateDays,
      reportsDays: policy.reportsDays,
      deadLetterDays: policy.deadLetterDays,
      runsDays: policy.runsDays,
      dedupKeysDays: policy.dedupKeysDays,
      restoredKeepDays: policy.restoredKeepDays,
      archival: policy.archival,
    },
    cutoffs: {
      raw: cutoffs.raw.toISOString(),
      aggregate: Object.fromEntries(Object.entries(cutoffs.aggregate).map(([l, d]) => [l, d.toISOString()])),
      reports: cutoffs.reports.toISOString(),
      deadLetters: cutoffs.deadLetters.toISOString(),
      runs: cutoffs.runs.toISOString(),
      dedupKeys: cutoffs.dedupKeys.toISOString(),
    },
    location: options.location,
    lastSweep: last ? lastSweep(last, abandonedRunError(last, now, options.runLeaseMs)) : null,
    lastSuccess: success.rows[0]?.finished_at.toISOString() ?? null,
    nextSweep: nextCronFire(options.schedule, CRON_TIME_ZONE, now).toISOString(),
    archived: {
      raw: ranges(
        removed.filter((a) => a.kind === 'raw'),
        (r) => r.unit,
      ),
      aggregate,
      reports: ranges(
        removed.filter((a) => a.kind === 'reports'),
        (r) => r.unit,
      ),
    },
    restored: archives
      .filter((a) => a.status === 'restored')
      .map((a) => ({
        day: a.unit,
        rows: a.rows,
        restoredAt: a.restoredAt?.toISOString() ?? null,
        keepUntil: a.keepUntil?.toISOString() ?? null,
      })),
    failed: archives
      .filter((a) => a.status === 'failed')
      .map((a) => ({
        kind: a.kind,
        unit: a.unit,
        attempts: a.attempts,
        errorCode: a.errorCode,
        error: a.error,
        at: a.updatedAt.toISOString(),
      })),
    pending: archives
      .filter((a) => a.status === 'pending' || a.status === 'verified')
      .map((a) => ({ kind: a.kind, unit: a.unit, status: a.status, attempts: a.attempts })),
    storage: await storageUsage(db, policy),
  };
}
