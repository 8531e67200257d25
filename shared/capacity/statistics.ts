// Utilisation statistics of one series over its observed hours (filled hours are not measurements):
// mean, p95 (interpolated like PostgreSQL's percentile_cont), max, the local hour of day and weekday with
// the highest mean, and the growth per week from the line through the means of whole cycles of the last
// three weeks.
import { utcOffsetMinutes } from '../aggregate/timezone.ts';
import { BACKTEST_TRAINING_HOURS, DAY, WEEK } from './forecast.ts';
import { cycleLine } from './linear-trend.ts';

const HOUR = 3_600_000;
export const WEEKDAYS = [
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
] as const;

/** percentile_cont(q): the value at rank q·(n − 1) of the sorted values, interpolated between neighbours. */
export function percentileCont(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export interface Utilization {
  mean: number;
  p95: number;
  max: number;
  /** 0–23, in the configured time zone. */
  peakHour: number;
  /** Undefined with less than a week of history. */
  peakWeekday: (typeof WEEKDAYS)[number] | undefined;
}

/** Local hour and ISO weekday (0 = Monday) of `ms` in `zone`. */
function localParts(ms: number, zone: string): { hour: number; weekday: number } {
  const local = new Date(ms + utcOffsetMinutes(zone, new Date(ms)) * 60_000);
  return { hour: local.getUTCHours(), weekday: (local.getUTCDay() + 6) % 7 };
}

function argmaxOfMeans(sums: readonly number[], counts: readonly number[]): number {
  let best = -1;
  let bestMean = -Infinity;
  sums.forEach((s, i) => {
    if (counts[i]! > 0 && s / counts[i]! > bestMean) [best, bestMean] = [i, s / counts[i]!];
  });
  return best;
}

/** Statistics of the observed (non-NaN) values of a grid starting at `start`. */
export function utilization(observed: readonly number[], start: Date, zone: string): Utilization {
  const values: number[] = [];
  const hourSums = new Array<number>(24).fill(0);
  const hourCounts = new Array<number>(24).fill(0);
  const daySums = new Array<number>(7).fill(0);
  const dayCounts = new Array<number>(7).fill(0);
  observed.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    values.push(v);
    const { hour, weekday } = localParts(start.getTime() + i * HOUR, zone);
    hourSums[hour]! += v;
    hourCounts[hour]! += 1;
    daySums[weekday]! += v;
    dayCounts[weekday]! += 1;
  });
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    p95: percentileCont(values, 0.95),
    max: Math.max(...values),
    peakHour: argmaxOfMeans(hourSums, hourCounts),
    peakWeekday: observed.length >= WEEK ? WEEKDAYS[argmaxOfMeans(daySums, dayCounts)] : undefined,
  };
}

/**
 * Change per week of the line through the means of the whole weeks (two or more), else whole days, of the
 * last BACKTEST_TRAINING_HOURS (three weeks) of `values` (linear-trend.ts): the growth of now, whatever the
 * daily and weekly swing, over the span the forecast's growth is checked against. Undefined with less than
 * two days.
 */
export function growthPerWeek(values: readonly number[]): number | undefined {
  const recent = values.slice(-BACKTEST_TRAINING_HOURS);
  const line = cycleLine(recent, recent.length >= 2 * WEEK ? WEEK : DAY);
  return line && line.slope * WEEK;
}

/** p95 of each of the last `weeks` whole weeks of observed values (oldest first); undefined if fewer. */
export function weeklyP95(observed: readonly number[], weeks: number): number[] | undefined {
  if (observed.length < weeks * WEEK) return undefined;
  const out: number[] = [];
  for (let w = weeks; w >= 1; w--) {
    const slice = observed.slice(observed.length - w * WEEK, observed.length - (w - 1) * WEEK);
    const values = slice.filter((v) => !Number.isNaN(v));
    if (values.length === 0) return undefined;
    out.push(percentileCont(values, 0.95));
  }
  return out;
}
