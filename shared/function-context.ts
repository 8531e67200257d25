// The wiring every function handler shares, done once per process: the configuration (loaded and
// validated once), the database (opened and migrated once), and Kafka clients when brokers are
// configured. Handlers call `getFunctionContext()` and stay thin; the template server calls
// `closeFunctionContext()` (re-exported by handlers as `close`) after SIGTERM has drained requests.
// Also holds the one parser of an aggregation request (cron tick / HTTP / backfill) the aggregate-* handlers use.
import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import { loadConfig, type BatchProcessingConfig } from './config/index.ts';
import { gatedDatabase, usesEmbeddedSocket } from './db/gated.ts';
import { migrate, openDatabase, type Database } from './db/index.ts';
import {
  BATCH_EVENTS_TOPIC,
  type AggregationJobOptions,
  type JobDeps,
  type JobLogger,
  type Trigger,
} from './jobs/index.ts';
import { normalizeSettingsFrom, type NormalizeSettings } from './ingest/index.ts';
import { parseJsonText } from './json/index.ts';
import { createKafka, createPublisher, topicSettingsFrom, type Publisher } from './kafka/index.ts';
import { createLogger } from './log/index.ts';
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

async function create(log: StartupLogger | undefined, env: NodeJS.ProcessEnv): Promise<FunctionContext> {
  const config = loadConfig({ env });
  const url = databaseUrl(config);
  // Under the local runtime's embedded PGlite every function shares one session through its gate:
  // one connection, handed back as soon as it is idle (see runtime/db-gate.ts).
  const db =
    usesEmbeddedSocket(env) && url
      ? gatedDatabase(url)
      : await openDatabase({ url, poolSize: config.database.poolSize });
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
    metrics: { registry: processRegistry(), pusher: startPusher(config, env) },
  };
}

let stopPushing: (() => void) | undefined;

/** Pushes the process registry after each recording when a Pushgateway is configured. */
function startPusher(config: BatchProcessingConfig, env: NodeJS.ProcessEnv): MetricsPusher | undefined {
  const url = config.metrics.pushgatewayUrl;
  if (url === undefined) return undefined;
  const registry = processRegistry();
  const pusher = createMetricsPusher({
    url,
    registry,
    grouping: pushGrouping(env, config.metrics.instance),
    log: createLogger(config, { fn: env.HXP_FUNCTION_NAME ?? 'function', component: 'metrics' }),
  });
  stopPushing?.();
  stopPushing = onMetricsRecorded(registry, () => pusher.schedule());
  pusher.schedule();
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
  const context = await current?.catch(() => undefined);
  stopPushing?.();
  stopPushing = undefined;
  // The last push carries what the final requests recorded (the template records an invocation after
  // its response, which is before close).
  await context?.metrics.pusher?.flush();
  await context?.publisher?.disconnect().catch(() => undefined);
  await context?.db.close();
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

// ---- the aggregation request: a cron tick, an HTTP call, or a backfill --------------------------------

const isoInstant = z.iso.datetime({ offset: true });
export const AggregationBody = z
  .object({ from: isoInstant, to: isoInstant })
  .strict()
  .refine((b) => Date.parse(b.from) < Date.parse(b.to), {
    message: '"from" must be before "to" (to is exclusive)',
  })
  .optional();

export interface AggregationRequest {
  trigger: Trigger;
  from?: string;
  to?: string;
}

interface RequestLike {
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

function header(headers: RequestLike['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The body as JSON: already parsed (JSON content-type), or text that must be JSON; '' means none. `expected`
 * finishes the error message: what to send instead.
 */
export function jsonBody(
  body: unknown,
  expected = 'send nothing, or {"from":"<ISO time>","to":"<ISO time>"} to backfill',
): unknown {
  if (typeof body !== 'string') return body;
  if (body.trim() === '') return undefined;
  return parseJsonText(body, expected, 'the request body');
}

/**
 * `{"from","to"}` → backfill; an empty body with `X-Connector: cron-connector` → a cron tick; a Kafka
 * connector delivery (`X-Topic`) → kafka; anything else → an HTTP call. Throws a ZodError (→ 400) on a bad body.
 */
export function parseAggregationRequest(event: RequestLike): AggregationRequest {
  const raw = jsonBody(event.body);
  const body = AggregationBody.parse(
    raw === null || (typeof raw === 'object' && Object.keys(raw).length === 0) ? undefined : raw,
  );
  if (body) return { trigger: 'backfill', from: body.from, to: body.to };
  if (header(event.headers, 'x-connector') === 'cron-connector') return { trigger: 'cron' };
  if (header(event.headers, 'x-topic') && header(event.headers, 'x-kafka-partition') !== undefined)
    return { trigger: 'kafka' };
  return { trigger: 'http' };
}
