// Composes the local runtime: database (given or embedded behind the gate), function processes, the
// gateway, the original API, cron and the Kafka bridge. `npm start` (main.ts) and the e2e tests use it.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { loadConfig, type BatchProcessingConfig } from '../shared/config/index.ts';
import { migrate, openDatabase, type Database } from '../shared/db/index.ts';
import { databaseUrl } from '../shared/function-context.ts';
import { BatchError } from '../shared/errors/index.ts';
import { pushedRawTopics } from '../shared/ingest/consumption.ts';
import {
  configuredTopics,
  createKafka,
  topicSettingsFrom,
  waitForTopics,
  type KafkaLogSink,
} from '../shared/kafka/index.ts';
import { createRuntimeMetrics, type RuntimeMetrics } from './metrics.ts';
import { hostname } from 'node:os';
import { createApiServer, createMetricsServer, type MetricsEndpoint } from './api-server.ts';
import { runtimeMetricsText } from './metrics-text.ts';
import { createAsyncQueue } from './async-queue.ts';
import { basicAuthFromEnv } from './auth.ts';
import { callFunction } from './proxy.ts';
import { createCronScheduler, cronJobs, gatewayCronInvoke, type CronScheduler } from './cron.ts';
import { startEmbeddedServer, type EmbeddedServer } from './embedded-db.ts';
import { EMBEDDED_SOCKET_FLAG } from '../shared/db/gated.ts';
import { createGatewayServer, type Gateway } from './gateway.ts';
import {
  bridgedRoutes,
  deliveryHeaders,
  gatewayDeliver,
  startKafkaBridge,
  type KafkaBridge,
} from './kafka-bridge.ts';
import { invocationLimits, kafkaTopics, loadConfiguredStack, type Stack } from './stack.ts';
import { createSupervisor, PROJECT_ROOT, type RuntimeLog, type Supervisor } from './supervisor.ts';

export const DEFAULT_DATA_DIR = './.data/pglite';

/** kafkajs' own warnings and errors in the runtime log (its chatter stays out). */
function kafkaLogOf(log: RuntimeLog): KafkaLogSink {
  return {
    debug: () => undefined,
    warn: (o, m) => log.warn(o, m ?? ''),
    error: (o, m) => log.error(o, m ?? ''),
  };
}

export interface RuntimeOptions {
  stackFile?: string;
  /** Env of the runtime and base env of every function (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** 0 picks a free port; default GATEWAY_PORT or 8080. */
  gatewayPort?: number;
  /** 0 picks a free port; default BATCH_PROCESSING_API_PORT or 9101. */
  apiPort?: number;
  /** The metrics port (metrics.port, 9102 from `npm start`); 0 picks a free one; absent = none. */
  metricsPort?: number;
  /**
   * Where the function processes' metrics go: 'pushgateway' when metrics.pushgatewayUrl is set (they push
   * them; /metrics leaves them out), else 'collect' (default: /metrics reads them from each process).
   */
  functionMetrics?: 'collect' | 'pushgateway';
  /** The `instance` label of collected function metrics (metrics.instance; default the host name). */
  metricsInstance?: string;
  /** Embedded PGlite folder (default ./.data/pglite); ignored when env has DATABASE_URL. */
  dataDir?: string;
  /** Start node-cron timers (default true; tests call `cron.fireDue`). */
  cronTimers?: boolean;
  /** Kafka bridge consumer group (default kafka.connectorGroup, hxp-batch-connector) and test tuning. */
  kafka?: {
    groupId?: string;
    maxWaitTimeInMs?: number;
    attempts?: number;
    backoffMs?: { initial: number; max: number };
    /** Backoff while topics are missing or no broker answers (default 1 s → 30 s). */
    startBackoffMs?: { initial: number; max: number };
  };
  templateEntry?: string;
  /** Hears of each function process as it starts listening (the runtime waits for all of them). */
  onFunctionReady?: (fn: string, ready: number, total: number) => void;
  log: RuntimeLog;
  output?: (fn: string, line: string) => void;
  backoffMs?: { initial: number; max: number };
}

