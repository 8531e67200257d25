// The query strings of the aggregates API as zod schemas: they validate a request, type it, and are the
// source of the OpenAPI document's parameters (shared/openapi). Lists are comma-separated ("metric=a,b");
// unknown parameters are refused, so a typo never silently widens a query.
import { z } from 'zod';
import { LEVELS, type Level } from '../aggregate/index.ts';

export const AGGREGATE_FIELDS = ['count', 'sum', 'min', 'max', 'avg', 'stddev', 'p50', 'p95', 'p99'] as const;
export type AggregateField = (typeof AGGREGATE_FIELDS)[number];
export const DEFAULT_PAGE_ROWS = 1000;
/** JSON pages are built in memory; CSV is streamed in chunks, so it may ask for more per page. */
export const MAX_JSON_PAGE_ROWS = 10_000;
export const MAX_CSV_PAGE_ROWS = 100_000;
export const MAX_USAGE_DAYS = 366;

const commaList = (what: string) =>
  z
    .string()
    .transform((text) => [...new Set(text.split(',').map((s) => s.trim()))].filter((s) => s !== ''))
    .refine((list) => list.length > 0, `name at least one ${what}`);

const instantText = (role: string) =>
  z
    .string()
    .trim()
    .meta({
      description:
        `${role}: a date (2026-11-28, midnight in the configured zone), a local date-time (2026-11-28T10:00) ` +
        'or a date-time with offset (2026-11-28T09:00:00Z)',
      examples: ['2026-11-28'],
    });

export const LevelSchema = z.enum(LEVELS as [Level, ...Level[]]);

export const AggregatesQuerySchema = z
  .object({
    level: LevelSchema.default('hour').meta({
      description: 'bucket size: hours are UTC, days, weeks and months are in the configured zone',
    }),
    event_type: z.string().min(1).optional().meta({ description: 'e.g. llm_request; absent = every type' }),
    metric: commaList('metric')
      .optional()
      .meta({ description: 'one metric or a comma-separated list, e.g. latency_ms,cost_usd; absent = all' }),
    dimension: z
      .string()
      .min(1)
      .default('all')
      .meta({ description: '"all" (the total), "source", or a configured dimension key such as "model"' }),
    value: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'one value of the dimension, e.g. llama-3-70b; absent = every value' }),
    from: instantText('first bucket start included').optional(),
    to: instantText('bucket starts before this are included (exclusive)').optional(),
    fields: commaList('field')
      .pipe(z.array(z.enum(AGGREGATE_FIELDS)))
      .optional()
      .meta({ description: `subset of ${AGGREGATE_FIELDS.join(',')}; absent = all` }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_CSV_PAGE_ROWS)
      .default(DEFAULT_PAGE_ROWS)
      .meta({
        description: `rows per page (JSON at most ${MAX_JSON_PAGE_ROWS}, CSV at most ${MAX_CSV_PAGE_ROWS})`,
      }),
    cursor: z.string().min(1).optional().meta({ description: 'next_cursor of the previous page' }),
    format: z
      .enum(['json', 'csv'])
      .optional()
      .meta({ description: 'json (default) or csv; Accept: text/csv does the same' }),
  })
  .strict();

export type AggregatesQuery = z.output<typeof AggregatesQuerySchema>;

export const DailyUsageQuerySchema = z
  .object({
    from: z.iso.date().optional().meta({
      description: 'first day (in the configured zone); default 7 days before `to`',
    }),
    to: z.iso
      .date()
      .optional()
      .meta({
        description:
          'day after the last one (exclusive); default the day after the newest complete day (yesterday once ' +
          'the daily job has aggregated it), so the default range is the last 7 complete days',
      }),
    event_type: z.string().min(1).default('llm_request'),
  })
  .strict();

export type DailyUsageQuery = z.output<typeof DailyUsageQuerySchema>;

export const CatalogueQuerySchema = z.object({}).strict();
