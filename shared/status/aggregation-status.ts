// GET /aggregation/status: per period, the state of its job, its last window and run, how fresh its
// newest completed bucket is, how long ended data has waited to be aggregated, and when its cron fires next
// (cron-parser, in the configured zone).
import { CronExpressionParser } from 'cron-parser';
import type { Queryable } from '../db/index.ts';
import { abandonedRunError } from './abandoned-run.ts';
import {
  dirtyClosedWindowCounts,
  failingWindowCounts,
  latestRunPerJob,
  newestCompletedBucketEnds,
  type LatestRunRow,
} from './sql.ts';

export const PERIODS = ['hourly', 'daily', 'weekly', 'monthly'] as const;
export type Period = (typeof PERIODS)[number];
export const PERIOD_LEVEL: Record<Period, 'hour' | 'day' | 'week' | 'month'> = {
  hourly: 'hour',
  daily: 'day',
  weekly: 'week',
  monthly: 'month',
};

export interface AggregationStatusOptions {
  /** 5-field cron per period (the schedules of aggregate-hourly, …). */
  schedules: Record<Period, string>;
  timeZone: string;
  /** Job name in the runs ledger per period (default `aggregate-<level>`, as shared/jobs writes it). */
  jobNames?: Partial<Record<Period, string>>;
  /**
   * A run still 'running' after this long is past its job lock's lease (jobs.timeoutSeconds + 60 s): unless
   * the lock is still refreshed for it, its invocation ended without finishing it. It shows as failed now,
   * not only once the job runs again.
   */
  runLeaseMs?: number;
  now?: Date;
}

export interface PeriodStatus {
  status: 'completed' | 'running' | 'failed' | 'scheduled';
  job: string;
  schedule: string;
  lastWindow: { start: string; end: string | null; status: string } | null;
  lastRun: {
    id: number;
    status: string;
    trigger: string;
    startedAt: string;
    finishedAt: string | null;
    error: { code: string | null; message: string } | null;
  } | null;
  /**
   * Seconds since the end of the newest completed bucket; null before the first one. An age, not a delay: it
   * grows through the current period, which cannot be aggregated before it ends (a daily level that is up to
   * date reads up to 24 h). The metric hxp_aggregation_freshness_seconds and the AggregationStale alert's
   * per-period bounds (deploy/prometheus) are this value.
   */
  freshnessSeconds: number | null;
  /**
   * How far aggregation is behind: seconds since the end of the oldest ended bucket of this level whose data
   * is not aggregated yet (never done, changed by late events since, or failed); 0 when none waits. A period
   * that has not ended is never behind. A rollup's window is opened by the first window below it that is
   * done (a day by one of its hours), so a stuck hourly job shows on the hourly level, not on the daily.
   */
  lagSeconds: number;
  newestCompletedBucketEnd: string | null;
  failingWindows: number;
  nextRun: string;
}

export interface AggregationStatusReport {
  timestamp: string;
  timeZone: string;
  periods: Record<Period, PeriodStatus>;
}

const iso = (d: Date | null): string | null => (d === null ? null : new Date(d).toISOString());

/**
 * The zone every schedule fires in: the cron-connector's, which reads a plain 5-field expression in its own
 * zone (UTC in its image, which carries no zone database), and the local runtime's, which does as it does.
 */
export const CRON_TIME_ZONE = 'UTC';

export function nextCronFire(schedule: string, timeZone: string, after: Date): Date {
  return CronExpressionParser.parse(schedule, { tz: timeZone, currentDate: after }).next().toDate();
}

/** The run's error as shown: its own, or RUN_ABANDONED while the ledger still says it runs (abandoned-run.ts). */
function shownError(
  run: LatestRunRow,
  now: Date,
  leaseMs: number | undefined,
): { code: string | null; message: string } | null {
  if (run.error !== null) return { code: run.error_code, message: run.error };
  return abandonedRunError(run, now, leaseMs);
}

function stateOf(
  run: LatestRunRow | undefined,
  error: { code: string | null } | null,
  failing: number,
): PeriodStatus['status'] {
  if (!run) return 'scheduled';
  if (run.status === 'running' && error?.code !== 'RUN_ABANDONED') return 'running';
  if (run.status === 'failed' || run.status === 'running' || failing > 0) return 'failed';
  return 'completed';
}

export async function aggregationStatus(
  db: Queryable,
  options: AggregationStatusOptions,
): Promise<AggregationStatusReport> {
  const now = options.now ?? new Date();
  const job = (p: Period): string => options.jobNames?.[p] ?? `aggregate-${PERIOD_LEVEL[p]}`;
  const jobs = PERIODS.map(job);
  const [latest, latestWindows, fresh, failing, waiting] = await Promise.all([
    latestRunPerJob(db, jobs, false),
    latestRunPerJob(db, jobs, true),
    newestCompletedBucketEnds(db, options.timeZone),
    failingWindowCounts(db),
    dirtyClosedWindowCounts(db, options.timeZone, now),
  ]);
  const secondsSince = (end: Date): number =>
    Math.max(0, Math.round((now.getTime() - new Date(end).getTime()) / 1000));
  const periods = Object.fromEntries(
    PERIODS.map((p): [Period, PeriodStatus] => {
      const run = latest.find((r) => r.job === job(p));
      const win = latestWindows.find((r) => r.job === job(p));
      const end = fresh.find((f) => f.level === PERIOD_LEVEL[p])?.bucket_end ?? null;
      const failingCount = failing.find((f) => f.level === PERIOD_LEVEL[p])?.failing ?? 0;
      const oldestWaiting = waiting.find((w) => w.level === PERIOD_LEVEL[p])?.oldest_end ?? null;
      const error = run ? shownError(run, now, options.runLeaseMs) : null;
      return [
        p,
        {
          status: stateOf(run, error, failingCount),
          job: job(p),
          schedule: options.schedules[p],
          lastWindow: win?.window_start
            ? { start: iso(win.window_start)!, end: iso(win.window_end), status: win.status }
            : null,
          lastRun: run
            ? {
                id: Number(run.id),
                status: run.status,
                trigger: run.trigger,
                startedAt: iso(run.started_at)!,
                finishedAt: iso(run.finished_at),
                error,
              }
            : null,
          freshnessSeconds: end === null ? null : secondsSince(end),
          lagSeconds: oldestWaiting === null ? 0 : secondsSince(oldestWaiting),
          newestCompletedBucketEnd: iso(end),
          failingWindows: failingCount,
          nextRun: nextCronFire(options.schedules[p], CRON_TIME_ZONE, now).toISOString(),
        },
      ];
    }),
  ) as Record<Period, PeriodStatus>;
  return { timestamp: now.toISOString(), timeZone: options.timeZone, periods };
}
