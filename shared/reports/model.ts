// The report document: one typed JSON value per report (schema_version 1). Builders fill it from the aggregate
// views and stored state; every format (JSON, CSV, PDF, DOCX) is rendered from it and from nothing else, so a
// number cannot differ between formats. docs/report.schema.json is this schema exported
// (`node --import tsx scripts/gen-report-schema.ts`; a test checks the file is current).
//
// Units are in the field names: *_ms milliseconds, *_usd US dollars, *_rate and *_share fractions (0–1),
// *_pct percent, *_per_hour per hour; counts are plain numbers. null means "no data" (not zero).
import { z } from 'zod';
import { REPORT_TYPES } from './types.ts';

const value = z.number().nullable();
const instant = z.iso.datetime({ offset: true });

/** A headline number beside the previous period's. change_pct is null when the previous value is 0 or null. */
export const Figure = z.object({
  value,
  previous: value,
  change: value,
  change_pct: value,
});
export type Figure = z.infer<typeof Figure>;

export const Headline = z.object({
  requests: Figure,
  errors: Figure,
  error_rate: Figure,
  tokens_in: Figure,
  tokens_out: Figure,
  cost_usd: Figure,
  /** The part of cost_usd inferred at ingest from the model price table (docs/pricing.md); the rest was reported. */
  cost_inferred_usd: Figure,
  throughput_mean_per_hour: Figure,
  throughput_peak_per_hour: Figure,
  /** Start of the busiest whole hour (ISO), null without requests. */
  peak_hour: instant.nullable(),
  latency_p50_ms: Figure,
  latency_p95_ms: Figure,
  latency_p99_ms: Figure,
  rating_avg: Figure,
  business_value_usd: Figure,
});

export const EventTypeRow = z.object({
  event_type: z.string(),
  /** Events of the type: the count of its most-reported metric (every event of the known types carries it). */
  events: z.number(),
  metrics: z.number(),
});

export const LatencyRow = z.object({
  model: z.string(),
  requests: z.number(),
  latency_avg_ms: value,
  latency_p50_ms: value,
  latency_p95_ms: value,
  latency_p99_ms: value,
});

export const ModelRow = z.object({
  model: z.string(),
  requests: z.number(),
  errors: z.number(),
  error_rate: value,
  tokens_in: z.number(),
  tokens_out: z.number(),
  cost_usd: z.number(),
  /** The part of cost_usd inferred from the price table. */
  cost_inferred_usd: z.number(),
  cost_share: value,
  latency_p95_ms: value,
});

export const SourceRow = z.object({
  source: z.string(),
  requests: z.number(),
  errors: z.number(),
  error_rate: value,
  cost_usd: z.number(),
  /** The part of cost_usd inferred from the price table. */
  cost_inferred_usd: z.number(),
  latency_p95_ms: value,
});

/**
 * One span of the period's per-hour rows, which cover the period exactly and add up to its headline: a UTC
 * hour, or at the period's edges in a zone whose days start inside a UTC hour (Asia/Kolkata, +05:30) the part
 * of that hour inside the period (e.g. 00:00–00:30 local), from the hour's quarter-hour state. A span without
 * requests is a row too: counts and cost 0, latency_p95_ms null.
 */
export const HourRow = z.object({
  /** Start of the span. */
  hour: instant,
  /** End of the span (exclusive): the hour's end, or the period's where the hour is cut. */
  hour_end: instant,
  requests: z.number(),
  errors: z.number(),
  cost_usd: z.number(),
  latency_p95_ms: value,
});

export const DayRow = z.object({
  /** The local date (the configured time zone). */
  day: z.string(),
  requests: z.number(),
  errors: z.number(),
  cost_usd: z.number(),
  latency_p95_ms: value,
});

export const RatingRow = z.object({ rating: z.number(), count: z.number(), share: value });
export const Satisfaction = z.object({
  ratings: z.number(),
  rating_avg: value,
  /** From the stored quantile-sketch bins of `rating` (1–5 fall in distinct bins, so counts are exact). */
  distribution: z.array(RatingRow),
});

export const BusinessRow = z.object({
  metric: z.string(),
  events: z.number(),
  sum: z.number(),
  avg: value,
});

export const HostRow = z.object({
  host: z.string(),
  metric: z.string(),
  samples: z.number(),
  mean: value,
  p95: value,
  max: value,
});

/**
 * A host's mean per span of the period's per-hour rows (HourRow: edge hours cut to the period), for every span
 * of the period; mean null where the host sent nothing.
 */
export const HostHourRow = z.object({
  hour: instant,
  hour_end: instant,
  host: z.string(),
  metric: z.string(),
  mean: value,
});

export const DeadLetterRow = z.object({ reason_code: z.string(), count: z.number() });
export const Completeness = z.object({
  hours_expected: z.number(),
  hours_with_data: z.number(),
  hours_aggregated: z.number(),
  /** Hours with data whose aggregation is not final (dirty, retrying or failed). */
  hours_pending: z.number(),
  /** Hours aggregated more than once (re-opened by late data or a backfill), from the runs ledger. */
  hours_reopened: z.number(),
  dead_letters: z.number(),
  dead_letters_by_reason: z.array(DeadLetterRow),
});

export const Top = z.object({
  models_by_cost: z.array(ModelRow),
  sources_by_errors: z.array(SourceRow),
});

