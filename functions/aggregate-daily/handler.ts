// aggregate-daily (deployed as aggregate-daily, aggregate-weekly and aggregate-monthly, told apart by
// AGGREGATION_LEVEL=day|week|month): rolls the finer level's state up into this level's windows.
// Cron tick (empty body, X-Connector: cron-connector), HTTP call, or backfill {"from","to"} (which needs
// the API token when one is set).
import { z } from 'zod';
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
import { runAggregation } from '../../shared/jobs/index.ts';
import type { FunctionContext, FunctionEvent } from '../../templates/node20-ts/types.ts';

const Level = z.enum(['day', 'week', 'month'], {
  error: (issue) =>
    `AGGREGATION_LEVEL=${JSON.stringify(issue.input)} is not a rollup level; set day, week or month in stack.yml`,
});
const level = Level.parse(process.env.AGGREGATION_LEVEL ?? 'day');

export default async function handle(event: FunctionEvent, context: FunctionContext) {
  const { config } = functionSettings();
  const request = parseAggregationRequest(event, config.time.zone);
  if (request.trigger === 'backfill') requireApiToken(event.headers, config.api.token, 'a backfill');
  const fx = await getFunctionContext({ log: context.log });
  const summary = await runAggregation(jobDeps(fx, context.log), {
    level,
    ...request,
    requestId: context.requestId,
    enabled: aggregationEnabled(config, level),
  });
  context.status(summary.status === 'failed' ? 500 : 200);
  return summary;
}

export const init = initFunction;
export const close = closeFunctionContext;
