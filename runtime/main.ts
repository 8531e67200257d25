// `npm start` — the local OpenFaaS-compatible runtime; `npm start -- --demo` (npm run demo) also loads a
// week of synthetic events and runs the aggregation chain. Flags: --stack <file>, --data-dir <dir> (the
// embedded database and local archive, default ./.data: runtime/data-dir.ts), --demo, --once (exit after
// the demo), --no-cron.
import { parseArgs } from 'node:util';
import { LocalObjectStore, s3SettingsFrom } from '../shared/archive/index.ts';
import { loadConfigOrExit, type BatchProcessingConfig } from '../shared/config/index.ts';
import { withDemoPricing } from './demo/generate.ts';
import { capacitySummary, formatTable, runDemo } from './demo/run-demo.ts';
import { isBatchError } from '../shared/errors/index.ts';
import { createLogger } from '../shared/log/index.ts';
import { cronSchedule, kafkaTopics } from './stack.ts';
import { recordRuntime, runtimeDataDirs, withArchiveFolder } from './data-dir.ts';
import { startRuntime, type Runtime } from './runtime.ts';

/** What the bridge does: consuming its topics, or waiting for topics the broker lacks. */
function bridgeState(rt: Runtime): string {
  if (!rt.bridge) return 'bridge idle';
  const topics = rt.bridge.topics.join(', ');
  return rt.bridge.running
    ? `bridge consuming ${topics}`
    : `bridge waiting for ${topics} (see the warnings above; it starts once they exist)`;
}

/** Where raw events come from Kafka, and what the bridge carries (one consumption path, see KAFKA_CONSUMPTION). */
function kafkaLine(rt: Runtime, config: BatchProcessingConfig): string {
  const raw = config.kafka.topics.raw.join(', ');
  if (!config.kafka.bootstrapServers?.length) {
    return 'off (set KAFKA_BOOTSTRAP_SERVERS; ingestion by HTTP meanwhile)';
  }
  const path =
    config.kafka.consumption === 'pull'
      ? `${raw} pulled by aggregate-hourly before each run (KAFKA_CONSUMPTION=pull)`
      : `${raw} pushed to ingest by the bridge (KAFKA_CONSUMPTION=push)`;
  return `${path}; ${bridgeState(rt)}`;
}

/** Where reports and archived raw days go: the S3 bucket when one is configured, else the local folder. */
function archiveLocation(config: BatchProcessingConfig): string {
  const s3 = s3SettingsFrom(config);
  if (s3) return `s3://${s3.bucket}${s3.prefix ? `/${s3.prefix}` : ''}`;
  return new LocalObjectStore(config.retention.archival.path).location;
}

