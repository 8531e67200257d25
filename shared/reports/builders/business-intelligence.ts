// business_intelligence: the original's analyses over one week and the days before it — performance_trends
// (daily trends with slope and fit), anomalies (hours outside median ± k·MAD of the same hour of the week),
// cost_optimization (cost per request, per 1k tokens, share of spend per model), user_behavior (the feedback
// distribution) and capacity_planning (an hour-of-week heatmap of load). All from the aggregate views.
import type { CalendarOptions } from '../../aggregate/index.ts';
import { utcOffsetMinutes } from '../../aggregate/index.ts';
import type { Queryable } from '../../db/index.ts';
import type { SectionData } from '../model.ts';
import { localDaysBetween, localDayText, localMidnightDaysAfter, type Period } from '../period.ts';
import { BucketIndex, satisfactionOf } from './summary.ts';
import {
  bucketSeries,
  dailyTotals,
  hoursWithData,
  requestTimeline,
  type HourSeriesRow,
  type TimelineRow,
} from './summary-sql.ts';
import { clean, linearFit, median, ratio, scaledMad } from './stats.ts';

/** An hour's p95 latency is compared only over at least this many requests: below it, p95 is about the maximum. */
const MIN_P95_REQUESTS = 20;
const WEEKDAYS_FROM_MONDAY = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export interface BiSettings {
  /** Metrics with a trend (businessIntelligence.metrics). */
  metrics: readonly string[];
  /** Days of history for trends, the anomaly baseline and the heatmap (businessIntelligence.lookbackDays). */
  lookbackDays: number;
  /** k of median ± k·MAD (businessIntelligence.anomalyThreshold). */
  anomalyThreshold: number;
}

/** What is fitted per day for a metric: a level (p95 latency, a rate, a mean rating) or a volume (sum). */
function statisticOf(metric: string): 'sum' | 'mean' | 'p95' {
  if (metric.endsWith('_ms')) return 'p95';
  if (metric === 'error' || metric === 'rating' || metric.endsWith('_usage')) return 'mean';
  return 'sum';
}

function pick(row: HourSeriesRow, statistic: 'sum' | 'mean' | 'p95'): number | null {
  if (statistic === 'sum') return row.sum;
  if (statistic === 'mean') return row.avg;
  return row.p95;
}

/** (day of the week counted from the configured week start, local hour) of an hour start. */
function hourOfWeek(at: Date, calendar: CalendarOptions): { weekday: number; hour: number } {
  const wall = new Date(at.getTime() + utcOffsetMinutes(calendar.timeZone, at) * 60_000);
  const fromMonday = (wall.getUTCDay() + 6) % 7;
  const weekday = calendar.weekStart === 'sunday' ? (fromMonday + 1) % 7 : fromMonday;
  return { weekday, hour: wall.getUTCHours() };
}

function weekdayName(weekday: number, calendar: CalendarOptions): string {
  const fromMonday = calendar.weekStart === 'sunday' ? (weekday + 6) % 7 : weekday;
  return WEEKDAYS_FROM_MONDAY[fromMonday]!;
}

