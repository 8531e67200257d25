// runAggregation: one invocation of an aggregation job (hourly, daily, weekly or monthly). Takes the job
// lock, optionally backfills a range, then processes every closed window that is dirty and due, oldest
// first, each in its own transaction (hours due together in batches, HOURS_PER_TRANSACTION); records
// everything in the runs ledger and publishes completions.
import { performance } from 'node:perf_hooks';
import {
  LEVELS,
  assertSupportedTimeZone,
  isLevel,
  listDueWindows,
  markRangeDirty,
  oldestDirtyBucket,
  rekeyStaleWindows,
  type CalendarOptions,
  type DueWindow,
  type Level,
} from '../aggregate/index.ts';
import { codeOf, messageOf } from '../aggregate/errors.ts';
import type { Queryable } from '../db/index.ts';
import { BatchError } from '../errors/index.ts';
import { refuseRemovedSources } from './backfill-guard.ts';
import { processWindowBatch } from './window.ts';
import { processDueWindows } from './window-loop.ts';
import { TRIGGERS, expireAbandonedRuns, finishRun, startRun } from './ledger.ts';
import { reportRun } from './run-report.ts';
import { jobLeaseMs, newLockOwner, setLockRun, tryLockJob, unlockJob } from './lock.ts';
import { keepJobLock } from './lock-keeper.ts';
import {
  DEFAULT_WINDOW_CONCURRENCY,
  HOURS_PER_TRANSACTION,
  type AggregationStatus,
  type AggregationSummary,
  type BeforeAggregateResult,
  type JobDeps,
  type RunAggregationRequest,
} from './types.ts';

const DAY_MS = 86_400_000;

/**
 * The due windows as units of at most `size` consecutive windows, in order. A window that failed before goes
 * alone: were it to fail again, it would take its batch's transaction down with it every time.
 */
function inBatches(due: readonly DueWindow[], size: number): DueWindow[][] {
  const units: DueWindow[][] = [];
  let batch: DueWindow[] = [];
  for (const window of due) {
    if (window.attempts > 0) {
      units.push([window]);
      continue;
    }
    if (batch.length === size) batch = [];
    if (batch.length === 0) units.push(batch);
    batch.push(window);
  }
  return units;
}

export function aggregationJobName(level: Level): string {
  return `aggregate-${level}`;
}

function toDate(value: Date | string, name: string): Date {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw new BatchError(
      'REQUEST_INVALID',
      `backfill "${name}" is ${JSON.stringify(value)}, not a date; use an ISO 8601 timestamp such as "2026-11-01T00:00:00Z"`,
      { context: { [name]: String(value) } },
    );
  }
  return d;
}

function backfillRange(req: RunAggregationRequest): { from: Date; to: Date } | undefined {
  if (req.from === undefined && req.to === undefined) return undefined;
  if (req.from === undefined || req.to === undefined) {
    throw new BatchError('REQUEST_INVALID', 'a backfill needs both "from" and "to" (to exclusive)', {
      context: { from: req.from, to: req.to },
    });
  }
  const from = toDate(req.from, 'from');
  const to = toDate(req.to, 'to');
  if (from >= to) {
    throw new BatchError(
      'REQUEST_INVALID',
      `backfill "from" (${from.toISOString()}) must be before "to" (${to.toISOString()})`,
      { context: { from: from.toISOString(), to: to.toISOString() } },
    );
  }
  return { from, to };
}

function overallStatus(done: number, failed: number, timedOut: boolean): AggregationStatus {
  if (timedOut) return 'timed_out';
  if (failed === 0) return 'succeeded';
  return done > 0 ? 'partial' : 'failed';
}

function assertRequest(req: RunAggregationRequest): void {
  if (!isLevel(req.level)) {
    throw new BatchError(
      'REQUEST_INVALID',
      `level is ${JSON.stringify(req.level)}; expected one of ${LEVELS.join(', ')}`,
      {
        context: { level: req.level },
      },
    );
  }
  if (!TRIGGERS.includes(req.trigger)) {
    throw new BatchError(
      'REQUEST_INVALID',
      `trigger is ${JSON.stringify(req.trigger)}; expected one of ${TRIGGERS.join(', ')}`,
      { context: { trigger: req.trigger } },
    );
  }
}

/** The run's one summary line and its metrics. The ingestion step before an hourly run counts as a unit. */
function report(deps: JobDeps, req: RunAggregationRequest, summary: AggregationSummary, note?: string): void {
  const pulled = summary.ingest !== undefined || summary.ingestError !== undefined ? 1 : 0;
  reportRun(deps, {
    job: aggregationJobName(req.level),
    runId: summary.runId,
    trigger: req.trigger,
    result: summary.status,
    durationMs: summary.durationMs,
    due: summary.windowsDue + pulled,
    attempted: summary.windows.length + pulled,
    // a window left removed did what it should: it counts as no failure in the success rate
    succeeded: summary.windowsDone + summary.windowsLeftRemoved + (summary.ingest !== undefined ? 1 : 0),
    error: summary.error,
    cause: req.cause,
    details: {
      level: req.level,
      windowsDue: summary.windowsDue,
      windowsDone: summary.windowsDone,
      windowsFailed: summary.windowsFailed,
      windowsLeftRemoved: summary.windowsLeftRemoved,
      rowsIn: summary.rowsIn,
      rowsOut: summary.rowsOut,
      ...(summary.ingest ? { ingested: summary.ingest } : {}),
      ...(note ? { note } : {}),
    },
  });
}

