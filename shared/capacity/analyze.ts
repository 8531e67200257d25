// The analysis of one resource: its fleet series and one per host/source, each prepared (gaps, outliers),
// described (utilisation, growth, seasonality), forecast with calibrated intervals, checked against its
// threshold and limit, and given recommendations. Pure: the rows come in, the documents go out.
import { crossing } from './crossing.ts';
import { forecastSeries, type Fitter } from './forecast.ts';
import { prepareSeries, type PreparedSeries } from './prepare.ts';
import { crossingPhrase, recommend, type Peak } from './recommend.ts';
import type { ResourceSpec } from './resources.ts';
import type { HourlyRow } from './series-sql.ts';
import { growthPerWeek, utilization, weeklyP95 } from './statistics.ts';
import { FLEET, type CapacityAnalysis, type Forecast, type ForecastPoint } from './types.ts';

const HOUR = 3_600_000;
/** Less observed history than this is refused: "insufficient history: N hours, need 72". */
export const MIN_HISTORY_HOURS = 72;
/** A series whose last hour is older than this (before the analysis end) stopped reporting. */
export const STALE_AFTER_HOURS = 24;

export interface AnalyzeOptions {
  /** End of the analysed history (exclusive): the forecast starts here. */
  end: Date;
  horizonHours: number;
  forecasting: boolean;
  alertHorizonDays: number;
  scaleDown: { percent: number; weeks: number };
  timeZone: string;
  fit?: Fitter;
  windows?: number;
}

interface SeriesWork {
  series: string;
  isFleet: boolean;
  prepared: PreparedSeries;
  status: CapacityAnalysis['status'];
  reason: string | null;
}

const round = (v: number, digits = 4): number => Number(v.toFixed(digits));

function groupSeries(rows: readonly HourlyRow[]): Map<string, HourlyRow[]> {
  const groups = new Map<string, HourlyRow[]>();
  for (const row of rows) {
    const key = row.dimension === 'all' ? FLEET : row.dimensionValue;
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(row);
  }
  return groups;
}

function classify(prepared: PreparedSeries, end: Date): Pick<SeriesWork, 'status' | 'reason'> {
  const silentHours = Math.round((end.getTime() - prepared.lastObservedAt.getTime()) / HOUR) - 1;
  if (silentHours >= STALE_AFTER_HOURS) {
    return {
      status: 'stale',
      reason: `no data since ${new Date(prepared.lastObservedAt.getTime() + HOUR).toISOString()} (${silentHours} hours before the end of the history); not forecast`,
    };
  }
  if (prepared.observedHours < MIN_HISTORY_HOURS) {
    return {
      status: 'insufficient_history',
      reason: `insufficient history: ${prepared.observedHours} hours, need ${MIN_HISTORY_HOURS}`,
    };
  }
  return { status: 'ok', reason: null };
}

function lastWeekPeak(prepared: PreparedSeries): Peak {
  let best = -Infinity;
  let at = prepared.start.getTime();
  const from = Math.max(0, prepared.observed.length - 168);
  for (let i = from; i < prepared.observed.length; i++) {
    const v = prepared.observed[i]!;
    if (!Number.isNaN(v) && v > best) [best, at] = [v, prepared.start.getTime() + i * HOUR];
  }
  return { value: best, timestamp: new Date(at).toISOString(), from: 'history' };
}

/**
 * The most a series can read: a percentage of a host's capacity stops at 100 (or at the limit, when one is
 * configured above it) — a disk is full, a CPU busy all the time. Other units have no ceiling.
 */
export function ceilingOf(spec: ResourceSpec, capacity: number | undefined): number {
  return spec.unit === '%' ? Math.max(100, capacity ?? 100) : Infinity;
}

