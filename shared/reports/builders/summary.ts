// The summary reports (hourly/daily/weekly/monthly_summary): one period's buckets from the aggregate views,
// beside the previous period's. Requests are llm_request events, users' satisfaction is user_feedback
// `rating`, host utilisation is system_metric *_usage per source, business value is business_event `value_usd`.
import type { Level } from '../../aggregate/index.ts';
import type { Queryable } from '../../db/index.ts';
import { COST_INFERRED_METRIC, COST_METRIC } from '../../pricing/index.ts';
import { keyValue } from '../../sketch/index.ts';
import type { Figure, SectionData } from '../model.ts';
import { localDayText, type Period } from '../period.ts';
import {
  bucketSeries,
  deadLettersByReason,
  hostHours,
  hourCompleteness,
  hourTimeline,
  requestTimeline,
  sketchBins,
  type HourTimelineRow,
  type SeriesRow,
} from './summary-sql.ts';
import { fillSpans, periodHourSpans, type HourSpan } from './hour-spans.ts';
import { clean, ratio } from './stats.ts';

export const TOP_N = 5;
const HOUR_MS = 3_600_000;
const REQUEST = 'llm_request';

/** The series of one bucket, looked up by (event type, metric, dimension, value). */
export class BucketIndex {
  readonly #rows = new Map<string, SeriesRow>();
  readonly rows: readonly SeriesRow[];

  constructor(rows: readonly SeriesRow[]) {
    this.rows = rows;
    for (const r of rows)
      this.#rows.set(`${r.event_type}|${r.metric}|${r.dimension}|${r.dimension_value}`, r);
  }

  get(type: string, metric: string, dimension = 'all', value = '*'): SeriesRow | undefined {
    return this.#rows.get(`${type}|${metric}|${dimension}|${value}`);
  }

  sum(type: string, metric: string, dimension = 'all', value = '*'): number {
    return this.get(type, metric, dimension, value)?.sum ?? 0;
  }

  /** Events of a type (in one series): the count of its most-reported metric. */
  events(type: string, dimension = 'all', value = '*'): number {
    let n = 0;
    for (const r of this.rows) {
      if (r.event_type === type && r.dimension === dimension && r.dimension_value === value)
        n = Math.max(n, r.count);
    }
    return n;
  }

  /** The values of `dimension` seen for a type, sorted. */
  values(type: string, dimension: string): string[] {
    const seen = new Set<string>();
    for (const r of this.rows)
      if (r.event_type === type && r.dimension === dimension) seen.add(r.dimension_value);
    return [...seen].sort();
  }
}

export function figure(value: number | null, previous: number | null): Figure {
  const change = value === null || previous === null ? null : clean(value - previous);
  return {
    value,
    previous,
    change,
    change_pct: change === null || !previous ? null : clean((change / Math.abs(previous)) * 100),
  };
}

interface Totals {
  requests: number;
  errors: number;
  error_rate: number | null;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  cost_inferred_usd: number;
  throughput_mean_per_hour: number | null;
  throughput_peak_per_hour: number | null;
  peak_hour: string | null;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  rating_avg: number | null;
  business_value_usd: number | null;
}

function totalsOf(index: BucketIndex, hours: readonly HourTimelineRow[], period: Period): Totals {
  const requests = index.events(REQUEST);
  const latency = index.get(REQUEST, 'latency_ms');
  // the peak is a throughput per hour: the part of an hour at a period's edge is not compared with whole ones
  let peak: HourTimelineRow | undefined;
  for (const h of hours) {
    const whole = h.bucket_end.getTime() - h.bucket.getTime() === HOUR_MS;
    // an hour without requests is no peak, even in a period that has none
    if (whole && h.requests > 0 && (!peak || h.requests > peak.requests)) peak = h;
  }
  const periodHours = (period.end.getTime() - period.start.getTime()) / HOUR_MS;
  const business = index.get('business_event', 'value_usd');
  return {
    requests,
    errors: index.sum(REQUEST, 'error'),
    error_rate: index.get(REQUEST, 'error')?.avg ?? null,
    tokens_in: index.sum(REQUEST, 'tokens_in'),
    tokens_out: index.sum(REQUEST, 'tokens_out'),
    cost_usd: index.sum(REQUEST, COST_METRIC),
    cost_inferred_usd: index.sum(REQUEST, COST_INFERRED_METRIC),
    throughput_mean_per_hour: ratio(requests, periodHours),
    throughput_peak_per_hour: peak ? peak.requests : null,
    peak_hour: peak ? peak.bucket.toISOString() : null,
    latency_p50_ms: latency?.p50 ?? null,
    latency_p95_ms: latency?.p95 ?? null,
    latency_p99_ms: latency?.p99 ?? null,
    rating_avg: index.get('user_feedback', 'rating')?.avg ?? null,
    business_value_usd: business ? business.sum : null,
  };
}

