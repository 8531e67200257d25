// The Kafka connector (OpenFaaS CE has none): for every function annotated `topic: a,b` (other than
// cron-function) it consumes those topics with kafkajs in the group kafka.connectorGroup (KAFKA_CONNECTOR_GROUP,
// default hxp-batch-connector) and POSTs each message's raw value to /function/<name> with the connector's
// headers. 5xx and network errors are retried with backoff; after the last try the message is dead-lettered
// to `hxp.batch.dlq` with the reason. An offset is committed only after every function answered (any status
// < 500 acks) or the message was dead-lettered, so a crash before that redelivers it (functions dedupe by the
// event's id, else by topic:partition:offset).
//
// The raw topics are bridged only when the push path is chosen (KAFKA_CONSUMPTION=push); under the default
// pull path aggregate-hourly reads them itself, and bridging them too would consume every record twice.
// With an API token configured, deliveries carry it (ingest needs it unless BATCH_PROCESSING_INGEST_OPEN).
//
// Standalone:  node --import tsx runtime/kafka-bridge.ts [--gateway http://127.0.0.1:8080]
//   [--brokers host:port,…] [--group hxp-batch-connector] [--dlq-topic hxp.batch.dlq]
//   Defaults come from the configuration (OPENFAAS_GATEWAY_URL, KAFKA_BOOTSTRAP_SERVERS, KAFKA_DLQ_TOPIC,
//   KAFKA_CONSUMPTION, BATCH_PROCESSING_API_TOKEN); functions are read from GET <gateway>/system/functions
//   (BASIC_AUTH_USER/BASIC_AUTH_PASSWORD when the gateway needs them). Topics the broker lacks are created
//   first (KAFKA_TOPIC_CREATE, KAFKA_TOPIC_PARTITIONS, KAFKA_TOPIC_REPLICATION_FACTOR), or waited for with a
//   warning naming each: it never fails its start for a missing topic.
import { setTimeout as pause } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Consumer, KafkaMessage, Producer } from 'kafkajs';
import { loadConfigOrExit } from '../shared/config/index.ts';
import { pushedRawTopics } from '../shared/ingest/consumption.ts';
import {
  createKafka,
  DEFAULT_TOPIC_SETTINGS,
  ensureTopics,
  topicSettingsFrom,
  type TopicSettings,
} from '../shared/kafka/index.ts';
import { CRON_TOPIC } from './stack.ts';
import type { RuntimeLog } from './supervisor.ts';

export const DEFAULT_DLQ_TOPIC = 'hxp.batch.dlq';

export interface BridgeRoute {
  fn: string;
  topics: string[];
}

export type Deliver = (fn: string, headers: Record<string, string>, body: Buffer) => Promise<number>;

export interface KafkaBridgeOptions {
  brokers: string[];
  routes: BridgeRoute[];
  deliver: Deliver;
  log: RuntimeLog;
  /** The consumer group (kafka.connectorGroup): the status function reads its committed offsets as the lag. */
  groupId: string;
  clientId?: string;
  dlqTopic?: string;
  /** Tries per message and function, including the first (default 5). */
  attempts?: number;
  backoffMs?: { initial: number; max: number };
  fromBeginning?: boolean;
  /** kafkajs maxWaitTimeInMs (lower it in tests). */
  maxWaitTimeInMs?: number;
  /** How missing topics are created (default: the configuration defaults: create, 4 partitions, RF 1). */
  topicSettings?: TopicSettings;
  /** Backoff between start attempts while topics are missing or no broker answers (default 1 s → 30 s). */
  startBackoffMs?: { initial: number; max: number };
  onOutcome?: (topic: string, fn: string, outcome: 'delivered' | 'dead_lettered') => void;
}

export interface KafkaBridge {
  topics: string[];
  /** Resolves true once the bridge consumes (at once on a ready broker), false if stopped before that. */
  ready: Promise<boolean>;
  /** False while it waits for its topics (or a broker). */
  readonly running: boolean;
  stop(): Promise<void>;
}

/** Routes from OpenFaaS function statuses (`annotations.topic`), as the connector reads them. */
export function routesFromFunctions(
  fns: Array<{ name: string; annotations?: Record<string, string> | null }>,
): BridgeRoute[] {
  return fns
    .map((f) => ({
      fn: f.name,
      topics: (f.annotations?.topic ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && t !== CRON_TOPIC),
    }))
    .filter((r) => r.topics.length > 0);
}

/**
 * The routes the bridge serves: every topic annotation except the raw topics not in `pushedRaw` (the
 * pull path's, under KAFKA_CONSUMPTION=pull). A route left without topics is dropped.
 */
export function bridgedRoutes(
  routes: readonly BridgeRoute[],
  rawTopics: readonly string[],
  pushedRaw: readonly string[],
): BridgeRoute[] {
  const skipped = new Set(rawTopics.filter((t) => !pushedRaw.includes(t)));
  return routes
    .map((r) => ({ fn: r.fn, topics: r.topics.filter((t) => !skipped.has(t)) }))
    .filter((r) => r.topics.length > 0);
}

