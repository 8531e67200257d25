// One window attempt: its own ledger row and transaction; failures become retry state, not exceptions.
import { performance } from 'node:perf_hooks';
import {
  markWindowFailed,
  recomputeWindow,
  type CalendarOptions,
  type DueWindow,
  type Level,
} from '../aggregate/index.ts';
import { codeOf, messageOf } from '../aggregate/errors.ts';
import type { Queryable } from '../db/index.ts';
import {
  BATCH_EVENTS_TOPIC,
  chainHeaders,
  type AggregationCompletedEvent,
  type RunFailedEvent,
} from './events.ts';
import { finishRun, startRun, type Trigger } from './ledger.ts';
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
   * on its own after a failure.
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
        await finishRun(tx, runId, {
          status: 'succeeded',
          rowsIn: r.rowsIn,
          rowsOut: r.rowsOut,
          details: { durationMs },
        });
        await ctx.heartbeat(tx);
      },
    });
    const event: AggregationCompletedEvent = {
      type: 'aggregation.completed',
      level: ctx.level,
      bucket,
      rows: result.rowsOut,
      runId: ctx.runId,
      ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
      at: (deps.clock?.() ?? new Date()).toISOString(),
    };
    await publishSafely(deps, `${ctx.level}:${bucket}`, event);
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
