// The status function's own routes in the OpenAPI document (shared/openapi): their answers as zod schemas.
// test/unit/openapi.test.ts holds these to the TypeScript types the routes build.
import { z } from 'zod';
import { BAD_REQUEST, errorResponse, type ApiOperation } from '../openapi/operation.ts';
import { DASHBOARD_ASSETS } from './dashboard/assets.ts';
import { MAX_RUNS_LIMIT, RUN_STATUSES } from './runs.ts';

/** A route without parameters refuses a query rather than ignore one the caller thinks does something. */
const NO_QUERY = errorResponse(
  'the route takes no query parameters (REQUEST_INVALID names the unknown ones)',
);

const instant = z.string().meta({ description: 'ISO-8601 instant in UTC' });
const errorOf = z.object({ code: z.string().nullable(), message: z.string() });

const CheckSchema = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  latencyMs: z.number(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const HealthReportSchema = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  service: z.literal('batch-processing-api'),
  timestamp: instant,
  checks: z.record(z.string(), CheckSchema).meta({ description: 'one probe per configured dependency' }),
  failed: z.array(z.string()).optional(),
});

const PeriodStatusSchema = z.object({
  status: z.enum(['completed', 'running', 'failed', 'scheduled']),
  job: z.string(),
  schedule: z.string(),
  lastWindow: z.object({ start: instant, end: instant.nullable(), status: z.string() }).nullable(),
  lastRun: z
    .object({
      id: z.number(),
      status: z.string(),
      trigger: z.string(),
      startedAt: instant,
      finishedAt: instant.nullable(),
      error: errorOf.nullable(),
    })
    .nullable(),
  freshnessSeconds: z.number().nullable().meta({
    description:
      'seconds since the end of the newest completed bucket (null before the first): an age that grows through the current, unfinished period',
  }),
  lagSeconds: z.number().meta({
    description:
      'seconds since the end of the oldest ended bucket whose data is not aggregated yet; 0 when none waits (a period that has not ended is never behind)',
  }),
  newestCompletedBucketEnd: instant.nullable(),
  failingWindows: z.number(),
  nextRun: instant,
});

export const AggregationStatusSchema = z.object({
  timestamp: instant,
  timeZone: z.string(),
  periods: z.object({
    hourly: PeriodStatusSchema,
    daily: PeriodStatusSchema,
    weekly: PeriodStatusSchema,
    monthly: PeriodStatusSchema,
  }),
});

export const RunViewSchema = z.object({
  id: z.number(),
  job: z.string(),
  trigger: z.string(),
  window: z.object({ start: instant, end: instant.nullable() }).nullable(),
  attempt: z.number(),
  status: z.string(),
  startedAt: instant,
  finishedAt: instant.nullable(),
  durationMs: z.number().nullable(),
  rowsIn: z.number().nullable(),
  rowsOut: z.number().nullable(),
  error: errorOf.nullable(),
});

export const RunsListSchema = z.object({ runs: z.array(RunViewSchema), count: z.number() });

export const RunsQuerySchema = z.object({
  job: z.string().optional().meta({ description: 'e.g. aggregate-hour' }),
  status: z.enum(RUN_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_RUNS_LIMIT).default(50),
});

const UNHEALTHY = { description: 'a dependency failed; `failed` names it', schema: HealthReportSchema };

export const statusOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    function: 'status',
    served: 'api',
    operationId: 'getDashboard',
    summary: 'The web dashboard: aggregation per level, ingestion, runs, dead letters, reports, capacity',
    tags: ['status'],
    responses: { 200: { description: 'one server-rendered HTML page', contentType: 'text/html' } },
    examples: [{}],
  },
  {
    method: 'get',
    path: '/ui/{file}',
    function: 'status',
    served: 'api',
    operationId: 'getDashboardAsset',
    summary:
      'A browser library of the web dashboard (vega, vega-lite, vega-embed), served so it works offline',
    tags: ['status'],
    params: z.object({ file: z.enum(Object.keys(DASHBOARD_ASSETS) as [string, ...string[]]) }),
    responses: {
      200: { description: 'the script', contentType: 'text/javascript' },
      404: errorResponse('not one of the dashboard’s files'),
    },
    examples: [{ params: { file: 'vega-embed.min.js' } }, { params: { file: 'jquery.js' }, status: 404 }],
  },
  {
    method: 'get',
    path: '/health',
    function: 'status',
    served: 'api',
    operationId: 'getHealth',
    summary: 'Health of the service and each configured dependency (database, Kafka, S3)',
    tags: ['status'],
    responses: {
      200: { description: 'all healthy', schema: HealthReportSchema },
      400: NO_QUERY,
      503: UNHEALTHY,
    },
    examples: [{}, { query: { verbose: '1' }, status: 400 }],
  },
  {
    method: 'get',
    path: '/aggregation/status',
    function: 'status',
    served: 'api',
    operationId: 'getAggregationStatus',
    summary: 'Per period: state of its job, last window and run, freshness, lag, next cron fire',
    tags: ['status'],
    responses: { 200: { description: 'the four periods', schema: AggregationStatusSchema }, 400: NO_QUERY },
    examples: [{}, { query: { level: 'day' }, status: 400 }],
  },
  {
    method: 'get',
    path: '/runs',
    function: 'status',
    served: 'api',
    operationId: 'listRuns',
    summary: 'The newest entries of the runs ledger',
    tags: ['status'],
    query: RunsQuerySchema,
    responses: { 200: { description: 'newest first', schema: RunsListSchema }, 400: BAD_REQUEST },
    examples: [{ query: { job: 'aggregate-hour', limit: '3' } }, { query: { status: 'weird' }, status: 400 }],
  },
  {
    method: 'get',
    path: '/metrics',
    function: 'status',
    served: 'api',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics (on port 9101: the runtime’s registry followed by the status function’s)',
    tags: ['status'],
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
    examples: [{}],
  },
  {
    method: 'get',
    path: '/openapi.json',
    function: 'status',
    served: 'api',
    operationId: 'getOpenApi',
    summary: 'This document',
    tags: ['status'],
    responses: {
      200: {
        description: 'OpenAPI 3.1, generated from the routes’ zod schemas',
        schema: z.looseObject({
          openapi: z.string(),
          info: z.looseObject({}),
          paths: z.record(z.string(), z.unknown()),
        }),
      },
    },
    examples: [{}],
  },
];