/** Headers every delivery carries: the API token when one is configured (never logged). */
export function deliveryHeaders(apiToken: string | undefined): Record<string, string> {
  return apiToken === undefined ? {} : { Authorization: `Bearer ${apiToken}` };
}

function utf8(buf: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return undefined;
  }
}

// Header values must be visible ASCII/latin1 without control characters to survive HTTP.
const headerSafe = (s: string): boolean => /^[\t\x20-\x7e\x80-\xff]*$/.test(s);

/** The connector's request headers for one message. */
export type MessageFields = Pick<KafkaMessage, 'offset' | 'timestamp' | 'key' | 'headers'>;

export function connectorHeaders(
  topic: string,
  partition: number,
  message: MessageFields,
): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'text/plain',
    'X-Connector': 'hxp-kafka-bridge',
    'X-Topic': topic,
    'X-Kafka-Partition': String(partition),
    'X-Kafka-Offset': message.offset,
    'X-Kafka-Timestamp': message.timestamp,
  };
  if (message.key !== null && message.key !== undefined) {
    const key = utf8(message.key);
    if (key !== undefined && headerSafe(key)) headers['X-Kafka-Key'] = key;
    else {
      headers['X-Kafka-Key'] = message.key.toString('base64');
      headers['X-Kafka-Key-Enc'] = 'b64';
    }
  }
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    if (raw === undefined || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) continue;
    const first = Array.isArray(raw) ? raw[0] : raw;
    if (first === undefined) continue;
    const value = typeof first === 'string' ? first : utf8(first);
    if (value !== undefined && headerSafe(value)) headers[`X-Kafka-${name}`] = value;
    else headers[`X-Kafka-${name}`] = Buffer.from(first).toString('base64');
  }
  return headers;
}

/** POST through a gateway, as the connector does, with `extraHeaders` (the API token) on every call. */
export function gatewayDeliver(gatewayUrl: string, extraHeaders: Record<string, string> = {}): Deliver {
  const base = gatewayUrl.replace(/\/$/, '');
  return async (fn, headers, body) => {
    const res = await fetch(`${base}/function/${fn}`, {
      method: 'POST',
      headers: { ...headers, ...extraHeaders },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  };
}

export async function startKafkaBridge(options: KafkaBridgeOptions): Promise<KafkaBridge> {
  const byTopic = new Map<string, string[]>();
  for (const r of options.routes) for (const t of r.topics) byTopic.set(t, [...(byTopic.get(t) ?? []), r.fn]);
  const topics = [...byTopic.keys()];
  const kafka = createKafka({ brokers: options.brokers, clientId: options.clientId ?? 'hxp-kafka-bridge' });
  const { groupId } = options;
  const consumer: Consumer = kafka.consumer({
    groupId,
    ...(options.maxWaitTimeInMs === undefined ? {} : { maxWaitTimeInMs: options.maxWaitTimeInMs }),
  });
  const producer: Producer = kafka.producer();
  const attempts = options.attempts ?? 5;
  const { initial, max } = options.backoffMs ?? { initial: 500, max: 30_000 };
  const dlqTopic = options.dlqTopic ?? DEFAULT_DLQ_TOPIC;
  const topicSettings = options.topicSettings ?? DEFAULT_TOPIC_SETTINGS;
  const stopping = new AbortController();

  async function deliverOne(
    fn: string,
    topic: string,
    partition: number,
    message: KafkaMessage,
  ): Promise<void> {
    const headers = connectorHeaders(topic, partition, message);
    const body = message.value ?? Buffer.alloc(0);
    let reason = '';
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        const status = await options.deliver(fn, headers, body);
        if (status < 500) {
          options.onOutcome?.(topic, fn, 'delivered');
          return;
        }
        reason = `function ${fn} answered HTTP ${status}`;
      } catch (err) {
        reason = `function ${fn} unreachable: ${(err as Error).message}`;
      }
      if (stopping.signal.aborted)
        throw new Error(`bridge stopping; ${topic}/${partition}@${message.offset} not acknowledged`);
      if (attempt < attempts) {
        const delay = Math.min(max, initial * 2 ** (attempt - 1));
        options.log.warn(
          { fn, topic, partition, offset: message.offset, attempt, retryInMs: delay, reason },
          'delivery failed; retrying',
        );
        await pause(delay);
      }
    }
    await producer.send({
      topic: dlqTopic,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...Object.fromEntries(Object.entries(message.headers ?? {}).filter(([, v]) => v !== undefined)),
            'x-dlq-reason': reason,
            'x-dlq-reason-code': 'BRIDGE_DELIVERY_FAILED',
            'x-dlq-function': fn,
            'x-dlq-attempts': String(attempts),
            'x-original-topic': topic,
            'x-original-partition': String(partition),
            'x-original-offset': message.offset,
          },
        },
      ],
    });
    options.log.error(
      { fn, topic, partition, offset: message.offset, attempts, reason, dlqTopic },
      'message dead-lettered',
    );
    options.onOutcome?.(topic, fn, 'dead_lettered');
  }

  // Subscribing to a topic the broker lacks fails the consumer ("This server does not host this
  // topic-partition"), so the topics, the DLQ included, are made sure of first (created, or waited for).
  async function consume(): Promise<boolean> {
    const check = await ensureTopics(kafka, [...topics, dlqTopic], topicSettings, options.log);
    if (check.missing.length > 0) {
      for (const { topic, reason } of check.missing) {
        options.log.warn(
          { topic, reason },
          `kafka topic "${topic}" is missing: ${reason}; the bridge waits for it`,
        );
      }
      return false;
    }
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });
    // eachMessage with autoCommit: kafkajs resolves (and later commits) an offset only after the
    // handler returned, i.e. after every function acknowledged the message or it was dead-lettered. A
    // throw (DLQ unreachable, stopping) leaves it uncommitted and kafkajs re-reads it.
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        for (const fn of byTopic.get(topic) ?? []) await deliverOne(fn, topic, partition, message);
      },
    });
    options.log.info({ topics, groupId }, 'kafka bridge consuming');
    return true;
  }

  // The first try is awaited, so a bridge on a ready broker consumes when this returns. Otherwise it keeps
  // trying in the background and the runtime around it starts anyway.
  const attempt = async (): Promise<boolean> => {
    try {
      return await consume();
    } catch (err) {
      if (stopping.signal.aborted) return false;
      options.log.warn({ err, topics, dlqTopic }, 'kafka bridge could not start yet; retrying');
      return false;
    }
  };
  let running = await attempt();
  const ready = running
    ? Promise.resolve(true)
    : (async () => {
        const { initial: first, max: most } = options.startBackoffMs ?? { initial: 1000, max: 30_000 };
        for (let delay = first; !stopping.signal.aborted; delay = Math.min(most, delay * 2)) {
          // An abort ends the wait early; the loop condition below sees it.
          await pause(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
          if (stopping.signal.aborted) break;
          if ((running = await attempt())) return true;
        }
        return false;
      })();
  return {
    topics,
    ready,
    get running() {
      return running;
    },
    async stop() {
      stopping.abort();
      // `ready` settles once the background retry sees the abort; it never rejects (attempt catches).
      await ready;
      // Stopping: uncommitted offsets are re-read by the next consumer, so a failed goodbye loses nothing.
      await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    },
  };
}

