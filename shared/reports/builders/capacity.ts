// capacity_analysis: renders what analyze-capacity stored for the period (shared/capacity) — utilisation per
// resource and series against its limit, the forecast with its calibrated 95 % band, days to the threshold,
// and the recommendations with their arithmetic. No analysis for the period is REPORT_SOURCE_MISSING, never
// an empty report.
import { capacityRunEndingIn, latestCapacityRun, readCapacityAnalyses, FLEET } from '../../capacity/index.ts';
import type { Queryable } from '../../db/index.ts';
import { BatchError } from '../../errors/index.ts';
import type { SectionData } from '../model.ts';
import type { CalendarOptions } from '../../aggregate/index.ts';
import { periodContaining, type Period } from '../period.ts';

/** At most this many forecast points per series go into the document (the chart's resolution). */
const MAX_POINTS = 24 * 35;

/** The analyze-capacity run of the period; REPORT_SOURCE_MISSING (never an empty report) when there is none. */
export async function requireCapacityRun(db: Queryable, period: Period) {
  const run = await capacityRunEndingIn(db, period.start, period.end);
  if (!run) {
    throw new BatchError(
      'REPORT_SOURCE_MISSING',
      `no capacity analysis covers ${period.label}: analyze-capacity stores one a day, after the day's aggregation (its cron, or POST /capacity/analysis), and none has read history ending in that day; ask for a day it has analysed`,
      { context: { field: 'period', period: period.label } },
    );
  }
  return run;
}

/**
 * The day of the newest analysis, which a capacity report asked for without a period renders: analyze-capacity
 * reads history up to its run, so the newest one usually ends in today, not in the last complete day.
 */
export async function newestAnalysedDay(
  db: Queryable,
  calendar: CalendarOptions,
): Promise<Period | undefined> {
  const run = await latestCapacityRun(db);
  return run && periodContaining('day', new Date(run.dataEnd.getTime() - 1), calendar);
}

export async function buildCapacity(db: Queryable, period: Period): Promise<SectionData> {
  const run = await requireCapacityRun(db, period);
  const analyses = await readCapacityAnalyses(db, run.runId);
  const rows = analyses.map((a) => ({
    resource: a.resource,
    series: a.series,
    unit: a.unit,
    status: a.status,
    mean: a.utilization.mean,
    p95: a.utilization.p95,
    max: a.utilization.max,
    limit: a.limit,
    threshold: a.threshold,
    utilization_ratio: a.utilization.ratio,
    headroom: a.utilization.headroom,
    growth_per_week: a.growth_per_week,
    days_to_threshold: a.days_to_threshold?.point ?? null,
    days_to_threshold_earliest: a.days_to_threshold?.earliest ?? null,
    days_to_threshold_latest: a.days_to_threshold?.latest ?? null,
    crossing_at: a.crossing_at,
    alert: a.alert,
    model: a.forecast?.model ?? null,
    note: a.reason,
  }));
  const points = analyses
    .filter((a) => a.series === FLEET && a.forecast?.points?.length)
    .flatMap((a) =>
      a.forecast!.points!.slice(0, MAX_POINTS).map((p) => ({
        resource: a.resource,
        timestamp: p.timestamp,
        value: p.value,
        lo95: p.lo95,
        hi95: p.hi95,
        threshold: a.threshold,
      })),
    );
  return {
    capacity: {
      run_id: run.runId,
      generated_at: run.generatedAt.toISOString(),
      data_end: run.dataEnd.toISOString(),
      forecasting: run.forecasting,
      rows,
    },
    capacity_forecast: points,
    recommendations: analyses.flatMap((a) =>
      a.recommendations.map((r) => ({
        resource: a.resource,
        series: a.series,
        action: r.action,
        text: r.text,
      })),
    ),
  };
}
