// status: GET /health, /aggregation/status, /runs, /metrics, /dead-letters (+ POST /dead-letters/replay),
// /aggregates/*, /openapi.json — the status library's route table answers; this only adapts the request and
// copies its answer's status and headers.
import { respond } from '../../shared/http/index.ts';
import { closeFunctionContext, getFunctionContext, initFunction } from '../../shared/function-context.ts';
import { handleStatusRequest, statusDepsFromConfig, type StatusDeps } from '../../shared/status/index.ts';
import type { FunctionContext, FunctionEvent } from '../../templates/node20-ts/types.ts';

let deps: StatusDeps | undefined;

export default async function handle(event: FunctionEvent, context: FunctionContext) {
  const fx = await getFunctionContext({ log: context.log });
  deps ??= statusDepsFromConfig(fx.config, fx.db, { kafka: fx.kafka, metrics: fx.metrics.registry });
  const answer = await handleStatusRequest(
    { method: event.method, path: event.path, query: event.query, headers: event.headers, body: event.body },
    deps,
  );
  return respond(context, answer);
}

export const init = initFunction;

export async function close(): Promise<void> {
  deps = undefined;
  await closeFunctionContext();
}
