// One series' hours made ready for analysis: laid on a dense hourly grid from its first hour to the
// analysis end, missing hours filled (linear between neighbours, then replaced by trend + seasonal
// profile) and counted, outliers found on the decomposition's remainder (robust z-score over 1.4826·MAD)
// and replaced by the expected value in the copy the model sees. The observed values stay as they were
// for the statistics: a spike is real load, it only must not bend the forecast.
import { decompose, median, seasonalStrength } from './decompose.ts';
import { DAY, periodsFor, WEEK } from './forecast.ts';

const HOUR = 3_600_000;
/** A remainder more than this many robust standard deviations from its median is an outlier. */
export const OUTLIER_Z = 5;
/** Outliers listed per series (the count covers all of them). */
const OUTLIERS_LISTED = 20;

export interface Outlier {
  timestamp: string;
  value: number;
  expected: number;
}

export interface PreparedSeries {
  /** First hour of the grid. */
  start: Date;
  /** End of the grid (exclusive): the analysis end. */
  end: Date;
  /** Observed value per grid hour (NaN where missing). */
  observed: number[];
  /** Filled and outlier-cleaned values per grid hour: what the model is fitted on. */
  values: number[];
  observedHours: number;
  filledHours: number;
  outlierCount: number;
  outliers: Outlier[];
  lastObservedAt: Date;
  seasonality: { daily: number; weekly: number | null };
}

/** Hours since the Monday 00:00 UTC before the epoch, so phase 0 of the weekly period is Monday 00:00 UTC. */
function weekPhase(at: Date): number {
  // 1970-01-01 was a Thursday: Monday 1969-12-29 00:00 is 3 days earlier.
  return Math.round(at.getTime() / HOUR + 3 * DAY) % WEEK;
}

function interpolate(observed: readonly number[]): number[] {
  const out = [...observed];
  let last = -1;
  for (let i = 0; i < out.length; i++) {
    if (Number.isNaN(out[i])) continue;
    if (last >= 0 && i - last > 1) {
      for (let j = last + 1; j < i; j++)
        out[j] = out[last]! + ((out[i]! - out[last]!) * (j - last)) / (i - last);
    }
    last = i;
  }
  for (let j = last + 1; j < out.length; j++) out[j] = out[last]!;
  return out;
}

/**
 * Lays `points` (one series, any order) on the grid [first hour, end). Undefined when the series has no
 * point before `end`.
 */
export function prepareSeries(
  points: ReadonlyArray<{ hour: Date; value: number }>,
  end: Date,
): PreparedSeries | undefined {
  const inRange = points.filter((p) => p.hour.getTime() < end.getTime());
  if (inRange.length === 0) return undefined;
  const startMs = Math.min(...inRange.map((p) => p.hour.getTime()));
  const n = Math.round((end.getTime() - startMs) / HOUR);
  const observed = new Array<number>(n).fill(NaN);
  let lastObserved = startMs;
  for (const p of inRange) {
    observed[Math.round((p.hour.getTime() - startMs) / HOUR)] = p.value;
    lastObserved = Math.max(lastObserved, p.hour.getTime());
  }
  const observedHours = observed.filter((v) => !Number.isNaN(v)).length;
  const start = new Date(startMs);
  const periods = periodsFor(n);
  const phase0 = weekPhase(start);

  // Fill, decompose, then fill again from the decomposition so a missing afternoon looks like an afternoon.
  let values = interpolate(observed);
  let parts = decompose(values, periods, phase0);
  const expected = (i: number): number =>
    parts.trend[i]! + [...parts.seasonal.values()].reduce((sum, s) => sum + s[i]!, 0);
  values = values.map((v, i) => (Number.isNaN(observed[i]) ? expected(i) : v));
  parts = decompose(values, periods, phase0);

  // Outliers: residuals from trend + profiles, robust z over the observed hours; found again once the
  // first ones no longer shape the trend and profiles they were part of.
  const meanLevel = values.reduce((a, b) => a + Math.abs(b), 0) / n;
  const outlying = (): Set<number> => {
    const residual = values.map((v, i) => v - expected(i));
    const observedResiduals = residual.filter((_, i) => !Number.isNaN(observed[i]));
    const centre = median(observedResiduals);
    const spread = median(observedResiduals.map((r) => Math.abs(r - centre)));
    const scale = Math.max(1.4826 * spread, 1e-6 * (meanLevel + 1));
    const found = new Set<number>();
    residual.forEach((r, i) => {
      if (!Number.isNaN(observed[i]) && Math.abs(r - centre) > OUTLIER_Z * scale) found.add(i);
    });
    return found;
  };
  let found = outlying();
  // Past a tenth of the hours it is the model of normal that is wrong, not the hours: nothing is an outlier.
  if (found.size > n / 10) found = new Set();
  if (found.size > 0) {
    parts = decompose(interpolate(values.map((v, i) => (found.has(i) ? NaN : v))), periods, phase0);
    found = outlying();
    if (found.size > n / 10) found = new Set();
  }
  const outliers: Outlier[] = [];
  values = values.map((v, i) => {
    if (!found.has(i)) return v;
    const fit = expected(i);
    outliers.push({ timestamp: new Date(startMs + i * HOUR).toISOString(), value: v, expected: fit });
    return fit;
  });
  outliers.sort((a, b) => Math.abs(b.value - b.expected) - Math.abs(a.value - a.expected));

  const daily = parts.seasonal.get(DAY)!;
  const weekly = parts.seasonal.get(WEEK);
  return {
    start,
    end,
    observed,
    values,
    observedHours,
    filledHours: n - observedHours,
    outlierCount: outliers.length,
    outliers: outliers.slice(0, OUTLIERS_LISTED),
    lastObservedAt: new Date(lastObserved),
    seasonality: {
      daily: seasonalStrength(daily, parts.remainder),
      weekly: weekly ? seasonalStrength(weekly, parts.remainder) : null,
    },
  };
}