function requestRows(index: BucketIndex, dimension: string) {
  const totalCost = index.sum(REQUEST, COST_METRIC);
  return index.values(REQUEST, dimension).map((v) => {
    const requests = index.events(REQUEST, dimension, v);
    const cost = index.sum(REQUEST, COST_METRIC, dimension, v);
    const latency = index.get(REQUEST, 'latency_ms', dimension, v);
    return {
      value: v,
      requests,
      errors: index.sum(REQUEST, 'error', dimension, v),
      error_rate: index.get(REQUEST, 'error', dimension, v)?.avg ?? null,
      tokens_in: index.sum(REQUEST, 'tokens_in', dimension, v),
      tokens_out: index.sum(REQUEST, 'tokens_out', dimension, v),
      cost_usd: cost,
      cost_inferred_usd: index.sum(REQUEST, COST_INFERRED_METRIC, dimension, v),
      cost_share: ratio(cost, totalCost),
      latency,
    };
  });
}

/** Ratings 1–5 sit in distinct sketch bins, so their counts are exact; the bin's value rounds to the rating. */
export function ratingDistribution(bins: ReadonlyArray<{ sign: number; key: number; count: number }>) {
  const counts = new Map<number, number>();
  let total = 0;
  for (const b of bins) {
    const rating = Math.round(keyValue(b.sign, b.key));
    counts.set(rating, (counts.get(rating) ?? 0) + b.count);
    total += b.count;
  }
  if (total === 0) return [];
  // the whole 1–5 scale (and any rating outside it), so a rating nobody gave shows as 0, not as a missing row
  const ratings = [...counts.keys()];
  const low = Math.min(1, ...ratings);
  const high = Math.max(5, ...ratings);
  return Array.from({ length: high - low + 1 }, (_, i) => low + i)
    .filter((rating) => (rating >= 1 && rating <= 5) || counts.has(rating))
    .map((rating) => {
      const count = counts.get(rating) ?? 0;
      return { rating, count, share: ratio(count, total) };
    });
}

export async function satisfactionOf(db: Queryable, level: Level, bucket: Date, index: BucketIndex) {
  const rating = index.get('user_feedback', 'rating');
  const bins = rating ? await sketchBins(db, level, bucket, 'user_feedback', 'rating') : [];
  return {
    ratings: rating?.count ?? 0,
    rating_avg: rating?.avg ?? null,
    distribution: ratingDistribution(bins),
  };
}

export interface SummaryInput {
  period: Period;
  previous: Period;
  /**
   * The per-hour rows get a row for each span without data only up to here (now): a summary is built only for
   * a period that is over and final (document.ts), but a span not yet over must never read as a zero.
   */
  until?: Date;
}

/** A span without requests: counts and cost 0; its p95 latency does not exist (null). */
const emptyHour = (span: HourSpan): HourTimelineRow => ({
  bucket: span.start,
  bucket_end: span.end,
  requests: 0,
  errors: 0,
  cost_usd: 0,
  latency_p95_ms: null,
});

interface HostHour {
  hour: string;
  hour_end: string;
  host: string;
  metric: string;
  mean: number | null;
}

/**
 * Each (host, metric) series of the period with a row for every span, the mean null where the host sent
 * nothing: the table covers the period, and the chart's line breaks at the gap instead of bridging it.
 */
function fillHostHours(rows: readonly HostHour[], spans: readonly HourSpan[]): HostHour[] {
  const series = new Map<string, HostHour[]>();
  for (const r of rows) {
    const key = `${r.host}\n${r.metric}`;
    series.set(key, [...(series.get(key) ?? []), r]);
  }
  const filled = [...series.values()].flatMap((own) =>
    fillSpans(
      own,
      spans,
      (r) => new Date(r.hour),
      (span) => ({
        hour: span.start.toISOString(),
        hour_end: span.end.toISOString(),
        host: own[0]!.host,
        metric: own[0]!.metric,
        mean: null,
      }),
    ),
  );
  // by hour, then host, then metric (code-point order: the same in every process locale)
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return filled.sort(
    (a, b) => Date.parse(a.hour) - Date.parse(b.hour) || order(a.host, b.host) || order(a.metric, b.metric),
  );
}

