// One run of analyze-capacity: takes the job lock, reads each configured resource's hourly series, analyses
// and forecasts them, stores the run's analyses and forecast points in one transaction, records the run in
// the ledger, and publishes capacity.alert for every series crossing its threshold within the alert horizon.
//
// Scheduled runs (cron tick, aggregation.completed for a day) are idempotent catch-up: they analyse only when
// the newest stored analysis ends before the local day of the newest hourly data, so one analysis is made per
// day however many ticks and events arrive, and a missed day is made by the next tick. A forced run (POST
// /capacity/analysis, an HTTP invocation) always analyses.
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { codeOf, messageOf } from '../aggregate/errors.ts';
import { localDate, localDateStart } from '../aggregate/index.ts';
import type { BatchProcessingConfig } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { BatchError } from '../errors/index.ts';
import {
  jobLeaseMs,
  BATCH_EVENTS_TOPIC,
  chainHeaders,
  expireAbandonedRuns,
  finishRun,
  keepJobLock,
  newLockOwner,
  reportRun,
  startRun,
  tryLockJob,
  unlockJob,
  type CapacityAlertEvent,
  type EventCause,
  type JobLogger,
  type Publish,
  type Trigger,
} from '../jobs/index.ts';
import { analyzeResource } from './analyze.ts';
import type { Fitter } from './forecast.ts';
import { resourceSpecs } from './resources.ts';
import { latestHourEnd, readHourlySeries } from './series-sql.ts';
import { insertCapacityRun, latestCapacityRun, pruneForecastPoints } from './store-sql.ts';
import type { CapacityAnalysis } from './types.ts';

export const CAPACITY_JOB = 'analyze-capacity';
const DAY_MS = 86_400_000;

export interface CapacityDeps {
  db: Database;
  config: Pick<BatchProcessingConfig, 'capacityAnalysis' | 'time' | 'jobs'>;
  log?: JobLogger | undefined;
  publish?: Publish | undefined;
  metrics?: Registry | undefined;
  clock?: (() => Date) | undefined;
  /** Tests may inject the MSTL fitter. */
  fit?: Fitter | undefined;
}

export interface CapacityRunRequest {
  trigger: Trigger;
  /** Analyse even when today's analysis exists (POST /capacity/analysis). */
  force: boolean;
  requestId?: string | undefined;
  cause?: EventCause | undefined;
}

export type CapacityRunStatus = 'succeeded' | 'skipped' | 'already_running' | 'failed';

export interface CapacityRunResult {
  status: CapacityRunStatus;
  runId: number | undefined;
  /** Why nothing was analysed (skipped), or what failed. */
  reason: string | undefined;
  error?: { code: string; message: string } | undefined;
  dataEnd: string | undefined;
  analyses: number;
  alerts: number;
  /** Resources without any hourly aggregate in the history window. */
  withoutData: string[];
  durationMs: number;
}

/** Throws CAPACITY_ANALYSIS_DISABLED when capacityAnalysis.enabled is false. */
export function assertCapacityEnabled(config: CapacityDeps['config']): void {
  if (!config.capacityAnalysis.enabled) {
    throw new BatchError(
      'CAPACITY_ANALYSIS_DISABLED',
      'capacity analysis is switched off (BATCH_PROCESSING_CAPACITY_ANALYSIS_ENABLED=false); set it to true to analyse and forecast',
    );
  }
}

/** The start of the local day (time.zone) holding the instant `at`, where its day's buckets start. */
function startOfLocalDay(at: Date, zone: string): Date {
  return new Date(localDateStart(localDate(at.getTime(), zone), zone));
}

async function dataEndOf(deps: CapacityDeps): Promise<Date | undefined> {
  const types = [...new Set(resourceSpecs(deps.config.capacityAnalysis).map((s) => s.source.eventType))];
  const ends = await Promise.all(types.map((t) => latestHourEnd(deps.db, t)));
  const times = ends.filter((e): e is Date => e !== undefined).map((e) => e.getTime());
  return times.length ? new Date(Math.max(...times)) : undefined;
}