function forecastOf(
  work: SeriesWork,
  options: AnalyzeOptions,
  ceiling: number,
): { forecast: Forecast; points: ForecastPoint[] } {
  const f = forecastSeries(work.prepared.values, {
    horizon: options.horizonHours,
    floor: 0,
    ...(options.fit ? { fit: options.fit } : {}),
    ...(options.windows ? { windows: options.windows } : {}),
  });
  const start = options.end.getTime();
  const timestamp = (i: number): string => new Date(start + i * HOUR).toISOString();
  // Held at the ceiling; what the trend asks beyond it is kept as the demand, for the arithmetic of sizing.
  const held = (v: number): number => round(Math.min(ceiling, v));
  const points: ForecastPoint[] = f.point.map((value, i) => ({
    timestamp: timestamp(i),
    value: held(value),
    lo80: held(f.lo80[i]!),
    hi80: held(f.hi80[i]!),
    lo95: held(f.lo95[i]!),
    hi95: held(f.hi95[i]!),
  }));
  const peak = points.reduce((a, b) => (b.value > a.value ? b : a), points[0]!);
  const asked = f.point.reduce((a, v, i) => (v > f.point[a]! ? i : a), 0);
  const demand =
    f.point[asked]! > ceiling ? { value: round(f.point[asked]!), timestamp: timestamp(asked) } : null;
  const b = f.backtest;
  return {
    points,
    forecast: {
      model: f.model,
      periods: f.periods,
      fallback_reason: f.fallbackReason ?? null,
      horizon_hours: options.horizonHours,
      calibration: f.calibration,
      peak: { value: peak.value, timestamp: peak.timestamp },
      demand,
      backtest: b
        ? {
            windows: b.windows,
            horizon_hours: b.horizon,
            mase: round(b.mase),
            smape: round(b.smape),
            coverage80: b.coverage80 === undefined ? null : round(b.coverage80),
            coverage95: b.coverage95 === undefined ? null : round(b.coverage95),
            baseline_mase: round(b.baselineMase),
            baseline_smape: round(b.baselineSmape),
            mstl_mase: b.mstlMase === undefined ? null : round(b.mstlMase),
            linear_mase: b.linearMase === undefined ? null : round(b.linearMase),
          }
        : null,
      points,
    },
  };
}

