// generate-report (also deployed as generate-report-cron): the /reports API, the hxp.batch.events trigger
// (aggregation.completed makes a period's report due) and the cron fallback — all answered by shared/reports.
// A 202 generation finishes after the answer; shutdown (close) waits for it.
import { respond } from '../../shared/http/index.ts';
import { assertArchiveWritable, openObjectStore } from '../../shared/archive/index.ts';
import type { BatchProcessingConfig } from '../../shared/config/index.ts';
import {
  closeFunctionContext,
  getFunctionContext,
  initFunction,
  jobDeps,
} from '../../shared/function-context.ts';
import {
  createMailer,
  handleReportRequest,
  reportMetrics,
  reportSettingsFrom,
  type ApiDeps,
  type Mailer,
} from '../../shared/reports/index.ts';
import type { FunctionContext, FunctionEvent } from '../../templates/node20-ts/types.ts';

const pending = new Set<Promise<unknown>>();
let mailer: Mailer | undefined;

export default async function handle(event: FunctionEvent, context: FunctionContext) {
  const fx = await getFunctionContext({ log: context.log });
  mailer ??= createMailer(fx.config);
  const deps: ApiDeps = {
    db: fx.db,
    store: openObjectStore(fx.config),
    settings: reportSettingsFrom(fx.config),
    metrics: reportMetrics(fx.metrics.registry),
    mailer,
    log: context.log,
    requestId: context.requestId,
    publish: jobDeps(fx, context.log).publish,
    apiToken: fx.config.api.token,
    cron: fx.config.reports.cron,
    background: (work) => {
      const job = work()
        .catch((err: unknown) => context.log.error({ err }, 'background report generation failed'))
        .finally(() => pending.delete(job));
      pending.add(job);
    },
  };
  const answer = await handleReportRequest(
    { method: event.method, path: event.path, query: event.query, headers: event.headers, body: event.body },
    deps,
  );
  return respond(context, answer);
}

/** initFunction, and with reports on, a store that can take them (ARCHIVE_NOT_WRITABLE before it listens). */
export async function init(): Promise<BatchProcessingConfig> {
  const config = initFunction();
  if (config.reports.enabled) await assertArchiveWritable(config);
  return config;
}

export async function close(): Promise<void> {
  await Promise.allSettled([...pending]);
  mailer?.close();
  mailer = undefined;
  await closeFunctionContext();
}
