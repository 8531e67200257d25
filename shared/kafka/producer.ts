// A small publisher for our own topics (hxp.batch.events, the DLQ). The producer is idempotent (the
// broker drops a retried duplicate), connects on first use and is shared by every publish. The first send
// to a topic makes sure the topic exists (topics.ts): a broker that has never seen this project lacks it.
import type { Kafka, Producer } from 'kafkajs';
import { DEFAULT_TOPIC_SETTINGS, ensureTopics, type TopicSettings, type TopicsLog } from './topics.ts';

export interface PublishMessage {
  key: string | null;
  value: object;
  headers?: Record<string, string> | undefined;
}

export interface Publisher {
  /** Sends one JSON message; `key` keeps one entity's messages in one partition and in order. */
  publish(topic: string, key: string | null, value: object, headers?: Record<string, string>): Promise<void>;
  /** Sends several messages of one topic in one request. */
  publishMany(topic: string, messages: readonly PublishMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface PublisherOptions {
  /** How a missing topic is created (default: the configuration defaults). */
  topics?: TopicSettings;
  log?: TopicsLog;
}

export function createPublisher(kafka: Kafka, options: PublisherOptions = {}): Publisher {
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  const connected = (): Promise<Producer> => {
    connecting ??= (async () => {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
      try {
        await p.connect();
      } catch (err) {
        connecting = undefined;
        throw err;
      }
      producer = p;
      return p;
    })();
    return connecting;
  };
  // Topics known to exist. A topic still missing is looked at again on the next send: someone may have
  // created it meanwhile.
  const ready = new Set<string>();
  const ensure = async (topic: string): Promise<void> => {
    if (ready.has(topic)) return;
    const check = await ensureTopics(kafka, [topic], options.topics ?? DEFAULT_TOPIC_SETTINGS, options.log);
    if (check.missing.length === 0) {
      ready.add(topic);
      return;
    }
    // The send below may still work where the broker creates topics on first use; if not, it fails and
    // says so to the caller.
    for (const { reason } of check.missing) {
      options.log?.warn({ topic, reason }, `kafka topic "${topic}" is missing: ${reason}`);
    }
  };
  const publishMany: Publisher['publishMany'] = async (topic, messages) => {
    if (messages.length === 0) return;
    await ensure(topic);
    const p = await connected();
    await p.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({
        key: m.key,
        value: JSON.stringify(m.value),
        ...(m.headers && Object.keys(m.headers).length > 0 ? { headers: m.headers } : {}),
      })),
    });
  };
  return {
    publish: (topic, key, value, headers) => publishMany(topic, [{ key, value, headers }]),
    publishMany,
    async disconnect() {
      const p = producer;
      producer = undefined;
      connecting = undefined;
      await p?.disconnect();
    },
  };
}
