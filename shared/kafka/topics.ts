// The topics this project reads and writes — raw events, its own events, the DLQ — exist before anything
// subscribes to or produces into them. A broker that has never seen the project lacks them, and kafkajs
// then fails a subscription with UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this
// topic-partition") even where the broker would create topics on first use. So every starter (the local
// runtime, the Kafka bridge, pull ingestion, the publisher) first ensures its topics: missing ones are
// created with the admin API, with the configured partitions and replication factor; where creating is
// switched off or refused (ACLs, a create policy, too few brokers for the replication factor) it warns,
// naming the topic and why, and waits for someone else to create it, without failing its own start.
import { setTimeout as pause } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import type { BatchProcessingConfig } from '../config/index.ts';

export interface TopicSettings {
  /** Create missing topics with the admin API (kafka.topics.create); false only waits for them. */
  create: boolean;
  /** Partitions of a created topic (kafka.topics.partitions). */
  partitions: number;
  /** Replication factor of a created topic (kafka.topics.replicationFactor); at most the broker count. */
  replicationFactor: number;
}

/** The configuration defaults: suit a single broker, and give pull ingestion partitions to overlap. */
export const DEFAULT_TOPIC_SETTINGS: TopicSettings = Object.freeze({
  create: true,
  partitions: 4,
  replicationFactor: 1,
});

export interface TopicsLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface TopicCheck {
  /** Topics that exist now (created or found). */
  present: string[];
  /** Created by this call. */
  created: string[];
  /** Still missing, each with the reason it was not created. */
  missing: Array<{ topic: string; reason: string }>;
}

interface KafkaErrorLike {
  type?: string;
  message?: string;
  errors?: unknown[];
}

/** Why the broker refused to create a topic, in words that say what to change. */
function refusal(err: unknown, settings: TopicSettings): string {
  const first = (err as KafkaErrorLike).errors?.[0] ?? err;
  const { type, message } = first as KafkaErrorLike;
  switch (type) {
    case 'TOPIC_AUTHORIZATION_FAILED':
    case 'CLUSTER_AUTHORIZATION_FAILED':
      return 'this client is not allowed to create topics (broker ACLs); create it, or grant CREATE';
    case 'INVALID_REPLICATION_FACTOR':
      return (
        `the cluster has fewer brokers than the replication factor ${settings.replicationFactor}; ` +
        'lower kafka.topics.replicationFactor (KAFKA_TOPIC_REPLICATION_FACTOR) or create it'
      );
    case 'POLICY_VIOLATION':
      return `the broker's create-topic policy refused it (${message ?? type}); create it by hand`;
    default:
      return `creating it failed (${type ?? message ?? String(err)})`;
  }
}

const CREATE_OFF =
  'creating topics is switched off (kafka.topics.create = false, KAFKA_TOPIC_CREATE); create it';

async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    // The work's answer is already known; a failed goodbye to the broker changes nothing about it.
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * One look at the broker: which of `topics` exist, and the missing ones created when allowed. A refusal is
 * reported in the result, not thrown; only an unreachable broker throws (kafkajs' own error).
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly string[],
  settings: TopicSettings,
  log?: TopicsLog,
): Promise<TopicCheck> {
  const wanted = [...new Set(topics)];
  const check: TopicCheck = { present: [], created: [], missing: [] };
  if (wanted.length === 0) return check;
  return withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    for (const topic of wanted) {
      if (existing.has(topic)) {
        check.present.push(topic);
        continue;
      }
      if (!settings.create) {
        check.missing.push({ topic, reason: CREATE_OFF });
        continue;
      }
      try {
        // One topic per request, so one refusal does not hide the others' outcome.
        const created = await admin.createTopics({
          topics: [
            { topic, numPartitions: settings.partitions, replicationFactor: settings.replicationFactor },
          ],
          waitForLeaders: true,
        });
        check.present.push(topic);
        if (created) {
          check.created.push(topic);
          log?.info(
            { topic, partitions: settings.partitions, replicationFactor: settings.replicationFactor },
            'created kafka topic',
          );
        }
      } catch (err) {
        // kafkajs reports a topic whose leaders it waited for in vain as UNKNOWN_TOPIC_OR_PARTITION, though
        // the broker created it (a busy broker elects them late): what the broker lists exists.
        if ((await admin.listTopics().catch((): string[] => [])).includes(topic)) {
          check.present.push(topic);
          check.created.push(topic);
          log?.info({ topic, err }, 'created kafka topic (its partition leaders were not elected yet)');
        } else {
          check.missing.push({ topic, reason: refusal(err, settings) });
        }
      }
    }
    return check;
  });
}

export interface WaitOptions {
  /** Stops waiting (the promise then resolves false). */
  signal?: AbortSignal;
  /** Backoff between looks (default 1 s doubling to 30 s). */
  backoffMs?: { initial: number; max: number };
}

/**
 * ensureTopics until every topic exists: each round that leaves one missing (or finds no broker) logs a
 * warning naming the topics and why, then waits with backoff. Resolves true once all exist, false when
 * `signal` stopped it first. Never rejects.
 */
export async function waitForTopics(
  kafka: Kafka,
  topics: readonly string[],
  settings: TopicSettings,
  log: TopicsLog,
  options: WaitOptions = {},
): Promise<boolean> {
  const { initial, max } = options.backoffMs ?? { initial: 1000, max: 30_000 };
  for (let delay = initial; ; delay = Math.min(max, delay * 2)) {
    if (options.signal?.aborted) return false;
    try {
      const check = await ensureTopics(kafka, topics, settings, log);
      if (check.missing.length === 0) return true;
      for (const { topic, reason } of check.missing) {
        log.warn({ topic, reason, retryInMs: delay }, `kafka topic "${topic}" is missing: ${reason}`);
      }
    } catch (err) {
      log.warn(
        { err, topics, retryInMs: delay },
        `could not check kafka topics ${topics.join(', ')} (no broker answered)`,
      );
    }
    // An abort ends the wait early; the loop then sees it.
    await pause(delay, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/** The topic settings of the configuration. */
export function topicSettingsFrom(config: BatchProcessingConfig): TopicSettings {
  const { create, partitions, replicationFactor } = config.kafka.topics;
  return { create, partitions, replicationFactor };
}

/** Every topic the configuration names: raw topics, the functions' events, the DLQ. */
export function configuredTopics(config: BatchProcessingConfig): string[] {
  const { raw, events, dlq } = config.kafka.topics;
  return [...new Set([...raw, events, dlq])];
}
