// runRetentionSweep: one invocation of the retention sweep (cron tick, HTTP call, or dry run). Takes the job
// lock, plans, and works through the units oldest first — each raw day and aggregate month archived,
// verified and removed on its own, retried in the run when S3 or PostgreSQL was unreachable — then deletes
// expired bookkeeping rows. Everything is recorded in the runs ledger and the archives table, so a crash at
// any point leaves work the next sweep finishes. A dry run only plans: it takes no lock and writes nothing.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { codeOf, messageOf } from '../aggregate/errors.ts';
import { isRetriable } from '../errors/index.ts';
import {
  BATCH_EVENTS_TOPIC,
  expireAbandonedRuns,
  finishRun,
  keepJobLock,
  newLockOwner,
  startRun,
  tryLockJob,
  unlockJob,
} from '../jobs/index.ts';
import { setLockRun } from '../jobs/lock.ts';
import { reportRun } from '../jobs/run-report.ts';
import {
  deleteArchivedAggregates,
  exportAggregateUnit,
  verifyAggregateArchive,
} from './aggregate-archive.ts';
import {
  beginArchive,
  markFailed,
  markVerified,
  recordArchiveObjects,
  type ArchiveRow,
} from './archives-sql.ts';
import { deleteExpired } from './bookkeeping-sql.ts';
import { aggregateFolder, manifestKey, rawDayFolder } from './layout.ts';
import { deleteExpiredReports, writeReportsManifest } from './reports-archive.ts';
import { reportsOf } from './reports-sql.ts';
import type { RetentionCompletedEvent, RetentionFailedEvent } from './events.ts';
import { recordSweep } from './metrics.ts';
import { planSweep, publicEntry, type PlannedUnit } from './plan.ts';
import {
  dropRawDay,
  exportRawDay,
  liveMatchesManifest,
  verifyRawArchive,
  type RawDayContext,
} from './raw-archive.ts';
import type { RawManifest } from './manifest.ts';
import {
  DEFAULT_RETENTION_OPTIONS,
  type RetentionDeps,
  type RetentionOptions,
  type SweepRequest,
  type SweepStatus,
  type SweepSummary,
} from './types.ts';

export const RETENTION_JOB = 'retention-sweep';

export function retentionOptions(deps: RetentionDeps): RetentionOptions {
  return { ...DEFAULT_RETENTION_OPTIONS, ...deps.options };
}

type RawUnit = Extract<PlannedUnit, { kind: 'raw' }>;
type AggregateUnitEntry = Extract<PlannedUnit, { kind: 'aggregate' }>;

/** Export, verify, drop — or, for a restored day whose archive still holds, verify and drop. */
async function sweepRawDay(ctx: RawDayContext, unit: RawUnit, row: ArchiveRow): Promise<void> {
  const { deps } = ctx;
  const { partition } = unit;
  let manifest: RawManifest | undefined;
  if (unit.action === 'reverify' && row.manifestKey) {
    try {
      const existing = await verifyRawArchive(deps.store, partition.day, row.manifestSha256);
      if (await liveMatchesManifest(deps, partition, existing)) manifest = existing;
    } catch (err) {
      if (codeOf(err) !== 'ARCHIVE_VERIFICATION_FAILED') throw err;
      deps.log?.warn(
        { err, day: partition.day },
        'the archive of a restored day no longer verifies; writing it again',
      );
    }
  }
  // A restored day whose archive still verifies is dropped without a write; only a written one counts as archived.
  let written = false;
  if (unit.action !== 'delete' && manifest === undefined) {
    const exported = await exportRawDay(ctx, partition);
    await recordArchiveObjects(deps.db, row.id, {
      objects: exported.manifest.objects,
      manifestKey: manifestKey(rawDayFolder(partition.day)),
      manifestSha256: exported.sha256,
      rows: exported.manifest.rows,
    });
    written = true;
    manifest = await verifyRawArchive(deps.store, partition.day, exported.sha256);
    await markVerified(deps.db, row.id);
    await deps.hooks?.step?.('verified', partition.day);
  }
  const dropped = await dropRawDay(ctx, partition, row.id, manifest);
  if (!dropped.dropped) {
    unit.outcome = 'kept';
    unit.reason = dropped.reason;
    return;
  }
  unit.rows = dropped.rows;
  unit.outcome = 'done';
  if (written) unit.archivedRows = dropped.rows;
  if (manifest) {
    unit.manifest = manifestKey(rawDayFolder(partition.day));
    unit.archiveBytes = manifest.objects.reduce((sum, o) => sum + o.bytes, 0);
  }
}