function describe(rt: Runtime, config: BatchProcessingConfig): string {
  const lines = [
    '',
    'hxp-batch local runtime',
    `  gateway   ${rt.gatewayUrl}   (faas-cli list --gateway ${rt.gatewayUrl})`,
    `  dashboard ${rt.apiUrl}/   (web: status, runs, ingestion, dead letters, reports)`,
    `  API       ${rt.apiUrl}   (/health /aggregation/status /runs /dead-letters /metrics …)`,
    ...(rt.metricsUrl ? [`  metrics   ${rt.metricsUrl}/metrics   (Prometheus)`] : []),
    rt.database.mode === 'embedded'
      ? `  database  embedded PGlite at ${rt.database.dataDir}, served to functions one connection at a time (${rt.database.url})`
      : `  database  PostgreSQL ${rt.database.url.replace(/\/\/[^@/]*@/, '//***@')}`,
    `  archive   ${archiveLocation(config)}   (reports, archived raw days)`,
    `  kafka     ${kafkaLine(rt, config)}`,
    '  functions',
  ];
  for (const p of rt.supervisor.all()) {
    const schedule = cronSchedule(p.spec);
    // Only the topics the bridge delivers are this function's trigger here.
    const topics = kafkaTopics(p.spec).filter((t) => rt.bridge?.topics.includes(t));
    const trigger = [
      `${rt.gatewayUrl}/function/${p.spec.name}`,
      schedule ? `cron "${schedule}"` : '',
      topics.length ? `kafka ${topics.join(',')}` : '',
    ]
      .filter(Boolean)
      .join('  ');
    lines.push(`    ${p.spec.name.padEnd(20)} pid ${String(p.pid).padEnd(7)} ${trigger}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stack: { type: 'string' },
      'data-dir': { type: 'string' },
      demo: { type: 'boolean', default: false },
      once: { type: 'boolean', default: false },
      'no-cron': { type: 'boolean', default: false },
    },
  });
  const dirs = runtimeDataDirs(values['data-dir']);
  const archiveEnv = withArchiveFolder(process.env, dirs.archive);
  // The whole configuration is validated before anything starts: a bad value exits non-zero naming it.
  const config = loadConfigOrExit({ env: archiveEnv });
  const log = createLogger(config, { component: 'runtime' });
  // The demo's api-3 reports tokens but no cost: unless a price table is configured, price the demo models.
  const demoPricing = values.demo ? withDemoPricing(archiveEnv, config.pricing) : undefined;
  process.stdout.write('starting the local runtime: database, then the functions of the stack…\n');
  const rt = await startRuntime({
    env: demoPricing?.env ?? archiveEnv,
    dataDir: dirs.pglite,
    log,
    gatewayPort: config.openfaas.gatewayPort,
    apiPort: config.api.port,
    metricsPort: config.metrics.port,
    functionMetrics: config.metrics.pushgatewayUrl ? 'pushgateway' : 'collect',
    ...(config.metrics.instance ? { metricsInstance: config.metrics.instance } : {}),
    ...(values.stack ? { stackFile: values.stack } : {}),
    cronTimers: !values['no-cron'],
    // Starting ten function processes takes seconds on two cores: say how far it got.
    onFunctionReady: (fn, ready, total) =>
      process.stdout.write(`started ${fn} (${ready} of ${total} functions)\n`),
  });
  process.stdout.write(describe(rt, config));
  // `npm run restore -- --data-dir` finds this runtime's API here while it holds the embedded database.
  const forget =
    rt.database.mode === 'embedded' ? await recordRuntime(dirs, rt.apiUrl) : async () => undefined;
  let stopping = false;
  const shutdown = (code: number): void => {
    if (stopping) return;
    stopping = true;
    void rt
      .stop()
      .then(forget)
      .finally(() => process.exit(code));
  };
  process.once('SIGINT', () => shutdown(0));
  process.once('SIGTERM', () => shutdown(0));
  if (values.demo) {
    if (demoPricing?.priced) {
      process.stdout.write(
        'demo: api-3 reports no cost_usd; its cost is inferred from the demo price table (BATCH_PROCESSING_PRICING, docs/pricing.md)\n',
      );
    }
    try {
      const result = await runDemo(rt.gatewayUrl, rt.db, {
        onProgress: (m) => process.stdout.write(`demo: ${m}\n`),
        timeZone: config.time.zone,
      });
      process.stdout.write(
        `\ndaily_aggregations (all sources and models, days in ${config.time.zone}):\n${formatTable(result.table)}\n\n`,
      );
      if (result.capacity?.status === 200) {
        const lines = await capacitySummary(rt.db);
        process.stdout.write(
          `capacity (the fleet; every series: curl ${rt.apiUrl}/capacity/analysis):\n${lines.map((l) => `  ${l}`).join('\n')}\n\n`,
        );
      }
    } catch (err) {
      process.stderr.write(`demo failed: ${(err as Error).message}\n`);
      shutdown(1);
      return;
    }
    if (values.once) shutdown(0);
  }
}

main().catch((err: unknown) => {
  // A catalogued error already says what to fix; a stack is for the unexpected.
  const detail = isBatchError(err) ? err.message : ((err as Error).stack ?? String(err));
  process.stderr.write(`runtime failed to start: ${detail}\n`);
  process.exit(1);
});
