// One consumption path per deployment (kafka.consumption): `pull` — aggregate-hourly drains the raw
// topics itself before each run — or `push` — a Kafka connector (the runtime's bridge, or OpenFaaS Pro's)
// posts each record to ingest. Both would read every record, so the path not chosen stays off: the
// hourly job does not pull under `push`, and ingest refuses connector deliveries of the raw topics
// under `pull` (they are the pull's to store, so nothing is lost, and the refusal is visible).
import type { BatchProcessingConfig } from '../config/index.ts';
import { BatchError } from '../errors/index.ts';

type Consumption = Pick<BatchProcessingConfig, 'kafka'>;

/** true when aggregate-hourly pulls the raw topics (brokers configured and the pull path chosen). */
export function pullsRawTopics(config: Consumption): boolean {
  return Boolean(config.kafka.bootstrapServers?.length) && config.kafka.consumption === 'pull';
}

/** Raw topics a Kafka connector may deliver to ingest: all of them under `push`, none under `pull`. */
export function pushedRawTopics(config: Consumption): readonly string[] {
  return config.kafka.consumption === 'push' ? config.kafka.topics.raw : [];
}

/** Throws KAFKA_PUSH_OFF (409) for a connector delivery of a raw topic while the pull path is chosen. */
export function assertPushAccepted(config: Consumption, topic: string | undefined): void {
  if (topic === undefined || config.kafka.consumption !== 'pull') return;
  if (!config.kafka.topics.raw.includes(topic)) return;
  throw new BatchError(
    'KAFKA_PUSH_OFF',
    `ingest got a Kafka connector delivery of ${topic} while KAFKA_CONSUMPTION=pull: aggregate-hourly pulls ` +
      'that topic itself, so this record was not stored here (the pull stores it). To ingest by the ' +
      'connector instead, set KAFKA_CONSUMPTION=push; otherwise stop delivering the topic to ingest',
    { context: { topic } },
  );
}