export interface Runtime {
  stack: Stack;
  gatewayUrl: string;
  apiUrl: string;
  /** http://127.0.0.1:<metrics port>, when one was asked for. */
  metricsUrl: string | undefined;
  database: { mode: 'embedded' | 'external'; url: string; dataDir?: string };
  /** The runtime's own connection (through the gate in embedded mode). */
  db: Database;
  supervisor: Supervisor;
  gateway: Gateway;
  cron: CronScheduler;
  bridge: KafkaBridge | undefined;
  metrics: RuntimeMetrics;
  stop(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new BatchError(
              'CONFIG_INVALID',
              `port ${port} on 127.0.0.1 is in use; stop the other process or set another port (GATEWAY_PORT / BATCH_PROCESSING_API_PORT / BATCH_PROCESSING_METRICS_PORT)`,
              { context: { port }, cause: err },
            )
          : err,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolvePort((server.address() as AddressInfo).port));
  });
}

const close = (server: Server): Promise<void> =>
  new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });

/**
 * Options for a runtime of its own beside others (a test, a screenshot): the embedded database in `dataDir`,
 * free ports, no cron timers and no database server or broker unless `env` names them; function output
 * dropped. `options` adds to or overrides these.
 */
export function isolatedRuntimeOptions(
  dataDir: string,
  log: RuntimeLog,
  env: NodeJS.ProcessEnv = {},
  options: Partial<RuntimeOptions> = {},
): RuntimeOptions {
  return {
    dataDir,
    gatewayPort: 0,
    apiPort: 0,
    cronTimers: false,
    env: { ...process.env, DATABASE_URL: '', KAFKA_BOOTSTRAP_SERVERS: '', ...env },
    log,
    output: () => undefined,
    ...options,
  };
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const env = options.env ?? process.env;
  const config: BatchProcessingConfig = loadConfig({ env });
  const stack = loadConfiguredStack(options.stackFile ?? resolve(PROJECT_ROOT, 'stack.yml'), env, config);
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      await c().catch((err: unknown) =>
        options.log.warn({ err }, 'a part of the runtime failed to stop cleanly'),
      );
    }
  };
  try {
    // Database first: functions migrate on first use, but one migration here avoids N racing ones.
    let embedded: EmbeddedServer | undefined;
    let db: Database;
    let database: Runtime['database'];
    const externalUrl = databaseUrl(config);
    if (externalUrl) {
      db = await openDatabase({ url: externalUrl, poolSize: 2 });
      cleanups.push(() => db.close());
      database = { mode: 'external', url: externalUrl };
    } else {
      const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
      embedded = await startEmbeddedServer({
        dataDir,
        onResetFailed: (err) =>
          options.log.error(
            { err },
            'the embedded database session could not be reset; the next connection is refused',
          ),
      });
      cleanups.push(() => embedded!.close());
      db = embedded.db;
      database = { mode: 'embedded', url: embedded.url, dataDir };
    }
    await migrate(db);

    const metrics = createRuntimeMetrics();
    const gatewayServer = { url: '' };
    const baseEnv: NodeJS.ProcessEnv = { ...env };
    const supervisor = createSupervisor(stack.functions, {
      baseEnv,
      overrideEnv: embedded
        ? { DATABASE_URL: embedded.url, [EMBEDDED_SOCKET_FLAG]: '1', DATABASE_POOL_SIZE: '1' }
        : {},
      log: options.log,
      ...(options.templateEntry ? { templateEntry: options.templateEntry } : {}),
      ...(options.output ? { output: options.output } : {}),
      ...(options.backoffMs ? { backoffMs: options.backoffMs } : {}),
      onCrash: (fn) => metrics.restarts.inc({ function_name: fn }),
    });
    cleanups.push(() => supervisor.stopAll());

    const asyncQueue = createAsyncQueue({
      log: options.log,
      onDepth: (d) => metrics.asyncQueued.set(d),
      invoke: async (job) => {
        const proc = supervisor.get(job.fn);
        if (!proc) throw new Error(`function ${job.fn} is not in stack.yml`);
        const port = await proc.ready();
        return callFunction(port, job.method, job.path, job.headers, job.body, {
          fn: job.fn,
          timeoutMs: invocationLimits(proc.spec).execTimeoutMs,
        });
      },
    });
    const auth = basicAuthFromEnv(env);
    const gateway = createGatewayServer({ supervisor, asyncQueue, metrics, log: options.log, auth });
    const gatewayPort = await listen(gateway.server, options.gatewayPort ?? Number(env.GATEWAY_PORT || 8080));
    cleanups.push(() => close(gateway.server));
    gatewayServer.url = `http://127.0.0.1:${gatewayPort}`;
    // Functions that call the gateway find it here unless the env says otherwise.
    baseEnv.OPENFAAS_GATEWAY_URL = env.OPENFAAS_GATEWAY_URL || gatewayServer.url;
    const endpoint: MetricsEndpoint = {
      contentType: metrics.registry.contentType,
      text: () =>
        runtimeMetricsText({
          registry: metrics.registry,
          supervisor,
          collectFunctions: options.functionMetrics !== 'pushgateway',
          instance: options.metricsInstance ?? hostname(),
        }),
    };
    const api = createApiServer({ gateway, supervisor, metrics: endpoint });
    const apiPort = await listen(api, options.apiPort ?? Number(env.BATCH_PROCESSING_API_PORT || 9101));
    cleanups.push(() => close(api));
    let metricsUrl: string | undefined;
    if (options.metricsPort !== undefined) {
      const metricsServer = createMetricsServer(endpoint);
      metricsUrl = `http://127.0.0.1:${await listen(metricsServer, options.metricsPort)}`;
      cleanups.push(() => close(metricsServer));
    }

    await supervisor.startAll(undefined, options.onFunctionReady);
    for (const p of supervisor.all())
      metrics.replicas.set({ function_name: p.spec.name }, p.state === 'ready' ? 1 : 0);

    const cron = createCronScheduler(
      cronJobs(stack.functions),
      async (fn, headers) => {
        metrics.cronFired.inc({ function_name: fn });
        return gatewayCronInvoke(gatewayServer.url)(fn, headers);
      },
      options.log,
    );
    if (options.cronTimers !== false) cron.start();
    cleanups.push(async () => cron.stop());

    // The connector's part: every Kafka topic annotation, except the raw topics when the pull path is
    // chosen (kafka.consumption), so no record is consumed by both paths.
    let bridge: KafkaBridge | undefined;
    const brokers = config.kafka.bootstrapServers ?? [];
    const routes = bridgedRoutes(
      stack.functions.map((f) => ({ fn: f.name, topics: kafkaTopics(f) })),
      config.kafka.topics.raw,
      pushedRawTopics(config),
    );
    if (brokers.length > 0) {
      const topicSettings = topicSettingsFrom(config);
      if (routes.length > 0) {
        bridge = await startKafkaBridge({
          brokers,
          routes,
          deliver: gatewayDeliver(gatewayServer.url, deliveryHeaders(config.api.token)),
          log: options.log,
          groupId: options.kafka?.groupId ?? config.kafka.connectorGroup,
          dlqTopic: config.kafka.topics.dlq,
          topicSettings,
          ...(options.kafka?.maxWaitTimeInMs === undefined
            ? {}
            : { maxWaitTimeInMs: options.kafka.maxWaitTimeInMs }),
          ...(options.kafka?.attempts === undefined ? {} : { attempts: options.kafka.attempts }),
          ...(options.kafka?.backoffMs === undefined ? {} : { backoffMs: options.kafka.backoffMs }),
          ...(options.kafka?.startBackoffMs === undefined
            ? {}
            : { startBackoffMs: options.kafka.startBackoffMs }),
          onOutcome: (topic, fn, outcome) =>
            metrics.bridgeMessages.inc({ topic, function_name: fn, outcome }),
        });
        cleanups.push(() => bridge!.stop());
      }
      // A broker that has never seen this project lacks its topics: the bridge made sure of its own above;
      // the rest are created (or waited for, with a warning naming each) in the background, so the runtime
      // is up meanwhile. One after the other, so two creators do not race for one topic.
      const topicsWatch = new AbortController();
      const kafka = createKafka({ brokers, clientId: 'hxp-runtime', log: kafkaLogOf(options.log) });
      const bridged = new Set(bridge ? [...bridge.topics, config.kafka.topics.dlq] : []);
      const topics = configuredTopics(config).filter((topic) => !bridged.has(topic));
      const topicsReady = waitForTopics(kafka, topics, topicSettings, options.log, {
        signal: topicsWatch.signal,
        ...(options.kafka?.startBackoffMs ? { backoffMs: options.kafka.startBackoffMs } : {}),
      });
      cleanups.push(async () => {
        topicsWatch.abort();
        await topicsReady;
      });
    }

    return {
      stack,
      gatewayUrl: gatewayServer.url,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      metricsUrl,
      database,
      db,
      supervisor,
      gateway,
      cron,
      bridge,
      metrics,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
