// Window attempts: one window with its own ledger row and transaction, or several windows sharing one
// transaction (processWindowBatch); failures become retry state, not exceptions. A window left removed
// (shared/aggregate/removed-sources.ts) is no failure: its ledger row is 'skipped' and it publishes nothing.
import { performance } from 'node:perf_hooks';
import {
  leftRemovedReason,
  markWindowFailed,
  recomputeWindow,
  recomputeWindows,
  type RecomputeResult,
  type CalendarOptions,
  type DueWindow,
  type Level,
  type MissingSource,
} from '../aggregate/index.ts';
import { codeOf, messageOf } from '../aggregate/errors.ts';
import type { Queryable } from '../db/index.ts';
import {
  BATCH_EVENTS_TOPIC,
  chainHeaders,
  type AggregationCompletedEvent,
  type RunFailedEvent,
} from './events.ts';
import { finishRun, recordFinishedRuns, startRun, type Trigger } from './ledger.ts';
import type { JobDeps, WindowOutcome } from './types.ts';

export interface WindowContext {
  job: string;
  level: Level;
  trigger: Trigger;
  runId: number;
  /** The invocation's request id, carried by the events (the chain's id). */
  requestId?: string | undefined;
  now: Date;
  calendar: CalendarOptions;
  /**
   * Refreshes the job lock after the window: inside its transaction when it succeeds (one commit for both),
   * on its own after a failure. While the window runs, the run's timer refreshes it (keepJobLock).
   */
  heartbeat: (db: Queryable) => Promise<void>;
}

async function publishSafely(
  deps: JobDeps,
  key: string,
  value: AggregationCompletedEvent | RunFailedEvent,
): Promise<void> {
  if (!deps.publish) return;
  try {
    await deps.publish(BATCH_EVENTS_TOPIC, key, value, chainHeaders(value));
  } catch (err) {
    // The window is committed; a lost notification must not undo or fail it.
    deps.log?.warn({ err, topic: BATCH_EVENTS_TOPIC, key }, 'could not publish an aggregation event');
  }
}

async function publishCompleted(
  deps: JobDeps,
  ctx: WindowContext,
  bucket: string,
  rows: number,
): Promise<void> {
  const event: AggregationCompletedEvent = {
    type: 'aggregation.completed',
    level: ctx.level,
    bucket,
    rows,
    runId: ctx.runId,
    ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
    at: (deps.clock?.() ?? new Date()).toISOString(),
  };
  await publishSafely(deps, `${ctx.level}:${bucket}`, event);
}

/** A window left removed: logged at info (it needs no one), no aggregation.completed (nothing was stored). */
function leftRemovedOutcome(
  deps: JobDeps,
  ctx: WindowContext,
  base: Pick<WindowOutcome, 'level' | 'bucket' | 'end' | 'attempt' | 'runId'>,
  missing: MissingSource,
  durationMs: number,
): WindowOutcome {
  const reason = leftRemovedReason(missing);
  deps.log?.info({ job: ctx.job, window: base.bucket, reason }, 'aggregation window left removed');
  return { ...base, status: 'left_removed', rowsIn: 0, rowsOut: 0, durationMs, reason };
}

export async function processWindow(
  deps: JobDeps,
  ctx: WindowContext,
  window: DueWindow,
): Promise<WindowOutcome> {
  const { db, options } = deps;
  const attempt = window.attempts + 1;
  const bucket = window.bucket.toISOString();
  const runId = await startRun(db, {
    job: ctx.job,
    trigger: ctx.trigger,
    windowStart: window.bucket,
    windowEnd: window.end,
    attempt,
    details: { level: ctx.level, parentRunId: ctx.runId },
  });
  const started = performance.now();
  const base = { level: ctx.level, bucket, end: window.end.toISOString(), attempt, runId };
  try {
    let durationMs = 0;
    // The success row is written inside the window's transaction: it commits with the window's state or not
    // at all (a failed commit is recorded as a failure below), and the window costs one commit, not two.
    const result = await recomputeWindow(db, ctx.level, window.bucket, ctx.calendar, {
      beforeCommit: async (tx, r) => {
        durationMs = Math.round(performance.now() - started);
        const reason = r.leftRemoved ? leftRemovedReason(r.leftRemoved) : undefined;
        await finishRun(tx, runId, {
          status: reason ? 'skipped' : 'succeeded',
          rowsIn: r.rowsIn,
          rowsOut: r.rowsOut,
          details: { durationMs, ...(reason ? { leftRemoved: reason } : {}) },
        });
        await ctx.heartbeat(tx);
      },
    });
    if (result.leftRemoved) return leftRemovedOutcome(deps, ctx, base, result.leftRemoved, durationMs);
    await publishCompleted(deps, ctx, bucket, result.rowsOut);
    return { ...base, status: 'succeeded', rowsIn: result.rowsIn, rowsOut: result.rowsOut, durationMs };
  } catch (err) {
    const code = codeOf(err);
    const message = messageOf(err);
    const retryAt = new Date(ctx.now.getTime() + options.retryDelayMs);
    await ctx.heartbeat(db);
    const attempts = await markWindowFailed(db, ctx.level, window.bucket, `${code}: ${message}`, retryAt);
    const exhausted = attempts > options.retries;
    const durationMs = Math.round(performance.now() - started);
    await finishRun(db, runId, {
      status: 'failed',
      errorCode: code,
      error: message,
      details: { durationMs, exhausted, retryAt: exhausted ? null : retryAt.toISOString() },
    });
    deps.log?.[exhausted ? 'error' : 'warn'](
      { err, job: ctx.job, window: bucket, attempt, exhausted },
      exhausted ? 'aggregation window failed after its last retry' : 'aggregation window failed; will retry',
    );
    if (exhausted) {
      const event: RunFailedEvent = {
        type: 'run.failed',
        job: ctx.job,
        level: ctx.level,
        bucket,
        attempts,
        errorCode: code,
        error: message,
        runId: ctx.runId,
        ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
        at: (deps.clock?.() ?? new Date()).toISOString(),
      };
      await publishSafely(deps, `${ctx.job}:${bucket}`, event);
    }
    return {
      ...base,
      status: 'failed',
      rowsIn: 0,
      rowsOut: 0,
      durationMs,
      error: { code, message },
      exhausted,
    };
  }
}

