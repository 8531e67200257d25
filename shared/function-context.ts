// The wiring every function handler shares, done once per process: the configuration (loaded and
// validated once), the database (opened and migrated once), and Kafka clients when brokers are
// configured. Handlers call `getFunctionContext()` and stay thin; the template server calls
// `closeFunctionContext()` (re-exported by handlers as `close`) after SIGTERM has drained requests.
import type { Kafka } from 'kafkajs';
import { loadConfig, type BatchProcessingConfig } from './config/index.ts';
import { gatedDatabase, usesEmbeddedSocket } from './db/gated.ts';
import { migrate } from './db/migrate.ts';
import { openPostgres } from './db/open-postgres.ts';
import type { Database } from './db/types.ts';
import { BatchError } from './errors/index.ts';
import {
  BATCH_EVENTS_TOPIC,
  type AggregationJobOptions,
  type JobDeps,
  type JobLogger,
} from './jobs/index.ts';
import { normalizeSettingsFrom, type NormalizeSettings } from './ingest/index.ts';
import { createKafka, createPublisher, topicSettingsFrom, type Publisher } from './kafka/index.ts';
import { createLogger, type LoggerSource } from './log/index.ts';
import type { Registry } from 'prom-client';
import {
  createMetricsPusher,
  onMetricsRecorded,
  processRegistry,
  pushGrouping,
  type MetricsPusher,
} from './metrics/index.ts';

export interface FunctionContext {
  readonly config: BatchProcessingConfig;
  readonly db: Database;
  /** The kafkajs client; undefined when kafka.bootstrapServers is not configured. */
  readonly kafka: Kafka | undefined;
  /** Publishes the functions' own events; undefined without Kafka. Connects on first use. */
  readonly publisher: Publisher | undefined;
  readonly jobOptions: AggregationJobOptions;
  /** Event limits and dimension keys for both ingest paths. */
  readonly normalize: NormalizeSettings;
  /**
   * The process registry (runs, ingestion, invocations, domain metrics), pushed to the Pushgateway when
   * metrics.pushgatewayUrl is set.
   */
  readonly metrics: { registry: Registry; pusher: MetricsPusher | undefined };
}

/** Where the first request's migration messages go (its logger, so they carry its request id). */
interface StartupLogger {
  info(obj: object, msg?: string): void;
}

let pending: Promise<FunctionContext> | undefined;