export async function runAggregation(deps: JobDeps, req: RunAggregationRequest): Promise<AggregationSummary> {
  const started = performance.now();
  assertRequest(req);
  const { db, options } = deps;
  const now = req.now ?? deps.clock?.() ?? new Date();
  const calendar: CalendarOptions = { timeZone: options.timeZone, weekStart: options.weekStart };
  const range = backfillRange(req);
  const job = aggregationJobName(req.level);
  const owner = newLockOwner();
  const lease = options.lockLeaseMs ?? jobLeaseMs(options.timeoutMs);
  const summary: AggregationSummary = {
    status: 'succeeded',
    level: req.level,
    runId: 0,
    windowsDue: 0,
    windowsDone: 0,
    windowsFailed: 0,
    windowsLeftRemoved: 0,
    rowsIn: 0,
    rowsOut: 0,
    durationMs: 0,
    windows: [],
  };
  const elapsed = (): number => Math.round(performance.now() - started);
  const enabled = req.enabled ?? true;
  if (range && !enabled) {
    throw new BatchError(
      'AGGREGATION_DISABLED',
      `the ${req.level} aggregation is switched off (aggregation.enabled / aggregation.intervals); switch it ` +
        'on to backfill — its windows are caught up then anyway',
      { context: { level: req.level } },
    );
  }

  if (!(await tryLockJob(db, job, owner, lease))) {
    summary.status = 'already_running';
    summary.runId = await startRun(db, {
      job,
      trigger: req.trigger,
      windowStart: range?.from,
      windowEnd: range?.to,
      status: 'skipped',
      details: { level: req.level, reason: 'already_running' },
    });
    summary.durationMs = elapsed();
    report(deps, req, summary, 'another invocation holds the job lock; this one did nothing');
    // A tick or catch-up call has nothing to add: the running invocation processes every due window. A
    // backfill's range was not marked, so its caller must hear that it did not happen (and retry).
    if (range) {
      throw new BatchError(
        'JOB_ALREADY_RUNNING',
        `${job} is already running (this request is run ${summary.runId}, recorded as skipped); the backfill ` +
          `${range.from.toISOString()} – ${range.to.toISOString()} was not started: send it again when the ` +
          'running invocation has finished',
        { context: { job, runId: summary.runId } },
      );
    }
    return summary;
  }

  // Refreshed after each window (inside its transaction when it succeeds) and, as one window can outlast the
  // lease, on a timer while a window runs: a lock that looked stale would let a second invocation take it over
  // and work on the same windows.
  const lock = keepJobLock(db, job, owner, lease, deps.log);
  let runId: number | undefined;
  try {
    runId = await startRun(db, {
      job,
      trigger: req.trigger,
      windowStart: range?.from,
      windowEnd: range?.to,
      details: {
        level: req.level,
        now: now.toISOString(),
        ...(req.requestId ? { requestId: req.requestId } : {}),
        ...(req.cause ? { cause: req.cause } : {}),
      },
    });
    summary.runId = runId;
    await setLockRun(db, job, owner, runId);

    const oldest = await oldestDirtyBucket(db, req.level);
    const checkFrom = Math.min(
      now.getTime() - DAY_MS,
      oldest?.getTime() ?? Infinity,
      range?.from.getTime() ?? Infinity,
    );
    assertSupportedTimeZone(
      options.timeZone,
      new Date(checkFrom),
      new Date(Math.max(now.getTime(), range?.to.getTime() ?? 0)),
    );

    // Expires runs of this job that a crashed or cut-off invocation left 'running': holding the lock
    // proves no other invocation of the job is alive.
    const abandoned = await expireAbandonedRuns(db, job, runId);
    if (abandoned.length > 0) {
      deps.log?.warn({ job, runIds: abandoned }, 'runs left running by an earlier invocation marked failed');
    }

    let ingestFailed: { code: string; message: string } | undefined;
    if (req.level === 'hour' && req.beforeAggregate) {
      try {
        const ingest: BeforeAggregateResult = await req.beforeAggregate();
        summary.ingest = ingest;
      } catch (err) {
        ingestFailed = { code: codeOf(err), message: messageOf(err) };
        summary.ingestError = ingestFailed;
        deps.log?.error(
          { err, job, runId },
          'ingestion before the hourly aggregation failed; aggregating what is stored',
        );
      }
    }
    if (!enabled) {
      summary.status = 'disabled';
      summary.durationMs = elapsed();
      await finishRun(db, runId, {
        status: 'skipped',
        rowsIn: summary.ingest?.rowsIn,
        details: {
          status: 'disabled',
          reason: 'disabled',
          ingest: summary.ingest,
          durationMs: summary.durationMs,
        },
      });
      report(deps, req, summary, 'the level is switched off (aggregation.enabled / aggregation.intervals)');
      return summary;
    }
    const rekeyed = await rekeyStaleWindows(db, req.level, calendar);
    if (rekeyed > 0) {
      deps.log?.warn(
        {
          job,
          level: req.level,
          windows: rekeyed,
          timeZone: calendar.timeZone,
          weekStart: calendar.weekStart,
        },
        'dirty windows of an earlier time zone or week start were moved to the configured calendar',
      );
    }
    if (range) {
      await refuseRemovedSources(db, req.level, range, calendar.timeZone);
      summary.windowsMarked = await markRangeDirty(db, req.level, range.from, range.to, calendar);
    }

    // A backfill does its range and nothing else: other due windows are the next tick's, so what a
    // backfill answers is exactly what it was asked to redo.
    const due: DueWindow[] = (await listDueWindows(db, req.level, now, options.retries, calendar)).filter(
      (w) => !range || (w.end > range.from && w.bucket < range.to),
    );
    summary.windowsDue = due.length;
    const parentRunId = runId;
    const workers = db.embedded
      ? 1
      : Math.max(1, Math.floor(options.concurrency ?? DEFAULT_WINDOW_CONCURRENCY));
    const ctx = {
      job,
      level: req.level,
      trigger: req.trigger,
      runId: parentRunId,
      requestId: req.requestId,
      now,
      calendar,
      heartbeat: (q: Queryable) => lock.beat(q),
    };
    const units = inBatches(due, req.level === 'hour' ? HOURS_PER_TRANSACTION : 1);
    const { outcomes: batches, timedOut } = await processDueWindows(units, workers, {
      process: (windows) => processWindowBatch(deps, ctx, windows),
      outOfTime: () => elapsed() > options.timeoutMs,
      lockLost: () => lock.lost(),
    });
    const lockLost = lock.lost();
    const outcomes = batches.flat();
    for (const outcome of outcomes) {
      summary.windows.push(outcome);
      if (outcome.status === 'succeeded') summary.windowsDone += 1;
      else if (outcome.status === 'left_removed') summary.windowsLeftRemoved += 1;
      else summary.windowsFailed += 1;
      summary.rowsIn += outcome.rowsIn;
      summary.rowsOut += outcome.rowsOut;
    }

    summary.status = overallStatus(
      summary.windowsDone + summary.windowsLeftRemoved,
      summary.windowsFailed + (ingestFailed ? 1 : 0),
      timedOut,
    );
    if (lockLost) {
      summary.status = 'failed';
      summary.error = {
        code: 'JOB_LOCK_LOST',
        message: `the lock of ${job} was taken over as stale (lease ${lease} ms); stopped`,
      };
    } else if (timedOut) {
      summary.error = {
        code: 'JOB_TIMEOUT',
        message: `stopped after ${elapsed()} ms (timeout ${options.timeoutMs} ms) with ${due.length - summary.windows.length} windows left for the next run`,
      };
    } else if (ingestFailed) {
      summary.error = ingestFailed;
    } else if (summary.windowsFailed > 0) {
      summary.error = {
        code: 'WINDOW_FAILED',
        message: `${summary.windowsFailed} of ${summary.windows.length} windows failed; they are retried on later runs`,
      };
    }
    summary.durationMs = elapsed();
    await finishRun(db, runId, {
      status: summary.status === 'succeeded' ? 'succeeded' : 'failed',
      rowsIn: summary.rowsIn,
      rowsOut: summary.rowsOut,
      errorCode: summary.error?.code,
      error: summary.error?.message,
      details: {
        status: summary.status,
        windowsDone: summary.windowsDone,
        windowsFailed: summary.windowsFailed,
        windowsLeftRemoved: summary.windowsLeftRemoved,
        windowsMarked: summary.windowsMarked,
        ingest: summary.ingest,
        durationMs: summary.durationMs,
      },
    });
    report(deps, req, summary);
    return summary;
  } catch (err) {
    if (runId !== undefined) {
      await finishRun(db, runId, { status: 'failed', errorCode: codeOf(err), error: messageOf(err) }).catch(
        (finishErr: unknown) =>
          // The run stays 'running' until the next invocation of the job expires it (expireAbandonedRuns).
          deps.log?.error(
            { err: finishErr, job, runId },
            'could not mark the run failed; it is expired later',
          ),
      );
    }
    summary.status = 'failed';
    summary.durationMs = elapsed();
    summary.error = { code: codeOf(err), message: messageOf(err) };
    report(deps, req, summary);
    throw err;
  } finally {
    await lock.stop();
    await unlockJob(db, job, owner).catch((err: unknown) =>
      deps.log?.warn({ err, job }, 'could not release the job lock'),
    );
  }
}
