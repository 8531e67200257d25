// status: GET /health, /aggregation/status, /runs — the status library answers; this only adapts the
// request and copies its answer's status.
import { closeFunctionContext, getFunctionContext, initFunction } from '../../shared/function-context.ts';
import { handleStatusRequest, statusDepsFromConfig, type StatusDeps } from '../../shared/status/index.ts';
import type { FunctionContext, FunctionEvent } from '../../templates/node20-ts/types.ts';

let deps: StatusDeps | undefined;

export default async function handle(event: FunctionEvent, context: FunctionContext) {
  const fx = await getFunctionContext({ log: context.log });
  deps ??= statusDepsFromConfig(fx.config, fx.db);
  const answer = await handleStatusRequest(
    { method: event.method, path: event.path, query: event.query },
    deps,
  );
  context.status(answer.status);
  return answer.body;
}

export const init = initFunction;

export async function close(): Promise<void> {
  deps = undefined;
  await closeFunctionContext();
}