/** The configuration's database URL with `database.password` (a separate secret) applied when set. */
export function databaseUrl(config: BatchProcessingConfig): string | undefined {
  const { url, password } = config.database;
  if (!url || !password) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

export function jobOptionsOf(config: BatchProcessingConfig): AggregationJobOptions {
  return {
    timeZone: config.time.zone,
    weekStart: config.time.weekStart,
    retries: config.jobs.retries,
    retryDelayMs: config.jobs.retryDelaySeconds * 1000,
    timeoutMs: config.jobs.timeoutSeconds * 1000,
  };
}

/**
 * The configuration a function runs with, validated, and its database URL. A function has no embedded
 * fallback: without DATABASE_URL it would answer 200 for events an in-memory database loses on restart,
 * so it refuses to start instead (only the local runtime runs the embedded database, on disk, and hands
 * its functions a DATABASE_URL).
 */
export function functionSettings(env: NodeJS.ProcessEnv = process.env): FunctionSettings {
  const config = loadedConfig(env);
  return { config, url: requiredDatabaseUrl(config) };
}

interface FunctionSettings {
  config: BatchProcessingConfig;
  url: string;
}

// Loaded once per process (per environment object): handlers read the configuration before they touch
// the database — the API token, the time zone of a backfill's dates — so a refused call costs nothing.
let settings: { env: NodeJS.ProcessEnv; config: BatchProcessingConfig } | undefined;

function loadedConfig(env: NodeJS.ProcessEnv): BatchProcessingConfig {
  if (settings?.env !== env) settings = { env, config: loadConfig({ env }) };
  return settings.config;
}

function requiredDatabaseUrl(config: BatchProcessingConfig): string {
  const url = databaseUrl(config);
  if (url === undefined) {
    throw new BatchError(
      'DATABASE_URL_REQUIRED',
      'DATABASE_URL is not set: a deployed function stores into PostgreSQL — set DATABASE_URL or mount the ' +
        'secret database-url (faas-cli secret create database-url …); the embedded database runs only ' +
        'under the local runtime (npm start)',
    );
  }
  return url;
}

/**
 * The template's start hook (handlers export it as `init`): a bad configuration or a missing
 * DATABASE_URL stops the process before it listens, with the catalogued error. Returns the configuration
 * so the template's logger takes its level from it rather than loading it a second time.
 */
export function initFunction(env: NodeJS.ProcessEnv = process.env): BatchProcessingConfig {
  let config: BatchProcessingConfig;
  try {
    config = loadedConfig(env);
  } catch (err) {
    // A process that cannot read its configuration still says it started, so a crash loop shows as one
    // (FunctionRestarting), when the environment names a Pushgateway.
    const url = env.PROMETHEUS_PUSHGATEWAY_URL;
    if (url !== undefined && /^https?:\/\/[^\s]+$/.test(url)) {
      startPusher(url, env.BATCH_PROCESSING_METRICS_INSTANCE || undefined, env, { level: 'info' });
    }
    throw err;
  }
  // Pushed now, not on the first request: a function that dies before any request is still seen starting.
  startPusher(config.metrics.pushgatewayUrl, config.metrics.instance, env, config);
  return functionSettings(env).config;
}

async function create(log: StartupLogger | undefined, env: NodeJS.ProcessEnv): Promise<FunctionContext> {
  const { config, url } = functionSettings(env);
  // Under the local runtime's embedded PGlite every function shares one session through its gate:
  // one connection, handed back as soon as it is idle (see runtime/db-gate.ts).
  const db = usesEmbeddedSocket(env)
    ? gatedDatabase(url)
    : await openPostgres({ url, poolSize: config.database.poolSize });
  try {
    await migrate(db, log ? { logger: log } : {});
  } catch (err) {
    await db.close();
    throw err;
  }
  const brokers = config.kafka.bootstrapServers;
  const kafkaLog = createLogger(config, { fn: env.HXP_FUNCTION_NAME ?? 'function', component: 'kafka' });
  const kafka = brokers?.length
    ? createKafka({ brokers, clientId: config.kafka.clientId, log: kafkaLog })
    : undefined;
  return {
    config,
    db,
    kafka,
    // Creates a topic the broker lacks on its first send to it (kafka.topics.create/partitions/…).
    publisher: kafka && createPublisher(kafka, { topics: topicSettingsFrom(config), log: kafkaLog }),
    jobOptions: jobOptionsOf(config),
    normalize: normalizeSettingsFrom(config),
    metrics: {
      registry: processRegistry(),
      pusher: startPusher(config.metrics.pushgatewayUrl, config.metrics.instance, env, config),
    },
  };
}

/** The process's pusher: one per process, started by init (or the first context) and flushed by close. */
let pushing: { key: string; pusher: MetricsPusher; stop: () => void } | undefined;

/**
 * Pushes the process registry now and after each recording when a Pushgateway is named (`url`); the same
 * Pushgateway and grouping keep the pusher already running.
 */
function startPusher(
  url: string | undefined,
  instance: string | undefined,
  env: NodeJS.ProcessEnv,
  logAs: LoggerSource,
): MetricsPusher | undefined {
  if (url === undefined) return undefined;
  const grouping = pushGrouping(env, instance);
  const key = JSON.stringify([url, grouping]);
  if (pushing?.key === key) return pushing.pusher;
  const registry = processRegistry();
  const pusher = createMetricsPusher({
    url,
    registry,
    grouping,
    log: createLogger(logAs, { fn: env.HXP_FUNCTION_NAME ?? 'function', component: 'metrics' }),
  });
  pushing?.stop();
  pushing = { key, pusher, stop: onMetricsRecorded(registry, () => pusher.schedule()) };
  void pusher.flush();
  return pusher;
}

/**
 * The process's function context, created on first call (config → database → migrations → Kafka).
 * A failed start is not cached: the next request tries again (e.g. PostgreSQL came up meanwhile).
 */
export function getFunctionContext(
  options: { log?: StartupLogger; env?: NodeJS.ProcessEnv } = {},
): Promise<FunctionContext> {
  pending ??= create(options.log, options.env ?? process.env).catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

/** Closes what getFunctionContext opened (the producer, the database); the next call starts afresh. */
export async function closeFunctionContext(): Promise<void> {
  const current = pending;
  pending = undefined;
  settings = undefined;
  // A context that failed to start holds nothing to close; its error went to the request that started it.
  const context = await current?.catch(() => undefined);
  const last = pushing;
  pushing = undefined;
  last?.stop();
  // The last push carries what the final requests recorded (the template records an invocation after
  // its response, which is before close) — or, for a process that failed to start, that it started.
  await last?.pusher.flush();
  // Shutting down: a producer that cannot say goodbye to the broker is dropped with the process anyway.
  await context?.publisher?.disconnect().catch(() => undefined);
  await context?.db.close();
}

const INTERVAL_OF_LEVEL = { hour: 'hourly', day: 'daily', week: 'weekly', month: 'monthly' } as const;

/** Whether `level` runs: the master switch aggregation.enabled and the level's aggregation.intervals.*. */
export function aggregationEnabled(
  config: Pick<BatchProcessingConfig, 'aggregation'>,
  level: keyof typeof INTERVAL_OF_LEVEL,
): boolean {
  return config.aggregation.enabled && config.aggregation.intervals[INTERVAL_OF_LEVEL[level]];
}

/** The deps of shared/jobs for one request: its logger carries the request id. */
export function jobDeps(context: FunctionContext, log: JobLogger): JobDeps {
  const deps: JobDeps = {
    db: context.db,
    log,
    options: context.jobOptions,
    metrics: context.metrics.registry,
  };
  const { publisher } = context;
  // The jobs name the default events topic; the configured one (kafka.topics.events) wins.
  const eventsTopic = context.config.kafka.topics.events;
  if (publisher) {
    deps.publish = (topic, key, value, headers) =>
      publisher.publish(topic === BATCH_EVENTS_TOPIC ? eventsTopic : topic, key, value, headers);
  }
  return deps;
}

// The aggregation request parser lives with the jobs; handlers have always found it here.
export {
  AggregationBody,
  parseAggregationRequest,
  type AggregationRequest,
} from './jobs/aggregation-request.ts';
