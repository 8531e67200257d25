// ingest: push ingestion. An HTTP POST of one event, a JSON array or NDJSON, or one record forwarded by
// the Kafka connector (X-Topic, X-Kafka-Partition, X-Kafka-Offset). Answers what was stored, what was a
// duplicate, and why each rejected event went to dead letters.
import { z } from 'zod';
import { closeFunctionContext, getFunctionContext } from '../../shared/function-context.ts';
import { ingestPayload } from '../../shared/ingest/index.ts';
import type { FunctionContext, FunctionEvent } from '../../templates/node20-ts/types.ts';

const IngestRequest = z.object({
  method: z.literal('POST', { error: 'send events with POST' }),
  rawBody: z
    .instanceof(Buffer)
    .refine((b) => b.length > 0, 'the body is empty; send one event, a JSON array or NDJSON'),
});

export default async function handle(event: FunctionEvent, context: FunctionContext) {
  const { rawBody } = IngestRequest.parse(event);
  const fx = await getFunctionContext({ log: context.log });
  const result = await ingestPayload(
    // the configured limits, dimension keys and price table (fx.normalize) on this path as on the pull path
    { ...fx.normalize, db: fx.db, log: context.log, metrics: fx.metrics.registry },
    { body: rawBody, headers: event.headers },
  );
  context.status(result.rejected > 0 && result.stored + result.duplicates === 0 ? 422 : 200);
  return result;
}

export const close = closeFunctionContext;
