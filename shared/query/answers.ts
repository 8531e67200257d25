// The answers of the read routes as zod schemas: the types the modules build come from here, and so
// does the OpenAPI document's description of them.
import { z } from 'zod';
import { LEVELS, type Level } from '../aggregate/index.ts';
import { AGGREGATE_FIELDS } from './request.ts';

const instant = z
  .string()
  .meta({ description: 'ISO-8601 instant in UTC', examples: ['2026-11-28T00:00:00.000Z'] });
const LevelSchema = z.enum(LEVELS as [Level, ...Level[]]);
const stat = z.number();
const sketchStat = z.number().nullable();

export const AggregateRowSchema = z.object({
  timestamp: instant.meta({
    description: 'bucket start (UTC instant; days, weeks, months start at local midnight)',
  }),
  event_type: z.string(),
  metric: z.string(),
  dimension: z.string(),
  dimension_value: z.string(),
  count: stat.optional(),
  sum: stat.optional(),
  min: stat.optional(),
  max: stat.optional(),
  avg: stat.optional(),
  stddev: sketchStat.optional().meta({ description: 'sample standard deviation; null for one value' }),
  p50: sketchStat.optional(),
  p95: sketchStat.optional(),
  p99: sketchStat.optional(),
});
export type AggregatesRowView = z.output<typeof AggregateRowSchema>;

export const AggregatesPageSchema = z.object({
  level: LevelSchema,
  time_zone: z.string(),
  event_type: z.string().nullable(),
  metrics: z.array(z.string()).nullable(),
  dimension: z.string(),
  value: z.string().nullable(),
  from: instant.nullable(),
  to: instant.nullable(),
  fields: z.array(z.enum(AGGREGATE_FIELDS)),
  rows: z.array(AggregateRowSchema),
  row_count: z.number().int(),
  next_cursor: z
    .string()
    .nullable()
    .meta({ description: 'pass as cursor for the next page; null on the last' }),
});
export type AggregatesPage = z.output<typeof AggregatesPageSchema>;

const BucketRangeSchema = z.object({ first: instant, last: instant });
const LevelRangesSchema = z.object({
  hour: BucketRangeSchema.optional(),
  day: BucketRangeSchema.optional(),
  week: BucketRangeSchema.optional(),
  month: BucketRangeSchema.optional(),
});
export type LevelRanges = z.output<typeof LevelRangesSchema>;

export const CatalogueSchema = z.object({
  time_zone: z.string(),
  levels: z.array(LevelSchema),
  event_types: z.array(
    z.object({
      event_type: z.string(),
      levels: LevelRangesSchema,
      metrics: z.array(z.object({ metric: z.string(), levels: LevelRangesSchema })),
      dimensions: z.array(
        z.object({
          dimension: z.string(),
          values: z.array(z.object({ value: z.string(), levels: LevelRangesSchema })),
        }),
      ),
    }),
  ),
});
export type Catalogue = z.output<typeof CatalogueSchema>;

export const UsageSchema = z.object({
  requests: z.number().meta({
    description:
      'the largest count of any one metric of the type that day and model (added up over days for totals and ' +
      'previous), not a count of events: equal to it only when some metric is on every event (e.g. error, ' +
      'false or true, on each); otherwise events without the most frequent metric are missed — a failure ' +
      'reporting only "error": true and no latency or tokens is not counted',
  }),
  errors: z.number().meta({ description: 'sum of the error metric (true counts 1)' }),
  error_rate: z
    .number()
    .nullable()
    .meta({
      description:
        'errors / requests; null for no requests. Too high when failures omit the metrics successes report ' +
        '(see requests)',
    }),
  tokens_in: z.number(),
  tokens_out: z.number(),
  cost_usd: z.number().meta({ description: 'reported and inferred cost together' }),
  cost_reported_usd: z.number().meta({ description: 'cost the events carried themselves' }),
  cost_inferred_usd: z.number().meta({ description: 'cost inferred from the price table (pricing)' }),
  inferred_requests: z.number().meta({ description: 'events whose cost was inferred' }),
});
export type Usage = z.output<typeof UsageSchema>;
const ModelUsageSchema = UsageSchema.extend({ model: z.string() });
export type ModelUsage = z.output<typeof ModelUsageSchema>;
const localDate = z.iso.date().meta({ description: 'a day of the configured zone' });

export const DailyUsageSchema = z.object({
  time_zone: z.string(),
  event_type: z.string(),
  from: localDate,
  to: localDate.meta({ description: 'the day after the last one (exclusive)' }),
  complete: z.boolean().meta({ description: 'every day of from–to is complete' }),
  days: z.array(
    UsageSchema.extend({
      date: localDate,
      complete: z.boolean().meta({
        description:
          'the day has ended and its hours and the day itself are aggregated as they stand (false: not ended, ' +
          'the daily job has not run since, late events wait, or its aggregation failed — its zeros may not ' +
          'mean no traffic)',
      }),
      models: z.array(ModelUsageSchema),
    }),
  ),
  totals: UsageSchema.extend({ models: z.array(ModelUsageSchema) }),
  previous: UsageSchema.extend({
    from: localDate,
    to: localDate,
    complete: z.boolean().meta({ description: 'every day of the previous period is complete' }),
  }),
  change: z
    .record(
      z.enum(Object.keys(UsageSchema.shape) as [keyof Usage, ...(keyof Usage)[]]),
      z.number().nullable(),
    )
    .meta({
      description:
        '(this period − previous) / previous per figure; null where the previous had none, and every figure ' +
        'null unless both periods are complete',
    }),
});
export type DailyUsage = z.output<typeof DailyUsageSchema>;
export type DayUsage = DailyUsage['days'][number];