async function sweepAggregateUnit(
  ctx: RawDayContext,
  unit: AggregateUnitEntry,
  row: ArchiveRow,
): Promise<void> {
  const { deps } = ctx;
  let manifest;
  if (unit.action === 'archive') {
    const written = await exportAggregateUnit(ctx, unit.aggregate);
    const key = manifestKey(aggregateFolder(unit.aggregate.level, unit.aggregate.month));
    await recordArchiveObjects(deps.db, row.id, {
      objects: written.manifest.objects,
      manifestKey: key,
      manifestSha256: written.sha256,
      rows: written.manifest.rows,
    });
    manifest = await verifyAggregateArchive(ctx, unit.aggregate, written.sha256);
    await markVerified(deps.db, row.id);
    unit.manifest = key;
    unit.archiveBytes = manifest.objects.reduce((sum, o) => sum + o.bytes, 0);
  }
  const deleted = await deleteArchivedAggregates(ctx, unit.aggregate, row.id, manifest);
  if (!deleted.deleted) {
    unit.outcome = 'kept';
    unit.reason = deleted.reason;
    return;
  }
  unit.rows = deleted.rows;
  unit.outcome = 'done';
  if (unit.action === 'archive') unit.archivedRows = deleted.rows;
}

type ReportsUnitEntry = Extract<PlannedUnit, { kind: 'reports' }>;

async function sweepReportsUnit(ctx: RawDayContext, unit: ReportsUnitEntry, row: ArchiveRow): Promise<void> {
  const { deps } = ctx;
  let ids: number[];
  if (unit.action === 'archive') {
    const written = await writeReportsManifest(ctx, unit.reports);
    await recordArchiveObjects(deps.db, row.id, {
      objects: [],
      manifestKey: written.key,
      manifestSha256: written.sha256,
      rows: written.manifest.rows,
    });
    await markVerified(deps.db, row.id);
    unit.manifest = written.key;
    ids = written.manifest.reports.map((r) => Number(r.id));
  } else {
    ids = (await reportsOf(deps.db, unit.reports)).map((r) => Number(r.id));
  }
  unit.rows = await deleteExpiredReports(ctx, unit.reports, row.id, ids, unit.action === 'archive');
  unit.outcome = 'done';
  if (unit.action === 'archive') unit.archivedRows = unit.rows;
}

/** One unit, retried in the run while its failure is retriable (S3 or the database unreachable). */
async function sweepUnit(
  ctx: RawDayContext,
  unit: PlannedUnit,
  heartbeat: () => Promise<void>,
): Promise<void> {
  const { deps, options } = ctx;
  const started = performance.now();
  if (unit.kind !== 'raw' && unit.kind !== 'aggregate' && unit.kind !== 'reports') {
    unit.rows = await deleteExpired(deps.db, unit.kind, unit.cutoff, options.deleteBatchRows, heartbeat);
    unit.outcome = 'done';
    unit.durationMs = Math.round(performance.now() - started);
    return;
  }
  const archiveUnit = {
    kind: unit.kind,
    unit: unit.unit,
    start: new Date(unit.range.from ?? 0),
    end: new Date(unit.range.to),
  };
  for (let attempt = 1; ; attempt++) {
    const row = await beginArchive(deps.db, archiveUnit, ctx.runId);
    unit.attempts = row.attempts;
    try {
      if (unit.kind === 'raw') await sweepRawDay(ctx, unit, row);
      else if (unit.kind === 'aggregate') await sweepAggregateUnit(ctx, unit, row);
      else await sweepReportsUnit(ctx, unit, row);
      break;
    } catch (err) {
      const retry = isRetriable(err) && attempt <= options.retries;
      const code = codeOf(err);
      const message = messageOf(err);
      deps.log?.[retry ? 'warn' : 'error'](
        { err, unit: unit.unit, kind: unit.kind, attempt },
        retry ? 'retention unit failed; retrying' : 'retention unit failed; nothing of it was removed',
      );
      if (!retry) {
        await markFailed(deps.db, row.id, code, message).catch((markErr: unknown) =>
          deps.log?.warn({ err: markErr, unit: unit.unit }, 'could not record the failed retention unit'),
        );
        unit.outcome = 'failed';
        unit.error = { code, message };
        break;
      }
      await sleep(options.retryBaseMs * 2 ** (attempt - 1));
    }
  }
  unit.durationMs = Math.round(performance.now() - started);
}

function emptyTotals(): SweepSummary['totals'] {
  return {
    archivedRows: 0,
    reverifiedRows: 0,
    removedRows: 0,
    droppedPartitions: 0,
    deletedRows: 0,
    failed: 0,
  };
}