/** Analyses of `spec` from its hourly rows (fleet and per source), the fleet first. */
export function analyzeResource(
  spec: ResourceSpec,
  rows: readonly HourlyRow[],
  options: AnalyzeOptions,
): CapacityAnalysis[] {
  const works: SeriesWork[] = [];
  for (const [series, points] of groupSeries(rows)) {
    const prepared = prepareSeries(points, options.end);
    if (!prepared) continue;
    works.push({ series, isFleet: series === FLEET, prepared, ...classify(prepared, options.end) });
  }
  works.sort((a, b) => (a.isFleet === b.isFleet ? a.series.localeCompare(b.series) : a.isFleet ? -1 : 1));
  const hosts = Math.max(1, works.filter((w) => !w.isFleet && w.status !== 'stale').length);

  const analyses = works.map((work) => {
    const { prepared } = work;
    const capacity =
      spec.limit === undefined
        ? undefined
        : spec.scaling === 'replicas' && work.isFleet
          ? spec.limit * hosts
          : spec.limit;
    const threshold = capacity === undefined ? undefined : (capacity * spec.thresholdPercent) / 100;
    const stats = utilization(prepared.observed, prepared.start, options.timeZone);
    const hours = prepared.observed.length;
    const analysis: CapacityAnalysis = {
      resource: spec.resource,
      series: work.series,
      unit: spec.unit,
      status: work.status,
      reason: work.reason,
      threshold: threshold ?? null,
      threshold_percent: spec.thresholdPercent,
      limit: capacity ?? null,
      hosts: work.isFleet ? hosts : null,
      history: {
        start: prepared.start.toISOString(),
        end: prepared.end.toISOString(),
        hours,
        observed_hours: prepared.observedHours,
        filled_hours: prepared.filledHours,
        outlier_count: prepared.outlierCount,
        outliers: prepared.outliers.map((o) => ({
          ...o,
          value: round(o.value),
          expected: round(o.expected),
        })),
        last_observed_at: prepared.lastObservedAt.toISOString(),
      },
      utilization: {
        mean: round(stats.mean),
        p95: round(stats.p95),
        max: round(stats.max),
        peak_hour: stats.peakHour,
        peak_weekday: stats.peakWeekday ?? null,
        headroom: threshold === undefined ? null : round(threshold - stats.p95),
        ratio: capacity === undefined ? null : round(stats.p95 / capacity),
      },
      growth_per_week:
        work.status === 'insufficient_history' ? null : nullable(growthPerWeek(prepared.values)),
      seasonality: {
        daily: round(prepared.seasonality.daily),
        weekly: prepared.seasonality.weekly === null ? null : round(prepared.seasonality.weekly),
      },
      forecast: null,
      days_to_threshold: null,
      crossing_at: null,
      threshold_crossing: null,
      days_to_limit: null,
      limit_crossing: null,
      alert: false,
      recommendations: [],
    };
    if (options.forecasting && work.status === 'ok') {
      const { forecast, points } = forecastOf(work, options, ceilingOf(spec, capacity));
      analysis.forecast = forecast;
      if (threshold !== undefined && capacity !== undefined) {
        const t = crossing(points, threshold, options.end);
        const l = crossing(points, capacity, options.end);
        analysis.days_to_threshold = t.days;
        analysis.crossing_at = t.dates.point_at;
        analysis.threshold_crossing = t.dates;
        analysis.days_to_limit = l.days;
        analysis.limit_crossing = l.dates;
        analysis.alert = t.days.point !== null && t.days.point <= options.alertHorizonDays;
      }
    }
    return analysis;
  });

  const fleet = analyses.find((a) => a.series === FLEET);
  const peakOf = (a: CapacityAnalysis, work: SeriesWork): Peak =>
    a.forecast
      ? {
          ...a.forecast.peak,
          from: 'forecast',
          ...(a.forecast.demand ? { demand: a.forecast.demand } : {}),
        }
      : lastWeekPeak(work.prepared);
  const fleetWork = works.find((w) => w.isFleet);
  const fleetPeak = fleet && fleetWork ? peakOf(fleet, fleetWork) : undefined;
  analyses.forEach((a, i) => {
    const work = works[i]!;
    if (work.status === 'stale') {
      a.recommendations = [
        {
          action: 'investigate',
          text: `${spec.resource} on ${a.series}: ${work.reason}; the fleet's figures count the ${hosts} ${spec.scaling === 'replicas' ? 'sources' : 'hosts'} still reporting — if it was retired, nothing to do`,
          current: null,
          recommended: null,
        },
      ];
      return;
    }
    if (work.status !== 'ok') return;
    const c = a.threshold_crossing;
    // Named when it is a day or more ahead (a series already over its threshold needs no date).
    const crossing =
      c?.point_at && (a.days_to_threshold?.point ?? 0) >= 1
        ? crossingPhrase({ ...c, point_at: c.point_at }, options.timeZone)
        : undefined;
    a.recommendations = recommend({
      spec,
      crossing,
      series: a.series,
      isFleet: work.isFleet,
      hosts,
      peak: peakOf(a, work),
      weeklyP95: weeklyP95(work.prepared.observed, options.scaleDown.weeks),
      scaleDown: options.scaleDown,
      timeZone: options.timeZone,
      ...(fleetPeak && fleet?.limit != null
        ? {
            fleetPeak: ((fleetPeak.demand ?? fleetPeak).value / fleet.limit) * 100,
            fleetUnderThreshold:
              ((fleetPeak.demand ?? fleetPeak).value / fleet.limit) * 100 < spec.thresholdPercent,
          }
        : {}),
    });
  });
  return analyses;
}

function nullable(v: number | undefined): number | null {
  return v === undefined ? null : round(v);
}