/**
 * Several windows of one level in one transaction: the bookkeeping a window costs (its ledger row, the read of
 * its changed_seq, the delete, the mark, the job lock's heartbeat, BEGIN and COMMIT — about ten round trips)
 * is paid once for all of them. Their ledger rows are written as succeeded with the commit, each with the
 * batch's size and time in its details; a batch that fails leaves nothing, and each of its windows is then
 * attempted on its own (processWindow), so a failing window fails alone, with its own ledger row and retry
 * state, and the others succeed.
 */
export async function processWindowBatch(
  deps: JobDeps,
  ctx: WindowContext,
  windows: readonly DueWindow[],
): Promise<WindowOutcome[]> {
  if (windows.length === 1) return [await processWindow(deps, ctx, windows[0]!)];
  const started = performance.now();
  let runIds: number[] = [];
  let durations: number[] = [];
  let results: RecomputeResult[];
  try {
    results = await recomputeWindows(
      deps.db,
      ctx.level,
      windows.map((w) => w.bucket),
      ctx.calendar,
      {
        beforeCommit: async (tx, done) => {
          const total = performance.now() - started;
          // each window's own statements, and an equal share of those they shared
          const shared = Math.max(0, total - done.reduce((n, r) => n + r.computeMs, 0)) / done.length;
          durations = done.map((r) => Math.round(r.computeMs + shared));
          runIds = await recordFinishedRuns(
            tx,
            ctx.job,
            ctx.trigger,
            windows.map((w, i) => ({
              status: done[i]!.leftRemoved ? 'skipped' : 'succeeded',
              windowStart: w.bucket,
              windowEnd: w.end,
              attempt: w.attempts + 1,
              rowsIn: done[i]!.rowsIn,
              rowsOut: done[i]!.rowsOut,
              details: {
                level: ctx.level,
                parentRunId: ctx.runId,
                durationMs: durations[i],
                batch: { windows: windows.length, durationMs: Math.round(total) },
                ...(done[i]!.leftRemoved ? { leftRemoved: leftRemovedReason(done[i]!.leftRemoved) } : {}),
              },
            })),
          );
          await ctx.heartbeat(tx);
        },
      },
    );
  } catch (err) {
    deps.log?.warn(
      { err, job: ctx.job, windows: windows.length, first: windows[0]!.bucket.toISOString() },
      'a transaction of several windows failed; each is attempted on its own',
    );
    const outcomes: WindowOutcome[] = [];
    for (const window of windows) outcomes.push(await processWindow(deps, ctx, window));
    return outcomes;
  }
  const outcomes: WindowOutcome[] = [];
  for (const [i, window] of windows.entries()) {
    const bucket = window.bucket.toISOString();
    const { rowsIn, rowsOut, leftRemoved } = results[i]!;
    const base = {
      level: ctx.level,
      bucket,
      end: window.end.toISOString(),
      attempt: window.attempts + 1,
      runId: runIds[i]!,
    };
    if (leftRemoved) {
      outcomes.push(leftRemovedOutcome(deps, ctx, base, leftRemoved, durations[i]!));
      continue;
    }
    await publishCompleted(deps, ctx, bucket, rowsOut);
    outcomes.push({
      ...base,
      status: 'succeeded',
      rowsIn,
      rowsOut,
      durationMs: durations[i]!,
    });
  }
  return outcomes;
}
