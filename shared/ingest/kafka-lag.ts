// Where a consumer group stands against the topics' ends: Kafka's watermarks, and the lag measured against
// the offsets of whichever path stores the raw topics (kafka.consumption). The pull path stores its offsets
// in PostgreSQL with the rows they produced (the truth; Kafka's committed ones may lag or lead them). Under
// push the connector consumes the raw topics and commits its group's offsets in Kafka, and nothing is
// written to kafka_offsets: its committed offsets are all there is to measure against.
import type { Admin, Kafka } from 'kafkajs';
import type { Queryable } from '../db/index.ts';
import { readOffsets } from './offsets-sql.ts';

interface Watermark {
  topic: string;
  partition: number;
  low: string;
  high: string;
}

/** Which offsets a lag is measured against: stored in PostgreSQL (pull), or committed in Kafka (push). */
export type LagOffsets = 'stored' | 'committed';

async function withAdmin<T>(kafka: Kafka, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

async function readWatermarks(admin: Admin, topics: readonly string[]): Promise<Watermark[]> {
  const out: Watermark[] = [];
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      out.push({ topic, partition: p.partition, low: p.low, high: p.high });
    }
  }
  return out;
}

export async function watermarks(kafka: Kafka, topics: readonly string[]): Promise<Watermark[]> {
  return withAdmin(kafka, (admin) => readWatermarks(admin, topics));
}

const key = (topic: string, partition: number): string => `${topic}:${partition}`;

/** The next offset per partition that `groupId` committed in Kafka; kafkajs says -1 where it committed none. */
async function committedOffsets(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const t of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
    for (const p of t.partitions) {
      if (BigInt(p.offset) >= 0n) out.set(key(t.topic, p.partition), BigInt(p.offset));
    }
  }
  return out;
}

async function storedOffsets(
  db: Queryable,
  groupId: string,
  topics: readonly string[],
): Promise<Map<string, bigint>> {
  return new Map(
    (await readOffsets(db, groupId, topics)).map((o) => [key(o.topic, o.partition), BigInt(o.nextOffset)]),
  );
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Records not stored yet: high watermark − the group's next offset (the low watermark when it has none). */
  lag: number;
}

/**
 * The lag of every partition of `topics` for `groupId`: against the offsets it stored in PostgreSQL (the
 * pull path, the default) or committed in Kafka (`committed`: the connector's group under push).
 */
export async function partitionLags(
  deps: { db: Queryable; kafka: Kafka },
  groupId: string,
  topics: readonly string[],
  offsets: LagOffsets = 'stored',
): Promise<PartitionLag[]> {
  const [next, marks] = await withAdmin(deps.kafka, async (admin) => [
    offsets === 'committed'
      ? await committedOffsets(admin, groupId, topics)
      : await storedOffsets(deps.db, groupId, topics),
    await readWatermarks(admin, topics),
  ]);
  return marks.map((w) => {
    const from = next.get(key(w.topic, w.partition)) ?? BigInt(w.low);
    const high = BigInt(w.high);
    return { topic: w.topic, partition: w.partition, lag: high > from ? Number(high - from) : 0 };
  });
}

/** The lags of partitionLags against the stored offsets, summed (the pull path's own measure). */
export async function measureLag(
  deps: { db: Queryable; kafka: Kafka },
  groupId: string,
  topics: readonly string[],
): Promise<number> {
  return (await partitionLags(deps, groupId, topics)).reduce((sum, p) => sum + p.lag, 0);
}
