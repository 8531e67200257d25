// analyze-capacity: utilisation, forecasts with calibrated intervals, days to threshold and scaling
// recommendations from the hourly aggregates (shared/capacity). Deployed twice: analyze-capacity takes
// hxp.batch.events (a day's aggregation.completed) and HTTP (GET/POST /capacity/analysis),
// analyze-capacity-cron the daily cron fallback. This only adapts the request and copies the answer.
import { respond } from '../../shared/http/index.ts';
import { handleCapacityRequest } from '../../shared/capacity/index.ts';
import {
  closeFunctionContext,
  getFunctionContext,
  initFunction,
  jobDeps,
} from '../../shared/function-context.ts';
import type { FunctionContext, FunctionEvent } from '../../templates/node20-ts/types.ts';

export default async function handle(event: FunctionEvent, context: FunctionContext) {
  const fx = await getFunctionContext({ log: context.log });
  const jobs = jobDeps(fx, context.log);
  const answer = await handleCapacityRequest(
    {
      method: event.method,
      path: event.path,
      query: event.query,
      headers: event.headers,
      body: event.body,
      requestId: context.requestId,
    },
    { ...jobs, config: fx.config, apiToken: fx.config.api.token },
  );
  return respond(context, answer);
}

export const init = initFunction;
export const close = closeFunctionContext;