function alertEvent(
  a: CapacityAnalysis,
  runId: number,
  at: Date,
  requestId: string | undefined,
): CapacityAlertEvent {
  return {
    type: 'capacity.alert',
    runId,
    ...(requestId ? { requestId } : {}),
    at: at.toISOString(),
    resource: a.resource,
    series: a.series,
    unit: a.unit,
    threshold: a.threshold!,
    limit: a.limit!,
    daysToThreshold: a.days_to_threshold ?? { point: null, earliest: null, latest: null },
    crossingAt: a.crossing_at,
    recommendation: a.recommendations[0]?.text ?? null,
  };
}

/**
 * Holding the lock proves no other analysis is alive (a lock is taken over only after its lease ran out): a run
 * an earlier invocation left 'running' — killed, timed out, or unable to mark itself failed — is expired.
 * Called by every invocation that holds the lock, a skipped one too: otherwise a crashed forced run stayed
 * 'running' for as long as the day's analysis existed and ticks found nothing to do.
 */
async function expireAbandoned(deps: CapacityDeps, runId: number): Promise<void> {
  const abandoned = await expireAbandonedRuns(deps.db, CAPACITY_JOB, runId);
  if (abandoned.length > 0) {
    deps.log?.warn(
      { job: CAPACITY_JOB, runIds: abandoned },
      'runs left running by an earlier invocation marked failed (RUN_ABANDONED)',
    );
  }
}

