// The history's growth carried on: a straight line through the means of the last whole cycles of the
// longest seasonal period, through the last day's level, plus the daily (and weekly) profile of what the
// line leaves. Its slope is what growth_per_week measures; forecast.ts uses it where MSTL's forecast
// grows otherwise than the history did (its growth check).
//
// Slope: the line through the cycle means, per hour — the least-squares slope with one level per hour of
// the cycle, so a daily or weekly swing does not tilt it (a plain line through one week of a daily swing
// of ±10 leans by up to ±2.7 a week, by where the week starts in the swing).
//
// 95 % half-width at step x: z·√(σ² + ι·σ²/24 + (x − x_d)²·Var(slope)), σ² the residual variance, x_d the
// middle of the last day, Var(slope) that of the line through the cycle means (each of `cycle` hours,
// variance ι·σ²/cycle), ι = (1 + ρ)/(1 − ρ) for residuals correlated hour to hour (ρ their lag-1
// autocorrelation): the uncertainty of the growth rate widens the band with the distance, so a crossing
// far out gets a range to match.
import type { ModelForecast } from './augurs.ts';

const Z95 = 1.959963984540054;
/** Profiles of periods over a day are per day (24 h buckets), as in decompose.ts. */
const DAY = 24;

export interface CycleLine {
  /** Change per step. */
  slope: number;
  /** Index of the first value of the whole cycles fitted. */
  start: number;
  cycles: number;
}

/** The line through the means of the last whole cycles of `values` (two or more needed). */
export function cycleLine(values: ArrayLike<number>, cycle: number): CycleLine | undefined {
  const cycles = Math.floor(values.length / cycle);
  if (cycles < 2) return undefined;
  const start = values.length - cycles * cycle;
  const centre = (cycles - 1) / 2;
  let sxy = 0;
  for (let c = 0; c < cycles; c++) {
    let sum = 0;
    for (let j = 0; j < cycle; j++) sum += values[start + c * cycle + j]!;
    sxy += (c - centre) * (sum / cycle);
  }
  const sxx = (cycles * (cycles * cycles - 1)) / 12;
  return { slope: sxy / sxx / cycle, start, cycles };
}

export interface LinearTrend {
  /** Change per hour of the line, and its standard error. */
  slope: number;
  slopeError: number;
  forecast(horizon: number): ModelForecast;
}

/** The line and profiles of `y` over its last whole cycles of the longest of `periods`; undefined under two. */
export function fitLinearTrend(y: ArrayLike<number>, periods: readonly number[]): LinearTrend | undefined {
  const cycle = Math.max(...periods);
  const line = cycleLine(y, cycle);
  if (!line) return undefined;
  const { slope, start, cycles } = line;
  const m = cycles * cycle;

  // Detrended, levelled, then each period's profile (mean per bucket) taken out in turn, shortest first.
  const rest = new Float64Array(m);
  let level = 0;
  for (let x = 0; x < m; x++) level += y[start + x]! - slope * x;
  level /= m;
  for (let x = 0; x < m; x++) rest[x] = y[start + x]! - slope * x - level;
  const profiles = [...periods]
    .sort((a, b) => a - b)
    .map((period) => {
      const width = period > DAY ? DAY : 1;
      const bucketOf = (x: number): number => Math.floor((x % period) / width);
      const sums = new Float64Array(period / width);
      const counts = new Float64Array(period / width);
      for (let x = 0; x < m; x++) {
        sums[bucketOf(x)]! += rest[x]!;
        counts[bucketOf(x)]! += 1;
      }
      const profile = Array.from(sums, (s, b) => (counts[b]! > 0 ? s / counts[b]! : 0));
      for (let x = 0; x < m; x++) rest[x]! -= profile[bucketOf(x)]!;
      return { profile, bucketOf, buckets: profile.length };
    });

  let squares = 0;
  let lagged = 0;
  for (let x = 0; x < m; x++) {
    squares += rest[x]! ** 2;
    if (x > 0) lagged += rest[x]! * rest[x - 1]!;
  }
  const parameters = 2 + profiles.reduce((sum, p) => sum + p.buckets - 1, 0);
  const variance = squares / Math.max(1, m - parameters);
  const rho = squares > 0 ? Math.min(0.9, Math.max(0, lagged / squares)) : 0;
  const inflation = (1 + rho) / (1 - rho);
  // A cycle mean holds `cycle` correlated hours; the slope per cycle through `cycles` of them, per hour.
  const slopeVariance = (inflation * variance) / cycle / ((cycles * (cycles * cycles - 1)) / 12) / cycle ** 2;
  // The line goes through the last day's level (its mean, profiles taken out), where the forecast starts.
  let shift = 0;
  for (let x = m - DAY; x < m; x++) shift += rest[x]!;
  level += shift / DAY;
  const anchor = m - (DAY + 1) / 2;

  return {
    slope,
    slopeError: Math.sqrt(slopeVariance),
    forecast: (horizon) => {
      const point: number[] = [];
      const halfWidth95: number[] = [];
      for (let i = 0; i < horizon; i++) {
        const x = m + i;
        point.push(level + slope * x + profiles.reduce((sum, p) => sum + p.profile[p.bucketOf(x)]!, 0));
        halfWidth95.push(
          Z95 * Math.sqrt(variance + (inflation * variance) / DAY + (x - anchor) ** 2 * slopeVariance),
        );
      }
      return { point, halfWidth95 };
    },
  };
}

/** fitLinearTrend as a Fitter (like mstlForecast): throws with less than two whole cycles. */
export function linearTrendForecast(
  y: ArrayLike<number>,
  periods: readonly number[],
  horizon: number,
): ModelForecast {
  const trend = fitLinearTrend(y, periods);
  if (!trend) {
    throw new Error(`a linear trend needs two whole cycles of ${Math.max(...periods)} h, got ${y.length} h`);
  }
  return trend.forecast(horizon);
}
