// retention-sweep: archives what is past retention (raw days and aggregate months to Parquet, verified
// before anything is removed), deletes expired bookkeeping rows, and restores archived days. Daily cron
// tick (empty POST), POST /retention/cleanup {"dry_run"}, GET /retention/status, POST /retention/restore —
// the library (shared/retention) answers; this only adapts the request.
import { respond } from '../../shared/http/index.ts';
import { assertArchiveWritable, S3ObjectStore } from '../../shared/archive/index.ts';
import type { BatchProcessingConfig } from '../../shared/config/index.ts';
import {
  closeFunctionContext,
  getFunctionContext,
  initFunction,
  jobDeps,
} from '../../shared/function-context.ts';
import {
  handleRetentionRequest,
  retentionDepsFrom,
  type RetentionRouteDeps,
} from '../../shared/retention/index.ts';
import type { FunctionContext, FunctionEvent } from '../../templates/node20-ts/types.ts';

let deps: RetentionRouteDeps | undefined;

/** initFunction, and with archival on, a store that can take the archives (ARCHIVE_NOT_WRITABLE before it listens). */
export async function init(): Promise<BatchProcessingConfig> {
  const config = initFunction();
  if (config.retention.archival.enabled) await assertArchiveWritable(config);
  return config;
}

export default async function handle(event: FunctionEvent, context: FunctionContext) {
  const fx = await getFunctionContext({ log: context.log });
  deps ??= retentionDepsFrom(fx.config, fx.db, {
    metrics: fx.metrics.registry,
    publish: jobDeps(fx, context.log).publish,
  });
  const answer = await handleRetentionRequest(
    { method: event.method, path: event.path, body: event.body, headers: event.headers },
    { ...deps, log: context.log },
  );
  return respond(context, answer);
}

export async function close(): Promise<void> {
  if (deps?.store instanceof S3ObjectStore) deps.store.destroy();
  deps = undefined;
  await closeFunctionContext();
}
