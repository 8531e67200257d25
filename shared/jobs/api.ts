// The aggregation functions in the OpenAPI document (shared/openapi): a cron tick, an HTTP call or a
// backfill, answered with the run's summary.
import { z } from 'zod';
import { LEVELS, type Level } from '../aggregate/index.ts';
import { BAD_REQUEST, errorResponse, type ApiOperation } from '../openapi/operation.ts';

const instant = z.string();
const errorOf = z.object({ code: z.string(), message: z.string() });
const LevelSchema = z.enum(LEVELS as [Level, ...Level[]]);

export const AggregationRequestSchema = z
  .object({
    from: z.string().meta({
      description:
        'start of the backfill: a date ("2026-11-01", its local midnight in time.zone) or an ISO-8601 date-time with offset',
    }),
    to: z.string().meta({
      description: 'end of the backfill: a date (that whole day included) or a date-time (excluded)',
    }),
  })
  .meta({
    description:
      'backfill: exactly the windows overlapping the range are redone (needs the API token when one is set); no body = catch-up',
  });

export const AggregationSummarySchema = z.object({
  status: z.enum(['succeeded', 'partial', 'failed', 'already_running', 'timed_out', 'disabled']),
  level: LevelSchema,
  runId: z.number(),
  windowsDue: z
    .number()
    .meta({ description: 'windows closed and dirty (or due for a retry) when the run started' }),
  windowsDone: z.number(),
  windowsFailed: z.number(),
  windowsLeftRemoved: z.number().meta({
    description:
      'windows not computed and not failed: the retention sweep removed their own state and part of their source (their aggregates are in the archive); computed again once all their days are restored with recompute',
  }),
  windowsMarked: z.number().optional(),
  rowsIn: z.number(),
  rowsOut: z.number(),
  durationMs: z.number(),
  windows: z.array(
    z.object({
      level: LevelSchema,
      bucket: instant,
      end: instant,
      status: z.enum(['succeeded', 'failed', 'left_removed']),
      attempt: z.number(),
      rowsIn: z.number(),
      rowsOut: z.number(),
      durationMs: z.number(),
      runId: z.number(),
      error: errorOf.optional(),
      exhausted: z.boolean().optional(),
      reason: z.string().optional().meta({ description: 'why a window was left removed' }),
    }),
  ),
  ingest: z
    .object({
      rowsIn: z.number(),
      lag: z.number().optional(),
      duplicates: z.number().optional(),
      conflictingDuplicates: z.number().optional(),
      rejected: z.number().optional(),
      costInferred: z
        .number()
        .optional()
        .meta({ description: 'llm_request records whose cost_usd was inferred from the price table' }),
      unpriced: z.number().optional().meta({
        description: 'llm_request records with tokens but no cost_usd and no price for their model',
      }),
    })
    .optional(),
  ingestError: errorOf.optional().meta({ description: 'why the pull before an hourly run failed' }),
  error: errorOf.optional(),
});

const FUNCTIONS: Array<[string, Level, string]> = [
  [
    'aggregate-hourly',
    'hour',
    'Pull new events from Kafka (when configured), then aggregate every closed, dirty hour',
  ],
  ['aggregate-daily', 'day', 'Roll hours up into every closed, dirty day of the configured zone'],
  ['aggregate-weekly', 'week', 'Roll days up into every closed, dirty week'],
  ['aggregate-monthly', 'month', 'Roll days up into every closed, dirty month'],
];

export const aggregationOperations: ApiOperation[] = FUNCTIONS.map(([fn, level, summary]) => ({
  method: 'post',
  path: '/',
  function: fn,
  served: 'gateway',
  operationId: `run${level[0]!.toUpperCase()}${level.slice(1)}Aggregation`,
  summary,
  description:
    'What the cron tick does; a body {"from","to"} backfills that range instead. Only a backfill needs the ' +
    'API token (when one is configured): the tick and a call without a body do not.',
  tags: ['aggregation'],
  auth: true,
  body: { schema: AggregationRequestSchema, required: false },
  responses: {
    200: {
      description: 'the run: windows done and failed, rows in and out',
      schema: AggregationSummarySchema,
    },
    400: BAD_REQUEST,
    401: errorResponse('a backfill without the API token, when one is configured (UNAUTHORIZED)'),
    409: errorResponse(
      'a backfill while another invocation runs (JOB_ALREADY_RUNNING) or of a level switched off (AGGREGATION_DISABLED)',
    ),
    500: {
      description: 'the run failed (the summary says which windows and why)',
      schema: AggregationSummarySchema,
    },
    504: errorResponse('the run exceeded jobs.timeoutSeconds'),
  },
  examples: [{}, { body: { from: 'yesterday', to: 'today' }, status: 400 }],
}));