export const TrendRow = z.object({
  metric: z.string(),
  /** What is fitted per day: sum (tokens, cost), mean (error rate, rating) or p95 (latency). */
  statistic: z.enum(['sum', 'mean', 'p95']),
  points: z.number(),
  first: value,
  last: value,
  /** Least-squares slope per day and its share of the mean level per day. */
  slope_per_day: value,
  slope_pct_per_day: value,
  /** Coefficient of determination of the linear fit (0–1). */
  r_squared: value,
});
export const TrendPoint = z.object({ day: z.string(), metric: z.string(), value });

export const AnomalyRow = z.object({
  hour: instant,
  metric: z.string(),
  value: z.number(),
  median: z.number(),
  /**
   * The noise the score divides by: the scaled median absolute deviation (1.4826·MAD) of the same hour of the
   * week in the lookback, at least √median for requests and 10 % of the median for p95 latency.
   */
  mad: z.number(),
  score: z.number(),
  direction: z.enum(['high', 'low']),
});
export const Anomalies = z.object({
  threshold: z.number(),
  baseline_weeks: z.number(),
  hours_checked: z.number(),
  rows: z.array(AnomalyRow),
  note: z.string().nullable(),
});

export const CostRow = z.object({
  model: z.string(),
  requests: z.number(),
  cost_usd: z.number(),
  cost_per_request_usd: value,
  cost_per_1k_tokens_usd: value,
  cost_share: value,
});

export const HeatCell = z.object({
  /** 0 = the week's first day (configured week start) … 6. */
  weekday: z.number(),
  weekday_name: z.string(),
  hour: z.number(),
  requests_avg: value,
});

export const CheckRow = z.object({ check: z.string(), result: z.string() });

/** One analysed series of analyze-capacity's run (shared/capacity), in its unit (percent, requests/h, …). */
export const CapacityRow = z.object({
  resource: z.string(),
  /** 'fleet' or a host/source. */
  series: z.string(),
  unit: z.string(),
  status: z.string(),
  mean: z.number(),
  p95: z.number(),
  max: z.number(),
  limit: value,
  threshold: value,
  /** p95 / limit. */
  utilization_ratio: value,
  /** threshold − p95. */
  headroom: value,
  growth_per_week: value,
  /** Days until the point forecast crosses the threshold; earliest/latest by the 95 % band. */
  days_to_threshold: value,
  days_to_threshold_earliest: value,
  days_to_threshold_latest: value,
  crossing_at: instant.nullable(),
  alert: z.boolean(),
  model: z.string().nullable(),
  note: z.string().nullable(),
});

export const CapacityPoint = z.object({
  resource: z.string(),
  timestamp: instant,
  value: z.number(),
  lo95: z.number(),
  hi95: z.number(),
  threshold: value,
});

export const RecommendationRow = z.object({
  resource: z.string(),
  series: z.string(),
  action: z.string(),
  text: z.string(),
});

/** Every section a report can show; a type's template picks which and in what order. */
export const SectionData = z.object({
  headline: Headline.optional(),
  event_types: z.array(EventTypeRow).optional(),
  hourly: z.array(HourRow).optional(),
  daily: z.array(DayRow).optional(),
  latency: z.object({ overall: LatencyRow, by_model: z.array(LatencyRow) }).optional(),
  models: z.array(ModelRow).optional(),
  sources: z.array(SourceRow).optional(),
  satisfaction: Satisfaction.optional(),
  business: z.array(BusinessRow).optional(),
  hosts: z.object({ summary: z.array(HostRow), hourly: z.array(HostHourRow) }).optional(),
  top: Top.optional(),
  completeness: Completeness.optional(),
  trends: z.object({ days: z.number(), rows: z.array(TrendRow), points: z.array(TrendPoint) }).optional(),
  anomalies: Anomalies.optional(),
  cost_efficiency: z.array(CostRow).optional(),
  feedback: Satisfaction.optional(),
  load_heatmap: z.array(HeatCell).optional(),
  checks: z.array(CheckRow).optional(),
  capacity: z
    .object({
      run_id: z.number(),
      generated_at: instant,
      /** End of the hourly history the analysis read (exclusive). */
      data_end: instant,
      forecasting: z.boolean(),
      rows: z.array(CapacityRow),
    })
    .optional(),
  /** The fleet series' hourly forecast per resource, with the calibrated 95 % band. */
  capacity_forecast: z.array(CapacityPoint).optional(),
  recommendations: z.array(RecommendationRow).optional(),
});
export type SectionData = z.infer<typeof SectionData>;
export type SectionId = keyof SectionData;
export const SECTION_IDS = Object.keys(SectionData.shape) as SectionId[];

export const ReportDocument = z.object({
  schema_version: z.literal(1),
  report_type: z.enum(REPORT_TYPES),
  title: z.string(),
  footer: z.string(),
  period: z.object({
    label: z.string(),
    start: instant,
    end: instant,
    time_zone: z.string(),
    level: z.enum(['hour', 'day', 'week', 'month']),
  }),
  previous_period: z.object({ label: z.string(), start: instant, end: instant }).nullable(),
  generated_at: instant,
  source: z.object({
    /** The data contract's views (and stored state) the numbers come from; never raw events. */
    views: z.array(z.string()),
    /** done_seq of the period's aggregation window the report was built from (null: no window). */
    window_seq: z.number().nullable(),
  }),
  /** The sections shown, in order (the type's template). */
  sections: z.array(z.enum(SECTION_IDS as [SectionId, ...SectionId[]])),
  data: SectionData,
});
export type ReportDocument = z.infer<typeof ReportDocument>;