export async function runCapacityAnalysis(
  deps: CapacityDeps,
  req: CapacityRunRequest,
): Promise<CapacityRunResult> {
  assertCapacityEnabled(deps.config);
  const started = performance.now();
  const now = deps.clock?.() ?? new Date();
  const { db, config } = deps;
  const settings = config.capacityAnalysis;
  const result: CapacityRunResult = {
    status: 'succeeded',
    runId: undefined,
    reason: undefined,
    dataEnd: undefined,
    analyses: 0,
    alerts: 0,
    withoutData: [],
    durationMs: 0,
  };
  const finish = (): CapacityRunResult => {
    result.durationMs = Math.round(performance.now() - started);
    const worked = result.status === 'succeeded' || result.status === 'failed';
    reportRun(deps, {
      job: CAPACITY_JOB,
      runId: result.runId ?? 0,
      trigger: req.trigger,
      result: result.status === 'skipped' ? 'succeeded' : result.status,
      durationMs: result.durationMs,
      due: worked ? 1 : 0,
      attempted: worked ? 1 : 0,
      succeeded: result.status === 'succeeded' ? 1 : 0,
      error: result.error,
      cause: req.cause,
      details: {
        status: result.status,
        reason: result.reason,
        analyses: result.analyses,
        alerts: result.alerts,
      },
    });
    return result;
  };

  const owner = newLockOwner();
  const lease = jobLeaseMs(config.jobs.timeoutSeconds * 1000);
  if (!(await tryLockJob(db, CAPACITY_JOB, owner, lease))) {
    result.status = 'already_running';
    result.reason = 'another invocation holds the analyze-capacity lock; it is analysing now';
    result.runId = await startRun(db, {
      job: CAPACITY_JOB,
      trigger: req.trigger,
      status: 'skipped',
      details: { reason: 'already_running' },
    });
    return finish();
  }
  // Refreshed on a timer while the run reads and analyses (between its reads and fits: a fit is synchronous),
  // and inside the transaction that stores it: a run past its lease (timeout + 60 s) would otherwise let a
  // second analysis take the lock over as stale and store a run beside this one.
  const lock = keepJobLock(db, CAPACITY_JOB, owner, lease, deps.log);
  try {
    const dataEnd = await dataEndOf(deps);
    result.dataEnd = dataEnd?.toISOString();
    if (!req.force) {
      const latest = await latestCapacityRun(db);
      const today = dataEnd && startOfLocalDay(dataEnd, config.time.zone);
      if (dataEnd === undefined || (latest && today && latest.dataEnd.getTime() >= today.getTime())) {
        result.status = 'skipped';
        result.reason =
          dataEnd === undefined
            ? 'no hourly aggregates of the configured resources yet'
            : `the analysis of ${latest!.generatedAt.toISOString()} (run ${latest!.runId}) already covers this day`;
        result.runId = await startRun(db, {
          job: CAPACITY_JOB,
          trigger: req.trigger,
          windowEnd: dataEnd,
          status: 'skipped',
          details: { reason: result.reason, ...(req.cause ? { cause: req.cause } : {}) },
        });
        await expireAbandoned(deps, result.runId);
        return finish();
      }
    }
    const runId = await startRun(db, {
      job: CAPACITY_JOB,
      trigger: req.trigger,
      windowEnd: dataEnd,
      details: {
        ...(req.requestId ? { requestId: req.requestId } : {}),
        ...(req.cause ? { cause: req.cause } : {}),
        forced: req.force,
      },
    });
    result.runId = runId;
    await expireAbandoned(deps, runId);
    try {
      const analyses: CapacityAnalysis[] = [];
      let rowsIn = 0;
      const end = dataEnd ?? new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
      const from = new Date(end.getTime() - settings.historyDays * DAY_MS);
      const deadline = started + config.jobs.timeoutSeconds * 1000;
      for (const spec of resourceSpecs(settings)) {
        if (performance.now() > deadline) {
          throw new BatchError(
            'JOB_TIMEOUT',
            `capacity analysis stopped after ${config.jobs.timeoutSeconds} s (BATCH_PROCESSING_TIMEOUT) before ${spec.resource}; nothing was stored`,
          );
        }
        const rows = await readHourlySeries(db, spec.source, from, end);
        rowsIn += rows.length;
        if (rows.length === 0) {
          result.withoutData.push(spec.resource);
          continue;
        }
        analyses.push(
          ...analyzeResource(spec, rows, {
            end,
            horizonHours: settings.forecasting.horizonDays * 24,
            forecasting: settings.forecasting.enabled,
            alertHorizonDays: settings.alertHorizonDays,
            scaleDown: settings.scaleDown,
            timeZone: config.time.zone,
            ...(deps.fit ? { fit: deps.fit } : {}),
          }),
        );
      }
      const generatedAt = deps.clock?.() ?? new Date();
      await db.transaction(async (client) => {
        // Inside the transaction, the refresh holds the lock's row until the commit: the run stores its
        // analyses only while it is still the lock's owner.
        await lock.beat(client);
        if (lock.lost()) {
          throw new BatchError(
            'JOB_LOCK_LOST',
            `the lock of ${CAPACITY_JOB} was taken over as stale (lease ${lease} ms) before run ${runId} stored its analyses; nothing was stored, the run holding the lock analyses now`,
            { context: { job: CAPACITY_JOB, runId } },
          );
        }
        await insertCapacityRun(client, {
          runId,
          generatedAt,
          dataEnd: end,
          forecasting: settings.forecasting.enabled,
          analyses,
        });
        await pruneForecastPoints(
          client,
          new Date(generatedAt.getTime() - settings.forecasting.horizonDays * DAY_MS),
        );
      });
      const alerts = analyses.filter((a) => a.alert);
      result.analyses = analyses.length;
      result.alerts = alerts.length;
      await finishRun(db, runId, {
        status: 'succeeded',
        rowsIn,
        rowsOut: analyses.length,
        details: {
          dataEnd: end.toISOString(),
          alerts: alerts.map((a) => `${a.resource}/${a.series}`),
          withoutData: result.withoutData,
        },
      });
      for (const a of alerts) {
        const event = alertEvent(a, runId, generatedAt, req.requestId);
        try {
          await deps.publish?.(BATCH_EVENTS_TOPIC, `${a.resource}:${a.series}`, event, chainHeaders(event));
        } catch (err) {
          deps.log?.warn({ err, resource: a.resource, series: a.series }, 'could not publish capacity.alert');
        }
      }
      return finish();
    } catch (err) {
      await finishRun(db, runId, { status: 'failed', errorCode: codeOf(err), error: messageOf(err) }).catch(
        (finishErr: unknown) =>
          // The run stays 'running' until the next run of the job expires it (expireAbandonedRuns).
          deps.log?.error({ err: finishErr, runId }, 'could not mark the capacity run failed'),
      );
      throw err;
    }
  } catch (err) {
    result.status = 'failed';
    result.error = { code: codeOf(err), message: messageOf(err) };
    finish();
    throw err;
  } finally {
    await lock.stop();
    await unlockJob(db, CAPACITY_JOB, owner).catch((err: unknown) =>
      deps.log?.warn({ err, job: CAPACITY_JOB }, 'could not release the job lock'),
    );
  }
}
