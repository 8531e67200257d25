// Where a consumer group stands against the topics' ends: Kafka's watermarks, and the lag measured
// against PostgreSQL's stored offsets (the truth), not against Kafka's committed ones.
import type { Kafka } from 'kafkajs';
import type { Database } from '../db/index.ts';
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

/** High watermark − stored next offset (or the low watermark when none is stored), summed. */
export async function measureLag(
  deps: { db: Database; kafka: Kafka },
  groupId: string,
  topics: readonly string[],
): Promise<number> {
  const stored = new Map(
    (await readOffsets(deps.db, groupId, topics)).map((o) => [
      `${o.topic}:${o.partition}`,
      BigInt(o.nextOffset),
    ]),
  );
  let lag = 0n;
  for (const w of await watermarks(deps.kafka, topics)) {
    const next = stored.get(`${w.topic}:${w.partition}`) ?? BigInt(w.low);
    if (BigInt(w.high) > next) lag += BigInt(w.high) - next;
  }
  return Number(lag);
}
