// The analyze-capacity routes in the OpenAPI document (shared/openapi): the query the GET parses with, the
// stored analysis (types.ts's CapacityAnswer, the very schema its rows are checked with) and a run's answer.
import { z } from 'zod';
import { BAD_REQUEST, UNAUTHORIZED, errorResponse, type ApiOperation } from '../openapi/operation.ts';
import { CapacityQuery } from './api.ts';
import { CapacityAnswer } from './types.ts';

/** What a run answers (runAnswer in api.ts). */
export const CapacityRunAnswerSchema = z.object({
  status: z.enum(['succeeded', 'skipped', 'already_running', 'failed']),
  run_id: z.number().nullable(),
  reason: z.string().nullable(),
  data_end: z.string().nullable(),
  analyses: z.number().meta({ description: 'series analysed' }),
  alerts: z
    .number()
    .meta({ description: 'series whose forecast crosses the threshold within the alert horizon' }),
  resources_without_data: z.array(z.string()),
  duration_ms: z.number(),
  error: z.object({ code: z.string(), message: z.string().optional() }).optional(),
});

const IGNORED = z.object({ status: z.literal('ignored'), reason: z.string() });
const DISABLED = errorResponse('capacity analysis is switched off (CAPACITY_ANALYSIS_DISABLED)');
const RUNNING = {
  description: 'another run holds the job (JOB_ALREADY_RUNNING)',
  schema: CapacityRunAnswerSchema,
};

export const capacityOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/capacity/analysis',
    function: 'analyze-capacity',
    served: 'api',
    operationId: 'getCapacityAnalysis',
    summary:
      'The newest capacity analysis: utilisation, forecast with calibrated intervals, crossings, recommendations',
    description:
      'Before the first run it makes one rather than answering empty. `points=false` leaves out the forecast points.',
    tags: ['capacity'],
    query: CapacityQuery,
    responses: {
      200: {
        description: 'the analysis of every (or the chosen) resource and series',
        schema: CapacityAnswer,
      },
      400: BAD_REQUEST,
      404: errorResponse('the resource is not analysed here, or there is nothing to analyse yet'),
      409: DISABLED,
    },
    examples: [{ query: { resource: 'cpu', points: 'false' } }, { query: { resource: 'fuel' }, status: 400 }],
  },
  {
    method: 'post',
    path: '/capacity/analysis',
    function: 'analyze-capacity',
    served: 'api',
    operationId: 'runCapacityAnalysis',
    summary: 'Analyse now',
    tags: ['capacity'],
    auth: true,
    responses: {
      200: { description: 'the run', schema: CapacityRunAnswerSchema },
      400: errorResponse(
        'the request has a body or a query: the analysis takes no parameters (REQUEST_INVALID)',
      ),
      401: UNAUTHORIZED,
      409: RUNNING,
    },
  },
  {
    method: 'post',
    path: '/',
    function: 'analyze-capacity',
    served: 'gateway',
    operationId: 'capacityTick',
    summary:
      'A cron tick or an hxp.batch.events message (a closed day) runs the scheduled analysis; a plain call analyses now',
    tags: ['capacity'],
    auth: true,
    responses: {
      200: {
        description: 'the run, or why a message was ignored',
        schema: z.union([CapacityRunAnswerSchema, IGNORED]),
      },
      401: UNAUTHORIZED,
      409: RUNNING,
    },
    examples: [
      {
        headers: { 'x-topic': 'hxp.batch.events', 'x-kafka-partition': '0' },
        body: { type: 'report.generated' },
      },
    ],
  },
];
