// Everything the web dashboard shows, read in one go from the same library calls the JSON routes use
// (aggregation status, the runs ledger, dead letters, health), so the page and the API cannot disagree.
import type { Queryable } from '../../db/index.ts';
import { listDeadLetters, type DeadLetterView, type PartitionLag } from '../../ingest/index.ts';
import {
  aggregationStatus,
  PERIOD_LEVEL,
  type AggregationStatusReport,
  type Period,
} from '../aggregation-status.ts';
import { checkHealth, type HealthReport } from '../health.ts';
import type { StatusDeps } from '../routes.ts';
import { latestCapacityAnalysis } from '../../capacity/store-sql.ts';
import type { CapacityAnswer } from '../../capacity/types.ts';
import { listReports, type ReportRow } from '../../reports/store/reports-sql.ts';
import { listRuns, type RunView } from '../runs.ts';
import { readPartitionLags } from '../state-metrics.ts';
import {
  aggregatedEventsPerHour,
  deadLetterCounts,
  deadLettersPerHour,
  dirtyClosedWindowCounts,
} from '../sql.ts';

const HOUR = 3_600_000;
/** The ingestion chart's span. */
export const INGESTION_HOURS = 48;

export interface DashboardData {
  generatedAt: Date;
  timeZone: string;
  health: HealthReport;
  aggregation: AggregationStatusReport;
  dirtyWindows: Record<Period, number>;
  runs: RunView[];
  failures: RunView[];
  ingestion: {
    /** The charts' span: whole hours, the current one included. */
    since: Date;
    until: Date;
    perHour: Array<{ hour: string; eventType: string; events: number }>;
    rejectedPerHour: Array<{ hour: string; rejected: number }>;
    /** null when Kafka is not configured; 'unavailable' when it did not answer. */
    lag: PartitionLag[] | 'unavailable' | null;
  };
  deadLetters: { recent: DeadLetterView[]; pending: number };
  /** The newest reports (generate-report writes them), newest first. */
  reports: ReportRow[];
  /** The newest capacity analysis of the fleet series (analyze-capacity writes it); undefined before the first. */
  capacity: CapacityAnswer | undefined;
}

async function lagOf(deps: StatusDeps, db: Queryable): Promise<DashboardData['ingestion']['lag']> {
  if (!deps.kafkaLag) return null;
  return (await readPartitionLags(db, deps.kafkaLag)) ?? 'unavailable';
}

export async function dashboardData(deps: StatusDeps, now: Date): Promise<DashboardData> {
  const { db } = deps;
  const since = new Date(Math.floor(now.getTime() / HOUR) * HOUR - INGESTION_HOURS * HOUR);
  const [
    health,
    aggregation,
    dirty,
    runs,
    failures,
    perHour,
    rejected,
    letters,
    counts,
    lag,
    reports,
    capacity,
  ] = await Promise.all([
    checkHealth(deps.probes, {
      now: () => now,
      ...(deps.healthTimeoutMs === undefined ? {} : { timeoutMs: deps.healthTimeoutMs }),
    }),
    aggregationStatus(db, { ...deps.aggregation, now }),
    dirtyClosedWindowCounts(db, deps.aggregation.timeZone, now),
    listRuns(db, { limit: 15 }),
    listRuns(db, { status: 'failed', limit: 8 }),
    aggregatedEventsPerHour(db, since),
    deadLettersPerHour(db, since),
    listDeadLetters(db, { limit: '8' }),
    deadLetterCounts(db),
    lagOf(deps, db),
    listReports(db, { limit: 8 }),
    latestCapacityAnalysis(db, { series: 'fleet' }),
  ]);
  const dirtyByLevel = new Map(dirty.map((d) => [d.level, d.dirty]));
  return {
    generatedAt: now,
    timeZone: deps.aggregation.timeZone,
    health: health.body,
    aggregation,
    dirtyWindows: {
      hourly: dirtyByLevel.get(PERIOD_LEVEL.hourly) ?? 0,
      daily: dirtyByLevel.get(PERIOD_LEVEL.daily) ?? 0,
      weekly: dirtyByLevel.get(PERIOD_LEVEL.weekly) ?? 0,
      monthly: dirtyByLevel.get(PERIOD_LEVEL.monthly) ?? 0,
    },
    runs: runs.runs,
    failures: failures.runs,
    ingestion: {
      since,
      until: new Date(since.getTime() + (INGESTION_HOURS + 1) * HOUR),
      perHour: perHour.map((r) => ({
        hour: new Date(r.hour).toISOString(),
        eventType: r.event_type,
        events: Number(r.events),
      })),
      rejectedPerHour: rejected.map((r) => ({ hour: new Date(r.hour).toISOString(), rejected: r.rejected })),
      lag,
    },
    deadLetters: { recent: letters.deadLetters, pending: counts.reduce((n, c) => n + c.count, 0) },
    reports,
    capacity,
  };
}