function statusOf(done: number, failed: number, timedOut: boolean): SweepStatus {
  if (timedOut) return 'timed_out';
  if (failed === 0) return 'succeeded';
  return done > 0 ? 'partial' : 'failed';
}

function summarize(units: readonly PlannedUnit[]): SweepSummary['totals'] {
  const totals = emptyTotals();
  for (const u of units) {
    if (u.outcome === 'failed') totals.failed += 1;
    if (u.outcome !== 'done') continue;
    if (u.kind === 'raw' || u.kind === 'aggregate' || u.kind === 'reports') {
      totals.removedRows += u.rows;
      // Only rows written now: a restored day checked against its existing archive was counted when written.
      if (u.archivedRows !== undefined) totals.archivedRows += u.archivedRows;
      else if (u.action === 'reverify') totals.reverifiedRows += u.rows;
      if (u.kind === 'raw') totals.droppedPartitions += 1;
    } else {
      totals.deletedRows += u.rows;
    }
  }
  return totals;
}

async function publishSafely(deps: RetentionDeps, key: string, value: object): Promise<void> {
  try {
    await deps.publish?.(BATCH_EVENTS_TOPIC, key, value);
  } catch (err) {
    deps.log?.warn({ err, key }, 'could not publish a retention event');
  }
}

export async function runRetentionSweep(deps: RetentionDeps, request: SweepRequest): Promise<SweepSummary> {
  const started = performance.now();
  const options = retentionOptions(deps);
  const { db, policy } = deps;
  const now = request.now ?? deps.clock?.() ?? new Date();
  const elapsed = (): number => Math.round(performance.now() - started);
  const summary: SweepSummary = {
    status: 'planned',
    dryRun: request.dryRun === true,
    runId: 0,
    now: now.toISOString(),
    cutoffs: {},
    archival: policy.archival,
    location: deps.store.location,
    units: [],
    totals: emptyTotals(),
    durationMs: 0,
  };
  const finish = (units: readonly PlannedUnit[], cutoffs: Record<string, Date | Record<string, Date>>) => {
    summary.units = units.map(publicEntry);
    summary.cutoffs = flatCutoffs(cutoffs);
    summary.totals = summarize(units);
    summary.durationMs = elapsed();
  };

  if (request.dryRun) {
    const plan = await planSweep(db, policy, now);
    finish(plan.units, plan.cutoffs as unknown as Record<string, Date>);
    return summary;
  }

  const owner = newLockOwner();
  if (!(await tryLockJob(db, RETENTION_JOB, owner, options.lockLeaseMs))) {
    summary.status = 'already_running';
    summary.runId = await startRun(db, {
      job: RETENTION_JOB,
      trigger: request.trigger,
      status: 'skipped',
      details: { reason: 'already_running' },
    });
    summary.durationMs = elapsed();
    // The same error object as every other job's 409 (JOB_ALREADY_RUNNING), so a caller matches on the code.
    // The lock is a lease (shared/jobs/lock.ts): a holder that died cannot be told from one that works, so
    // the message says when a dead one stops blocking.
    summary.error = {
      code: 'JOB_ALREADY_RUNNING',
      message:
        `${RETENTION_JOB} is already running (this request is run ${summary.runId}, recorded as skipped); ` +
        'nothing was done: send it again when that sweep has finished. If its process died, its lock lapses ' +
        `${Math.round(options.lockLeaseMs / 1000)} s after its last refresh and the next sweep marks its run failed (RUN_ABANDONED)`,
    };
    reportRun(deps, {
      job: RETENTION_JOB,
      runId: summary.runId,
      trigger: request.trigger,
      result: 'already_running',
      durationMs: summary.durationMs,
      due: 0,
      attempted: 0,
      succeeded: 0,
      details: { note: 'another sweep holds the lock; this invocation did nothing' },
    });
    return summary;
  }

  // Refreshed after each unit and, as a day's export can outlast the lease, on a timer while a unit runs: a
  // lock that looked stale would let a second sweep take it over and work on the same day.
  const lock = keepJobLock(db, RETENTION_JOB, owner, options.lockLeaseMs, deps.log);
  let runId: number | undefined;
  try {
    runId = await startRun(db, {
      job: RETENTION_JOB,
      trigger: request.trigger,
      details: { now: now.toISOString() },
    });
    summary.runId = runId;
    await setLockRun(db, RETENTION_JOB, owner, runId);
    // Holding the lock proves no other sweep is alive (a lock is taken over only after its lease ran out):
    // a run an earlier sweep left 'running' — killed, timed out, or unable to mark itself failed — is expired.
    const abandoned = await expireAbandonedRuns(db, RETENTION_JOB, runId);
    if (abandoned.length > 0) {
      deps.log?.warn(
        { job: RETENTION_JOB, runIds: abandoned },
        'runs left running by an earlier sweep marked failed (RUN_ABANDONED)',
      );
    }
    const plan = await planSweep(db, policy, now);
    const ctx: RawDayContext = { deps, options, runId, now };
    let timedOut = false;
    const heartbeat = (): Promise<void> => lock.beat();
    for (const unit of plan.units) {
      if (unit.action === 'keep') {
        unit.outcome = 'kept';
        continue;
      }
      if (lock.lost() || (elapsed() > options.timeoutMs && !timedOut)) timedOut = true;
      if (timedOut || lock.lost()) {
        unit.outcome = 'not_reached';
        continue;
      }
      await sweepUnit(ctx, unit, heartbeat);
      await heartbeat();
    }
    const lockLost = lock.lost();
    finish(plan.units, plan.cutoffs as unknown as Record<string, Date>);
    const done = plan.units.filter((u) => u.outcome === 'done').length;
    summary.status = lockLost ? 'failed' : statusOf(done, summary.totals.failed, timedOut);
    if (lockLost) {
      summary.error = {
        code: 'JOB_LOCK_LOST',
        message: `the lock of ${RETENTION_JOB} was taken over as stale; stopped`,
      };
    } else if (timedOut) {
      summary.error = {
        code: 'JOB_TIMEOUT',
        message: `stopped after ${elapsed()} ms (timeout ${options.timeoutMs} ms); the rest is left for the next sweep`,
      };
    } else if (summary.totals.failed > 0) {
      const first = plan.units.find((u) => u.outcome === 'failed');
      summary.error = {
        code: first?.error?.code ?? 'INTERNAL',
        message: `${summary.totals.failed} unit(s) failed and were left as they were (first ${first?.kind} ${first?.unit}: ${first?.error?.message ?? '?'}); the next sweep tries them again`,
      };
    }
    await finishRun(db, runId, {
      status: summary.status === 'succeeded' ? 'succeeded' : 'failed',
      rowsIn: summary.totals.removedRows + summary.totals.deletedRows,
      rowsOut: summary.totals.archivedRows,
      errorCode: summary.error?.code,
      error: summary.error?.message,
      details: {
        status: summary.status,
        totals: summary.totals,
        durationMs: summary.durationMs,
        units: summary.units.length,
      },
    });
    const at = (deps.clock?.() ?? new Date()).toISOString();
    const completed: RetentionCompletedEvent = {
      type: 'retention.completed',
      runId,
      status: summary.status,
      ...summary.totals,
      at,
    };
    await publishSafely(deps, `${RETENTION_JOB}:${runId}`, completed);
    for (const unit of summary.units.filter((u) => u.outcome === 'failed')) {
      const failed: RetentionFailedEvent = {
        type: 'run.failed',
        job: RETENTION_JOB,
        kind: unit.kind,
        unit: unit.unit,
        attempts: unit.attempts ?? 1,
        errorCode: unit.error?.code ?? 'INTERNAL',
        error: unit.error?.message ?? '',
        runId,
        at,
      };
      await publishSafely(deps, `${RETENTION_JOB}:${unit.kind}:${unit.unit}`, failed);
    }
    if (deps.metrics) recordSweep(deps.metrics, summary);
    const acted = plan.units.filter((u) => u.action !== 'keep');
    reportRun(deps, {
      job: RETENTION_JOB,
      runId,
      trigger: request.trigger,
      result: summary.status === 'planned' ? 'succeeded' : summary.status,
      durationMs: summary.durationMs,
      due: acted.length,
      attempted: acted.filter((u) => u.outcome !== 'not_reached').length,
      succeeded: acted.filter((u) => u.outcome === 'done').length,
      error: summary.error,
      details: { ...summary.totals },
    });
    return summary;
  } catch (err) {
    if (runId !== undefined) {
      await finishRun(db, runId, { status: 'failed', errorCode: codeOf(err), error: messageOf(err) }).catch(
        (finishErr: unknown) =>
          deps.log?.warn(
            { err: finishErr, runId },
            'could not mark the retention run failed (expired later as abandoned)',
          ),
      );
    }
    throw err;
  } finally {
    await lock.stop();
    await unlockJob(db, RETENTION_JOB, owner).catch((err: unknown) =>
      deps.log?.warn({ err, job: RETENTION_JOB }, 'could not release the job lock'),
    );
  }
}

function flatCutoffs(cutoffs: Record<string, Date | Record<string, Date>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(cutoffs)) {
    if (value instanceof Date) out[key] = value.toISOString();
    else for (const [level, date] of Object.entries(value)) out[`${key}.${level}`] = date.toISOString();
  }
  return out;
}
