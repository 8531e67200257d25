// A small publisher for our own topics (hxp.batch.events, the DLQ). The producer is idempotent (the
// broker drops a retried duplicate), connects on first use and is shared by every publish.
import type { Kafka, Producer } from 'kafkajs';

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

export function createPublisher(kafka: Kafka): Publisher {
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
  const publishMany: Publisher['publishMany'] = async (topic, messages) => {
    if (messages.length === 0) return;
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
