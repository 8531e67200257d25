// The read routes of the status function: their route table entries and their OpenAPI description.
import type { Route } from '../http/index.ts';
import { BAD_REQUEST, type ApiOperation } from '../openapi/operation.ts';
import { answerAggregates } from './aggregates.ts';
import { AggregatesPageSchema, CatalogueSchema, DailyUsageSchema } from './answers.ts';
import { answerCatalogue } from './catalogue.ts';
import { answerDailyUsage } from './daily-usage.ts';
import { AggregatesQuerySchema, CatalogueQuerySchema, DailyUsageQuerySchema } from './request.ts';
import type { ReadAnswer, ReadContext, ReadRequest } from './types.ts';

export type ReadHandler = (ctx: ReadContext, req: ReadRequest) => Promise<ReadAnswer>;

export const queryRoutes: Route<ReadHandler>[] = [
  { method: 'GET', pattern: '/aggregates', handler: answerAggregates },
  { method: 'GET', pattern: '/aggregates/catalogue', handler: answerCatalogue },
  { method: 'GET', pattern: '/aggregates/daily-usage', handler: answerDailyUsage },
];

const CACHE_HEADERS = {
  ETag: 'changes when a run changes the rows of the range; send it back as If-None-Match',
  'Last-Modified': 'when the newest run that changed the range finished',
};
const NOT_MODIFIED = {
  description: 'nothing changed since the ETag or date sent (If-None-Match, If-Modified-Since)',
};

export const queryOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/aggregates',
    function: 'status',
    served: 'api',
    operationId: 'getAggregates',
    summary: 'Aggregates of one level: metrics × one dimension over a range, paged (JSON or CSV)',
    description:
      'Rows of the views hourly/daily/weekly/monthly_aggregations in key order (timestamp, event_type, ' +
      'metric, dimension_value). Pages are bounded (`limit`); `next_cursor` (also the X-Next-Cursor header) ' +
      'continues. `Accept: text/csv` or `format=csv` streams the page as CSV with the same columns. A name ' +
      'that does not exist answers 400 listing the names that do.',
    tags: ['aggregates'],
    query: AggregatesQuerySchema,
    responses: {
      200: {
        description: 'one page of rows (as CSV with the same columns for Accept: text/csv or format=csv)',
        schema: AggregatesPageSchema,
        alternatives: ['text/csv'],
        headers: { ...CACHE_HEADERS, 'X-Next-Cursor': 'cursor of the next page; absent on the last' },
      },
      304: NOT_MODIFIED,
      400: BAD_REQUEST,
    },
    examples: [
      { query: { level: 'day', event_type: 'llm_request', metric: 'latency_ms', dimension: 'model' } },
      { query: { level: 'hour', event_type: 'llm_request', metric: 'cost_usd,tokens_in', limit: '5' } },
      { query: { level: 'day', dimension: 'model', format: 'csv' } },
      { query: { level: 'day', event_type: 'no_such_type' }, status: 400 },
    ],
  },
  {
    method: 'get',
    path: '/aggregates/catalogue',
    function: 'status',
    served: 'api',
    operationId: 'getAggregatesCatalogue',
    summary:
      'The event types, metrics, dimensions and values that have aggregates, with first/last bucket per level',
    tags: ['aggregates'],
    query: CatalogueQuerySchema,
    responses: {
      200: { description: 'the catalogue', schema: CatalogueSchema, headers: CACHE_HEADERS },
      304: NOT_MODIFIED,
      400: BAD_REQUEST,
    },
    examples: [{}],
  },
  {
    method: 'get',
    path: '/aggregates/daily-usage',
    function: 'status',
    served: 'api',
    operationId: 'getDailyUsage',
    summary:
      'Per day (configured zone): requests, errors, tokens, cost reported and inferred, per model; change vs the period before',
    description:
      'From the daily aggregates. Each day says whether it is complete (ended, and its hours and the day ' +
      'aggregated as they stand); without `to` the range is the 7 days up to the newest complete day, and ' +
      '`change` is null unless both periods are complete. `requests` is the largest count of one metric ' +
      'per day and model, not a count of events: it misses events without the most frequent metric (a ' +
      'failure reporting only "error": true), which inflates error_rate. An event_type with no daily ' +
      'aggregates answers 400 listing those that have them.',
    tags: ['aggregates'],
    query: DailyUsageQuerySchema,
    responses: {
      200: {
        description: 'the days, their totals and the previous period',
        schema: DailyUsageSchema,
        headers: CACHE_HEADERS,
      },
      304: NOT_MODIFIED,
      400: BAD_REQUEST,
    },
    examples: [
      {},
      { query: { from: '2026-11-01', to: '2026-10-01' }, status: 400 },
      { query: { event_type: 'no_such_type' }, status: 400 },
    ],
  },
];
