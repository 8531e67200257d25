// aggregate-hourly: pulls new events from the raw topics when brokers are configured and the pull path is
// chosen (kafka.consumption = pull; exactly-once into raw_events), then aggregates every closed, dirty
// hour. Cron tick, HTTP call, or backfill {"from","to"} (which needs the API token when one is set).
import { requireApiToken } from '../../shared/auth/index.ts';
import {
  aggregationEnabled,
  closeFunctionContext,
  functionSettings,
  getFunctionContext,
  initFunction,
  jobDeps,
  parseAggregationRequest,
} from '../../shared/function-context.ts';
import { pullFromKafka, pullOptionsFrom } from '../../shared/ingest/index.ts';
import { pullsRawTopics } from '../../shared/ingest/consumption.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import type { FunctionContext, FunctionEvent } from '../../templates/node20-ts/types.ts';

export default async function handle(event: FunctionEvent, context: FunctionContext) {
  const { config } = functionSettings();
  const request = parseAggregationRequest(event, config.time.zone);
  if (request.trigger === 'backfill') requireApiToken(event.headers, config.api.token, 'a backfill');
  const fx = await getFunctionContext({ log: context.log });
  const { kafka, publisher } = fx;
  const pull =
    kafka && pullsRawTopics(config)
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
    enabled: aggregationEnabled(config, 'hour'),
    ...(pull ? { beforeAggregate: pull } : {}),
  });
  context.status(summary.status === 'failed' ? 500 : 200);
  return summary;
}

export const init = initFunction;
export const close = closeFunctionContext;
