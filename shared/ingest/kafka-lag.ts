// Where a consumer group stands against the topics' ends: Kafka's watermarks, and the lag measured
// against PostgreSQL's stored offsets (the truth), not against Kafka's committed ones.
import type { Kafka } from 'kafkajs';
import type { Queryable } from '../db/index.ts';
import { readOffsets } from './offsets-sql.ts';

interface Watermark {
  topic: string;
  partition: number;
  low: string;
  high: string;
}

export async function watermarks(kafka: Kafka, topics: readonly string[]): Promise<Watermark[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out: Watermark[] = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        out.push({ topic, partition: p.partition, low: p.low, high: p.high });
      }
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Records not stored yet: high watermark − stored next offset (the low watermark when none is stored). */
  lag: number;
}

/** The lag of every partition of `topics`, against the offsets `groupId` stored in PostgreSQL. */
export async function partitionLags(
  deps: { db: Queryable; kafka: Kafka },
  groupId: string,
  topics: readonly string[],
): Promise<PartitionLag[]> {
  const stored = new Map(
    (await readOffsets(deps.db, groupId, topics)).map((o) => [
      `${o.topic}:${o.partition}`,
      BigInt(o.nextOffset),
    ]),
  );
  return (await watermarks(deps.kafka, topics)).map((w) => {
    const next = stored.get(`${w.topic}:${w.partition}`) ?? BigInt(w.low);
    const high = BigInt(w.high);
    return { topic: w.topic, partition: w.partition, lag: high > next ? Number(high - next) : 0 };
  });
}

/** The lags of partitionLags, summed. */
export async function measureLag(
  deps: { db: Queryable; kafka: Kafka },
  groupId: string,
  topics: readonly string[],
): Promise<number> {
  return (await partitionLags(deps, groupId, topics)).reduce((sum, p) => sum + p.lag, 0);
}
