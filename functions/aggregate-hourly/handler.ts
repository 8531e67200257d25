// aggregate-hourly: pulls new events from Kafka when brokers are configured (exactly-once into
// raw_events), then aggregates every closed, dirty hour. Cron tick, HTTP call, or backfill {"from","to"}.
import {
  closeFunctionContext,
  getFunctionContext,
  jobDeps,
  parseAggregationRequest,
} from '../../shared/function-context.ts';
import { pullFromKafka, pullOptionsFrom } from '../../shared/ingest/index.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import type { FunctionContext, FunctionEvent } from '../../templates/node20-ts/types.ts';

export default async function handle(event: FunctionEvent, context: FunctionContext) {
  const request = parseAggregationRequest(event);
  const fx = await getFunctionContext({ log: context.log });
  const { kafka, publisher } = fx;
  const pull = kafka
    ? async () => {
        const deps = {
          db: fx.db,
          kafka,
          log: context.log,
          metrics: fx.metrics.registry,
          ...(publisher ? { publisher } : {}),
        };
        const pulled = await pullFromKafka(deps, pullOptionsFrom(fx.config));
        const {
          stored: rowsIn,
          lag,
          duplicates,
          conflictingDuplicates,
          rejected,
          costInferred,
          unpriced,
        } = pulled;
        return { rowsIn, lag, duplicates, conflictingDuplicates, rejected, costInferred, unpriced };
      }
    : undefined;
  const summary = await runAggregation(jobDeps(fx, context.log), {
    level: 'hour',
    ...request,
    requestId: context.requestId,
    ...(pull ? { beforeAggregate: pull } : {}),
  });
  context.status(summary.status === 'failed' ? 500 : 200);
  return summary;
}

export const close = closeFunctionContext;