/** Every summary section of one period (the template then picks which to show). */
export async function buildSummary(db: Queryable, input: SummaryInput): Promise<SectionData> {
  const { period, previous } = input;
  const level = period.level;
  const [rows, previousRows, hours, previousHours] = await Promise.all([
    bucketSeries(db, level, period.start),
    bucketSeries(db, level, previous.start),
    hourTimeline(db, period.start, period.end),
    hourTimeline(db, previous.start, previous.end),
  ]);
  const index = new BucketIndex(rows);
  const now = totalsOf(index, hours, period);
  const spans = periodHourSpans(period.start, period.end, input.until);
  const everyHour = fillSpans(hours, spans, (h) => h.bucket, emptyHour);
  const before = totalsOf(new BucketIndex(previousRows), previousHours, previous);
  const fig = (key: Exclude<keyof Totals, 'peak_hour'>): Figure =>
    figure(now[key], previousRows.length === 0 ? null : before[key]);

  const eventTypes = [...new Set(rows.filter((r) => r.dimension === 'all').map((r) => r.event_type))]
    .sort()
    .map((type) => ({
      event_type: type,
      events: index.events(type),
      metrics: rows.filter((r) => r.event_type === type && r.dimension === 'all').length,
    }));

  const models = requestRows(index, 'model').map((m) => ({
    model: m.value,
    requests: m.requests,
    errors: m.errors,
    error_rate: m.error_rate,
    tokens_in: m.tokens_in,
    tokens_out: m.tokens_out,
    cost_usd: m.cost_usd,
    cost_inferred_usd: m.cost_inferred_usd,
    cost_share: m.cost_share,
    latency_p95_ms: m.latency?.p95 ?? null,
  }));
  const sources = requestRows(index, 'source').map((s) => ({
    source: s.value,
    requests: s.requests,
    errors: s.errors,
    error_rate: s.error_rate,
    cost_usd: s.cost_usd,
    cost_inferred_usd: s.cost_inferred_usd,
    latency_p95_ms: s.latency?.p95 ?? null,
  }));
  const latencyRow = (model: string, dimension: string, value: string) => {
    const l = index.get(REQUEST, 'latency_ms', dimension, value);
    return {
      model,
      requests: l?.count ?? 0,
      latency_avg_ms: l?.avg ?? null,
      latency_p50_ms: l?.p50 ?? null,
      latency_p95_ms: l?.p95 ?? null,
      latency_p99_ms: l?.p99 ?? null,
    };
  };

  const hostRows = index.rows
    .filter((r) => r.event_type === 'system_metric' && r.dimension === 'source')
    .map((r) => ({
      host: r.dimension_value,
      metric: r.metric,
      samples: r.count,
      mean: r.avg,
      p95: r.p95,
      max: r.max,
    }));
  const hostHourly = fillHostHours(
    (await hostHours(db, period.start, period.end)).map((r) => ({
      hour: r.hour.toISOString(),
      hour_end: r.hour_end.toISOString(),
      host: r.dimension_value,
      metric: r.metric,
      mean: r.avg,
    })),
    spans,
  );

  const [completeness, letters, satisfaction, days] = await Promise.all([
    hourCompleteness(db, period.start, period.end),
    deadLettersByReason(db, period.start, period.end),
    satisfactionOf(db, level, period.start, index),
    level === 'week' || level === 'month'
      ? requestTimeline(db, 'day', period.start, period.end)
      : Promise.resolve([]),
  ]);

  const data: SectionData = {
    headline: {
      requests: fig('requests'),
      errors: fig('errors'),
      error_rate: fig('error_rate'),
      tokens_in: fig('tokens_in'),
      tokens_out: fig('tokens_out'),
      cost_usd: fig('cost_usd'),
      cost_inferred_usd: fig('cost_inferred_usd'),
      throughput_mean_per_hour: fig('throughput_mean_per_hour'),
      throughput_peak_per_hour: fig('throughput_peak_per_hour'),
      peak_hour: now.peak_hour,
      latency_p50_ms: fig('latency_p50_ms'),
      latency_p95_ms: fig('latency_p95_ms'),
      latency_p99_ms: fig('latency_p99_ms'),
      rating_avg: fig('rating_avg'),
      business_value_usd: fig('business_value_usd'),
    },
    event_types: eventTypes,
    hourly: everyHour.map((h) => ({
      hour: h.bucket.toISOString(),
      hour_end: h.bucket_end.toISOString(),
      requests: h.requests,
      errors: h.errors,
      cost_usd: h.cost_usd,
      latency_p95_ms: h.latency_p95_ms,
    })),
    latency: {
      overall: latencyRow('all models', 'all', '*'),
      by_model: index.values(REQUEST, 'model').map((m) => latencyRow(m, 'model', m)),
    },
    models,
    sources,
    satisfaction,
    business: index.rows
      .filter((r) => r.event_type === 'business_event' && r.dimension === 'all')
      .map((r) => ({ metric: r.metric, events: r.count, sum: r.sum, avg: r.avg })),
    hosts: { summary: hostRows, hourly: hostHourly },
    top: {
      models_by_cost: [...models].sort((a, b) => b.cost_usd - a.cost_usd).slice(0, TOP_N),
      sources_by_errors: [...sources]
        .sort((a, b) => b.errors - a.errors || b.requests - a.requests)
        .slice(0, TOP_N),
    },
    completeness: {
      hours_expected: (period.end.getTime() - period.start.getTime()) / HOUR_MS,
      ...completeness,
      dead_letters: letters.reduce((n, l) => n + l.count, 0),
      dead_letters_by_reason: letters,
    },
  };
  if (days.length > 0) {
    data.daily = days.map((d) => ({
      day: localDayText(d.bucket, period.timeZone),
      requests: d.requests,
      errors: d.errors,
      cost_usd: d.cost_usd,
      latency_p95_ms: d.latency_p95_ms,
    }));
  }
  return data;
}
