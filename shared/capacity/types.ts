// The capacity analysis document: one per resource and series per run, as stored, as GET
// /capacity/analysis answers it and as the capacity_analysis report reads it (latestCapacityAnalysis).
// Field names are the API's (snake_case). Numbers are in the resource's unit; days are fractional days from
// the end of the analysed history; timestamps are ISO 8601 UTC.
import { z } from 'zod';
import { CAPACITY_ANALYSES } from '../config/index.ts';

/** The series of the whole fleet (dimension all); other series are named by their host/source. */
export const FLEET = 'fleet';

export const ForecastPoint = z.object({
  timestamp: z.string(),
  value: z.number(),
  lo80: z.number(),
  hi80: z.number(),
  lo95: z.number(),
  hi95: z.number(),
});
export type ForecastPoint = z.infer<typeof ForecastPoint>;

export const Backtest = z.object({
  windows: z.number().int(),
  horizon_hours: z.number().int(),
  /** Of the model used. */
  mase: z.number(),
  smape: z.number(),
  /** Leave-one-window-out coverage of the calibrated intervals; null with one window. */
  coverage80: z.number().nullable(),
  coverage95: z.number().nullable(),
  /** Seasonal naive (m = 24) on the same windows. */
  baseline_mase: z.number(),
  baseline_smape: z.number(),
  /** MSTL's own MASE (differs from mase when another model replaced it; null when MSTL failed). */
  mstl_mase: z.number().nullable(),
  /** The linear trend's MASE (null when it could not be fitted; absent from analyses stored before it). */
  linear_mase: z.number().nullable().optional(),
});

export const Forecast = z.object({
  /** mstl; seasonal_naive where it beat MSTL in the backtest; linear_trend where the growth check replaced either. */
  model: z.enum(['mstl', 'linear_trend', 'seasonal_naive']),
  periods: z.array(z.number().int()),
  /** Why another model than MSTL was used, when one was. */
  fallback_reason: z.string().nullable(),
  horizon_hours: z.number().int(),
  /** conformal = calibrated on the backtest; model = the model's own 95 % interval (history too short). */
  calibration: z.enum(['conformal', 'model']),
  /** The highest point of the forecast (first reached); a percentage is held at 100 % (or the limit above it). */
  peak: z.object({ value: z.number(), timestamp: z.string() }),
  /**
   * Where the forecast was held at that ceiling: the peak of the forecast without it — what the trend asks,
   * which the recommendation sizes for. Null otherwise; absent from analyses stored before it.
   */
  demand: z.object({ value: z.number(), timestamp: z.string() }).nullable().optional(),
  backtest: Backtest.nullable(),
  /** Left out with ?points=false. */
  points: z.array(ForecastPoint).optional(),
});
export type Forecast = z.infer<typeof Forecast>;

/** Fractional days until a line is crossed: by the point forecast, its 95 % band's upper edge (earliest), its lower edge (latest). */
export const DaysTo = z.object({
  point: z.number().nullable(),
  earliest: z.number().nullable(),
  latest: z.number().nullable(),
});
export const CrossingDates = z.object({
  point_at: z.string().nullable(),
  earliest_at: z.string().nullable(),
  latest_at: z.string().nullable(),
});

export const RECOMMENDATION_ACTIONS = [
  'scale_up',
  'scale_down',
  'grow_storage',
  'rebalance',
  'hold',
  'review',
  'configure',
  'investigate',
] as const;
export const Recommendation = z.object({
  action: z.enum(RECOMMENDATION_ACTIONS),
  /** One sentence with the arithmetic, e.g. "gpu: peak forecast 91 % on 2026-12-19 with 2 hosts; 3 hosts keep it at 61 %, under 80 %". */
  text: z.string(),
  /** Hosts or replicas now and recommended (scale_up, scale_down). */
  current: z.number().nullable(),
  recommended: z.number().nullable(),
});
export type Recommendation = z.infer<typeof Recommendation>;

export const ANALYSIS_STATUSES = ['ok', 'insufficient_history', 'stale'] as const;

export const CapacityAnalysis = z.object({
  resource: z.enum(CAPACITY_ANALYSES),
  series: z.string(),
  unit: z.string(),
  /** ok; insufficient_history (no forecast, reason says why); stale (the host stopped reporting). */
  status: z.enum(ANALYSIS_STATUSES),
  reason: z.string().nullable(),
  /** The line checked (limit × threshold percent) and the limit; null when no limit is configured. */
  threshold: z.number().nullable(),
  threshold_percent: z.number(),
  limit: z.number().nullable(),
  /** Fleet series: the hosts or replicas reporting; null for a single host's series. */
  hosts: z.number().int().nullable(),
  history: z.object({
    start: z.string(),
    end: z.string(),
    hours: z.number().int(),
    observed_hours: z.number().int(),
    filled_hours: z.number().int(),
    outlier_count: z.number().int(),
    outliers: z.array(z.object({ timestamp: z.string(), value: z.number(), expected: z.number() })),
    last_observed_at: z.string(),
  }),
  utilization: z.object({
    mean: z.number(),
    p95: z.number(),
    max: z.number(),
    peak_hour: z.number().int(),
    peak_weekday: z.string().nullable(),
    /** threshold − p95, in the unit; null without a threshold. */
    headroom: z.number().nullable(),
    /** p95 / limit; null without a limit. */
    ratio: z.number().nullable(),
  }),
  growth_per_week: z.number().nullable(),
  seasonality: z.object({ daily: z.number(), weekly: z.number().nullable() }),
  /** null when forecasting is off or the history is too short. */
  forecast: Forecast.nullable(),
  days_to_threshold: DaysTo.nullable(),
  crossing_at: z.string().nullable(),
  threshold_crossing: CrossingDates.nullable(),
  days_to_limit: DaysTo.nullable(),
  limit_crossing: CrossingDates.nullable(),
  /** The point forecast crosses the threshold within capacityAnalysis.alertHorizonDays. */
  alert: z.boolean(),
  recommendations: z.array(Recommendation),
});
export type CapacityAnalysis = z.infer<typeof CapacityAnalysis>;

export const CapacityAnswer = z.object({
  generated_at: z.string(),
  run_id: z.number().int(),
  /** End of the analysed hourly history (exclusive). */
  data_end: z.string(),
  forecasting: z.boolean(),
  analyses: z.array(CapacityAnalysis),
});
export type CapacityAnswer = z.infer<typeof CapacityAnswer>;
