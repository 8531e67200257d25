// The ingest function in the OpenAPI document (shared/openapi): what a push takes and answers.
import { z } from 'zod';
import { EventEnvelopeSchema } from '../events/schema.ts';
import { BAD_REQUEST, errorResponse, type ApiOperation } from '../openapi/operation.ts';
import { idempotencyKeyHeader, REPLAYED_HEADER } from '../http/index.ts';

export const PushResultSchema = z.object({
  stored: z.number().int().meta({ description: 'events newly stored' }),
  duplicates: z.number().int().meta({
    description:
      'events stored before, by any path: the same id, the same Kafka record, or (without id) the same content',
  }),
  conflictingDuplicates: z.number().int().meta({
    description:
      'the duplicates whose id was stored before with other content: the first is kept, each is in `conflicts` and in dead letters',
  }),
  rejected: z.number().int().meta({ description: 'events sent to dead letters' }),
  rejections: z.array(
    z.object({
      index: z.number().int().meta({ description: 'position of the event in the body' }),
      code: z.string().meta({ description: 'EVENT_* or INGEST_* (docs/errors.md)' }),
      reason: z.string(),
    }),
  ),
  conflicts: z.array(
    z.object({
      id: z.string().meta({ description: 'the event id stored before with other content' }),
      code: z.string().meta({ description: 'EVENT_CONFLICTING_DUPLICATE' }),
      reason: z.string().meta({ description: 'which fields differ' }),
    }),
  ),
  costInferred: z
    .number()
    .int()
    .meta({ description: 'llm_request events whose cost_usd was inferred from the price table (pricing)' }),
  unpriced: z.number().int().meta({
    description: 'llm_request events with tokens but no cost_usd and no price for their model at their time',
  }),
});

export const ingestOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/',
    function: 'ingest',
    served: 'gateway',
    operationId: 'ingestEvents',
    summary: 'Push events: one JSON event, a JSON array, or NDJSON (or one record from the Kafka connector)',
    description:
      'Each event is stored once: by its id when it has one (whichever path it came by), else by its Kafka ' +
      'record or its content; the same id with other content keeps the first (a conflicting duplicate); bad ' +
      'events go to dead letters with the reason and ' +
      'never block the good ones around them. Kafka connector deliveries carry X-Topic, X-Kafka-Partition and ' +
      'X-Kafka-Offset. A request sent again with the same Idempotency-Key header (1–255 printable ASCII ' +
      'characters) gets its first answer back, with Idempotent-Replayed: true, and stores nothing; the same key ' +
      'with another body, content type or connector record answers 409. Needs the API token when one is ' +
      'configured, unless ingest is configured open (api.ingestOpen).',
    tags: ['ingest'],
    auth: true,
    headers: idempotencyKeyHeader(
      'names this request: sent again with the same key and body, it is answered with its first answer (docs/events.md)',
    ),
    body: {
      schema: z.union([EventEnvelopeSchema, z.array(EventEnvelopeSchema)]),
      description: 'application/x-ndjson (one event per line) is accepted too',
    },
    responses: {
      200: {
        description: 'what was stored, what was a duplicate, and why each rejected event was',
        schema: PushResultSchema,
        headers: REPLAYED_HEADER,
      },
      400: BAD_REQUEST,
      401: errorResponse(
        'a token is configured, ingest is not open (api.ingestOpen) and the request has no valid Authorization: Bearer header (UNAUTHORIZED)',
      ),
      409: errorResponse(
        'a Kafka connector delivered a raw topic while kafka.consumption is pull: not stored here, the pull stores it (KAFKA_PUSH_OFF); or the Idempotency-Key was used by another request (IDEMPOTENCY_KEY_REUSED)',
      ),
      413: errorResponse('the body is larger than MAX_REQUEST_BODY'),
      422: {
        description: 'every event of the body was rejected',
        schema: PushResultSchema,
        headers: REPLAYED_HEADER,
      },
    },
    examples: [
      {
        body: {
          event_type: 'llm_request',
          source: 'openapi-contract',
          data: { model: 'contract-model', latency_ms: 1 },
        },
      },
      { body: { event_type: 'llm_request' }, status: 422 },
    ],
  },
];
