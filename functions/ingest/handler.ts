// ingest: push ingestion. An HTTP POST of one event, a JSON array or NDJSON, or one record forwarded by
// the Kafka connector (X-Topic, X-Kafka-Partition, X-Kafka-Offset). Answers what was stored, what was a
// duplicate, and why each rejected event went to dead letters; a request re-sent with the same
// Idempotency-Key gets its first answer again (Idempotent-Replayed: true). Takes the configured limits, dimension
// keys and raw retention (ingestion.*, retention.rawDays), as the pull path does; needs the API token
// unless ingest is configured open (api.ingestOpen).
import { z } from 'zod';
import { requireApiToken } from '../../shared/auth/index.ts';
import {
  closeFunctionContext,
  functionSettings,
  getFunctionContext,
  initFunction,
} from '../../shared/function-context.ts';
import { answerPush, connectorRecord } from '../../shared/ingest/index.ts';
import { assertPushAccepted } from '../../shared/ingest/consumption.ts';
import type { FunctionContext, FunctionEvent } from '../../templates/node20-ts/types.ts';

const IngestRequest = z.object({
  method: z.literal('POST', { error: 'send events with POST' }),
  rawBody: z
    .instanceof(Buffer)
    .refine((b) => b.length > 0, 'the body is empty; send one event, a JSON array or NDJSON'),
});

export default async function handle(event: FunctionEvent, context: FunctionContext) {
  const { config } = functionSettings();
  if (!config.api.ingestOpen) requireApiToken(event.headers, config.api.token, 'POST /function/ingest');
  const { rawBody } = IngestRequest.parse(event);
  assertPushAccepted(config, connectorRecord(event.headers)?.topic);
  const fx = await getFunctionContext({ log: context.log });
  const { result, replayed } = await answerPush(
    // the configured limits, dimension keys and price table (fx.normalize) on this path as on the pull path
    { ...fx.normalize, db: fx.db, log: context.log, metrics: fx.metrics.registry },
    { body: rawBody, headers: event.headers },
  );
  if (replayed) context.headers({ 'Idempotent-Replayed': 'true' });
  context.status(result.rejected > 0 && result.stored + result.duplicates === 0 ? 422 : 200);
  return result;
}

export const init = initFunction;
export const close = closeFunctionContext;