export async function buildBusinessIntelligence(
  db: Queryable,
  period: Period,
  calendar: CalendarOptions,
  settings: BiSettings,
): Promise<SectionData> {
  // trends and the heatmap: the lookback up to the period's end; the anomaly baseline: the lookback before it.
  // Counted in local dates: 28 × 24 hours before Havana's week of 2026-11-01 (a 25-hour day in it) was an hour
  // after the local midnight of 2026-10-11, and that day's point was left out (27 of 28 days with data).
  const zone = period.timeZone;
  const historyStart = localMidnightDaysAfter(period.end, -settings.lookbackDays, zone);
  const baselineStart = localMidnightDaysAfter(period.start, -settings.lookbackDays, zone);
  const [days, requestHours, reporting, weekRows] = await Promise.all([
    dailyTotals(db, historyStart, period.end),
    requestTimeline(db, 'hour', baselineStart, period.end),
    hoursWithData(db, baselineStart, period.end),
    bucketSeries(db, period.level, period.start),
  ]);
  // an hour with data of other types but no request had 0 requests (the platform was up, nobody asked); an
  // hour with no data at all is unknown and left out
  const byHour = new Map<number, TimelineRow>(requestHours.map((h) => [h.bucket.getTime(), h]));
  for (const hour of reporting) {
    if (!byHour.has(hour.getTime()))
      byHour.set(hour.getTime(), { bucket: hour, requests: 0, errors: 0, cost_usd: 0, latency_p95_ms: null });
  }
  const hours = [...byHour.values()].sort((a, b) => a.bucket.getTime() - b.bucket.getTime());
  const week = new BucketIndex(weekRows);

  // trends: one point per local day and metric
  const trendRows = [];
  const points = [];
  for (const metric of settings.metrics) {
    const statistic = statisticOf(metric);
    const series = days.filter((d) => d.metric === metric);
    // a metric reported by several event types: the type reporting it most
    const byType = new Map<string, number>();
    for (const d of series) byType.set(d.event_type, (byType.get(d.event_type) ?? 0) + d.count);
    const type = [...byType.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    const chosen = series.filter((d) => d.event_type === type);
    const xy: Array<{ x: number; y: number }> = [];
    for (const d of chosen) {
      const y = pick(d, statistic);
      points.push({ day: localDayText(d.hour, period.timeZone), metric, value: y });
      // x in local dates: a day of 23 or 25 hours is one day of the slope
      if (y !== null) xy.push({ x: localDaysBetween(historyStart, d.hour, zone), y });
    }
    const fit = linearFit(xy);
    const mean = xy.length ? xy.reduce((s, p) => s + p.y, 0) / xy.length : null;
    trendRows.push({
      metric,
      statistic,
      points: xy.length,
      first: xy[0]?.y ?? null,
      last: xy.at(-1)?.y ?? null,
      slope_per_day: fit ? clean(fit.slope) : null,
      slope_pct_per_day: fit && mean ? clean((fit.slope / Math.abs(mean)) * 100) : null,
      r_squared: fit?.rSquared === null || !fit ? null : clean(fit.rSquared),
    });
  }

  // anomalies: each hour of the period against the same hour of the week in the weeks before it
  const baseline = new Map<string, { requests: number[]; p95: number[] }>();
  const key = (at: Date): string => {
    const h = hourOfWeek(at, calendar);
    return `${h.weekday}:${h.hour}`;
  };
  for (const h of hours) {
    if (h.bucket >= period.start) continue;
    const k = key(h.bucket);
    const b = baseline.get(k) ?? { requests: [], p95: [] };
    b.requests.push(h.requests);
    if (h.latency_p95_ms !== null && h.requests >= MIN_P95_REQUESTS) b.p95.push(h.latency_p95_ms);
    baseline.set(k, b);
  }
  const current = hours.filter((h) => h.bucket >= period.start);
  const anomalies = [];
  let checked = 0;
  for (const h of current) {
    const b = baseline.get(key(h.bucket));
    const candidates: Array<[string, number | null, number[]]> = [
      ['requests', h.requests, b?.requests ?? []],
      ['latency_p95_ms', h.requests >= MIN_P95_REQUESTS ? h.latency_p95_ms : null, b?.p95 ?? []],
    ];
    let any = false;
    for (const [metric, value, history] of candidates) {
      if (value === null || history.length < 3) continue;
      any = true;
      const center = median(history);
      // A few weeks of history give a noisy MAD (three equal counts give 0). It is floored by the noise the
      // value has anyway: √median for a count of requests (Poisson), 10 % of the median for a p95 latency.
      const noise = metric === 'requests' ? Math.sqrt(Math.max(center, 1)) : Math.abs(center) * 0.1;
      const mad = Math.max(scaledMad(history, center), noise, 1e-9);
      const score = (value - center) / mad;
      if (Math.abs(score) > settings.anomalyThreshold) {
        anomalies.push({
          hour: h.bucket.toISOString(),
          metric,
          value,
          median: clean(center),
          mad: clean(mad),
          score: clean(score),
          direction: score > 0 ? ('high' as const) : ('low' as const),
        });
      }
    }
    if (any) checked += 1;
  }
  // weeks back from the period's start, by local dates (the 7 dates before it are week 0)
  const baselineWeeks = Math.floor(localDaysBetween(baselineStart, period.start, zone) / 7);
  const weeksWithData = new Set(
    hours
      .filter((h) => h.bucket < period.start)
      .map((h) => Math.floor((localDaysBetween(h.bucket, period.start, zone) - 1) / 7)),
  ).size;

  // cost per model over the week
  const totalCost = week.sum('llm_request', 'cost_usd');
  const costRows = week.values('llm_request', 'model').map((model) => {
    const requests = week.events('llm_request', 'model', model);
    const cost = week.sum('llm_request', 'cost_usd', 'model', model);
    const tokens =
      week.sum('llm_request', 'tokens_in', 'model', model) +
      week.sum('llm_request', 'tokens_out', 'model', model);
    return {
      model,
      requests,
      cost_usd: cost,
      cost_per_request_usd: ratio(cost, requests),
      cost_per_1k_tokens_usd: ratio(cost * 1000, tokens),
      cost_share: ratio(cost, totalCost),
    };
  });
  costRows.sort((a, b) => b.cost_usd - a.cost_usd);

  // load heatmap: mean requests per (weekday, hour) over the lookback
  const cells = new Map<string, number[]>();
  for (const h of hours) {
    if (h.bucket < historyStart) continue;
    const k = key(h.bucket);
    cells.set(k, [...(cells.get(k) ?? []), h.requests]);
  }
  const heatmap = [];
  for (let weekday = 0; weekday < 7; weekday++) {
    for (let hour = 0; hour < 24; hour++) {
      const values = cells.get(`${weekday}:${hour}`) ?? [];
      heatmap.push({
        weekday,
        weekday_name: weekdayName(weekday, calendar),
        hour,
        requests_avg: values.length ? clean(values.reduce((s, v) => s + v, 0) / values.length) : null,
      });
    }
  }

  return {
    trends: { days: settings.lookbackDays, rows: trendRows, points },
    anomalies: {
      threshold: settings.anomalyThreshold,
      baseline_weeks: weeksWithData,
      hours_checked: checked,
      rows: anomalies,
      note:
        checked === 0
          ? `no hour of this week has at least 3 earlier weeks of the same hour to compare with (history found: ${weeksWithData} of ${baselineWeeks} weeks)`
          : null,
    },
    cost_efficiency: costRows,
    feedback: await satisfactionOf(db, period.level, period.start, week),
    load_heatmap: heatmap,
  };
}