// ---- standalone ---------------------------------------------------------------------------------------

const consoleLog: RuntimeLog = {
  info: (o, m) => console.log(JSON.stringify({ level: 'info', msg: m, ...o })),
  warn: (o, m) => console.log(JSON.stringify({ level: 'warn', msg: m, ...o })),
  error: (o, m) => console.error(JSON.stringify({ level: 'error', msg: m, ...o })),
};

async function standalone(): Promise<void> {
  const { values } = parseArgs({
    options: {
      gateway: { type: 'string' },
      brokers: { type: 'string' },
      group: { type: 'string' },
      'dlq-topic': { type: 'string' },
    },
  });
  const config = loadConfigOrExit();
  const gateway = values.gateway ?? config.openfaas.gatewayUrl;
  const brokers = values.brokers
    ? values.brokers
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean)
    : (config.kafka.bootstrapServers ?? []);
  if (brokers.length === 0) {
    console.error(
      'usage: kafka-bridge.ts [--gateway http://127.0.0.1:8080] --brokers host:9092 (or KAFKA_BOOTSTRAP_SERVERS)',
    );
    process.exit(2);
  }
  const user = process.env.BASIC_AUTH_USER;
  const basic = user
    ? `Basic ${Buffer.from(`${user}:${process.env.BASIC_AUTH_PASSWORD ?? ''}`).toString('base64')}`
    : undefined;
  const res = await fetch(
    `${gateway.replace(/\/$/, '')}/system/functions`,
    basic ? { headers: { Authorization: basic } } : {},
  );
  if (!res.ok)
    throw new Error(`GET ${gateway}/system/functions answered ${res.status}; check the URL and basic auth`);
  const routes = bridgedRoutes(
    routesFromFunctions((await res.json()) as Array<{ name: string; annotations?: Record<string, string> }>),
    config.kafka.topics.raw,
    pushedRawTopics(config),
  );
  if (routes.length === 0) {
    consoleLog.warn(
      { gateway, consumption: config.kafka.consumption },
      'no function carries a Kafka topic annotation to bridge (the raw topics are bridged only with KAFKA_CONSUMPTION=push)',
    );
    return;
  }
  // Topics the broker lacks are created as the configuration says (KAFKA_TOPIC_CREATE, _PARTITIONS, …).
  const bridge = await startKafkaBridge({
    brokers,
    routes,
    deliver: gatewayDeliver(gateway, deliveryHeaders(config.api.token)),
    log: consoleLog,
    topicSettings: topicSettingsFrom(config),
    dlqTopic: values['dlq-topic'] ?? config.kafka.topics.dlq,
    groupId: values.group ?? config.kafka.connectorGroup,
  });
  const stop = (): void => void bridge.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  standalone().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
