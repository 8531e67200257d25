// The dead-letter routes of the status function in the OpenAPI document (shared/openapi): the query and body
// schemas the routes parse with, and their answers (held to DeadLetterView and ReplayResult by
// test/unit/openapi.test.ts).
import { z } from 'zod';
import { BAD_REQUEST, UNAUTHORIZED, errorResponse, type ApiOperation } from '../openapi/operation.ts';
import { DeadLettersQuery, ReplayRequest } from './dead-letters.ts';

const instant = z.string().meta({ description: 'ISO-8601 instant in UTC' });

export const DeadLetterViewSchema = z.object({
  id: z.number(),
  receivedAt: instant,
  origin: z.enum(['kafka', 'http']),
  reason: z.object({ code: z.string(), message: z.string() }),
  payload: z.object({
    encoding: z.enum(['utf8', 'base64']),
    data: z.string(),
    bytes: z.number(),
    truncated: z.boolean(),
  }),
  source: z.object({ topic: z.string(), partition: z.number(), offset: z.string() }).nullable(),
  replay: z.object({
    attempts: z.number(),
    replayedAt: instant.nullable(),
    outcome: z.enum(['stored', 'duplicate', 'rejected']).nullable(),
    error: z.string().nullable(),
  }),
});

export const DeadLetterPageSchema = z.object({
  deadLetters: z.array(DeadLetterViewSchema),
  count: z.number(),
  nextCursor: z.string().nullable(),
});

export const ReplayResultSchema = z.object({
  results: z.array(
    z.object({
      id: z.number(),
      outcome: z.enum(['stored', 'duplicate', 'rejected', 'already_replayed', 'not_found']),
      stored: z.number().optional(),
      reason: z.object({ code: z.string(), message: z.string() }).optional(),
    }),
  ),
  stored: z.number(),
  duplicates: z.number(),
  rejected: z.number(),
});

export const deadLetterOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/dead-letters',
    function: 'status',
    served: 'api',
    operationId: 'listDeadLetters',
    summary: 'Rejected input, newest first: reason, payload, Kafka position, replay state',
    tags: ['dead letters'],
    query: DeadLettersQuery,
    responses: { 200: { description: 'one page', schema: DeadLetterPageSchema }, 400: BAD_REQUEST },
    examples: [{ query: { limit: '5' } }, { query: { reason: 'not a code' }, status: 400 }],
  },
  {
    method: 'get',
    path: '/dead-letters/{id}',
    function: 'status',
    served: 'api',
    operationId: 'getDeadLetter',
    summary: 'One dead letter with its whole payload',
    tags: ['dead letters'],
    params: z.object({ id: z.string().meta({ description: 'a dead letter id (positive integer)' }) }),
    responses: {
      200: { description: 'the dead letter', schema: DeadLetterViewSchema },
      400: BAD_REQUEST,
      404: errorResponse('no such dead letter'),
    },
    examples: [{ params: { id: '999999' }, status: 404 }],
  },
  {
    method: 'post',
    path: '/dead-letters/replay',
    function: 'status',
    served: 'api',
    operationId: 'replayDeadLetters',
    summary: 'Re-ingest dead letters (fixed producers, changed settings) exactly once',
    tags: ['dead letters'],
    body: { schema: ReplayRequest },
    auth: true,
    responses: {
      200: { description: 'the outcome per id', schema: ReplayResultSchema },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
    },
    examples: [{ body: { ids: [999999] } }, { body: { ids: [] }, status: 400 }],
  },
];
