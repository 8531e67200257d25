// An additive decomposition of an hourly series into trend, daily and weekly profiles and a remainder —
// for the statistics (strength of each seasonality), the filling of missing hours and the outlier test,
// not for forecasting (MSTL does that). The trend is a centred moving average over the longest period
// (shorter windows at the ends); the daily profile is the median of the detrended values per hour of day,
// the weekly one the median per day of week of what is left. Per day, not per hour of week: with two or
// three weeks of history an hour of week has two or three values, and one spike would move its median.

export interface Decomposition {
  trend: number[];
  /** Profile per period, indexed by the position in the series (already laid out over it). */
  seasonal: Map<number, number[]>;
  remainder: number[];
}

function centredMovingAverage(y: readonly number[], period: number): number[] {
  const n = y.length;
  const half = Math.floor(period / 2);
  if (n <= period) {
    const mean = y.reduce((a, b) => a + b, 0) / n;
    return y.map(() => mean);
  }
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + y[i]!;
  // 2×period moving average for an even period: period + 1 values, the two ends weighted ½.
  const full = (i: number): number =>
    (prefix[i + half]! - prefix[i - half + 1]! + (y[i - half]! + y[i + half]!) / 2) / period;
  const trend = new Array<number>(n);
  for (let i = half; i < n - half; i++) trend[i] = full(i);
  // At the ends a shorter window would hold part of a cycle and bend the trend; the line through the
  // nearest half period of full windows is carried on instead.
  const line = (edge: number, step: 1 | -1): ((i: number) => number) => {
    const xs: number[] = [];
    for (let k = 0; k < Math.min(half, n - 2 * half); k++) xs.push(edge + step * k);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = xs.reduce((a, x) => a + trend[x]!, 0) / xs.length;
    const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    const slope = sxx > 0 ? xs.reduce((a, x) => a + (x - mx) * (trend[x]! - my), 0) / sxx : 0;
    return (i) => my + slope * (i - mx);
  };
  const head = line(half, 1);
  for (let i = 0; i < half; i++) trend[i] = head(i);
  const tail = line(n - half - 1, -1);
  for (let i = n - half; i < n; i++) trend[i] = tail(i);
  return trend;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `phase0` is the phase of position 0 within each period (hours since an aligned origin). */
export function decompose(y: readonly number[], periods: readonly number[], phase0 = 0): Decomposition {
  const longest = Math.max(...periods);
  const trend = centredMovingAverage(y, longest);
  let rest = y.map((v, i) => v - trend[i]!);
  const seasonal = new Map<number, number[]>();
  for (const period of [...periods].sort((a, b) => a - b)) {
    // hours per bucket: 1 for the daily profile, 24 (a day) for the weekly one
    const width = period > 24 ? 24 : 1;
    const bucketOf = (i: number): number => Math.floor(((phase0 + i) % period) / width);
    const buckets: number[][] = Array.from({ length: period / width }, () => []);
    rest.forEach((v, i) => buckets[bucketOf(i)]!.push(v));
    const profile = buckets.map((b) => (b.length ? median(b) : 0));
    const centre = profile.reduce((a, b) => a + b, 0) / profile.length;
    const laid = rest.map((_, i) => profile[bucketOf(i)]! - centre);
    seasonal.set(period, laid);
    rest = rest.map((v, i) => v - laid[i]!);
  }
  return { trend, seasonal, remainder: rest };
}

function variance(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
}

/** Strength of a seasonal component: max(0, 1 − Var(R) / Var(S + R)) (Wang, Smith & Hyndman). */
export function seasonalStrength(seasonal: readonly number[], remainder: readonly number[]): number {
  const total = variance(seasonal.map((s, i) => s + remainder[i]!));
  if (!(total > 0)) return 0;
  return Math.max(0, 1 - variance(remainder) / total);
}
