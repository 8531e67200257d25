// kafka_offsets is written only here: the offset of the next record to read per (group, topic,
// partition), committed in the same transaction as the rows those records produced.
import type { Queryable } from '../db/index.ts';

export interface PartitionOffset {
  topic: string;
  partition: number;
  /** Offset of the next record to read, as a decimal string (Kafka offsets are int64). */
  nextOffset: string;
}

/**
 * The stored offsets of `group` for the given topics. With `afterWriters`, a partition whose batch is being
 * stored (its row locked by lockOffset) is read once that transaction has ended, so a member taking the
 * partition over from another starts after the batch instead of reading it again.
 */
export async function readOffsets(
  client: Queryable,
  group: string,
  topics: readonly string[],
  { afterWriters = false }: { afterWriters?: boolean } = {},
): Promise<PartitionOffset[]> {
  const { rows } = await client.query<{ topic: string; partition: number; next_offset: string }>(
    `SELECT topic, partition, next_offset::text AS next_offset FROM kafka_offsets
     WHERE consumer_group = $1 AND topic = ANY($2::text[]) ORDER BY topic, partition${afterWriters ? ' FOR SHARE' : ''}`,
    [group, topics],
  );
  return rows.map((r) => ({ topic: r.topic, partition: r.partition, nextOffset: r.next_offset }));
}

/**
 * Locks the row of one partition for this transaction and returns its next offset (null when none is
 * stored yet). Two consumers of one partition (a rebalance zombie) then store its batches one at a time.
 */
export async function lockOffset(
  client: Queryable,
  group: string,
  topic: string,
  partition: number,
): Promise<string | null> {
  const { rows } = await client.query<{ next_offset: string }>(
    `SELECT next_offset::text AS next_offset FROM kafka_offsets
     WHERE consumer_group = $1 AND topic = $2 AND partition = $3 FOR UPDATE`,
    [group, topic, partition],
  );
  return rows[0]?.next_offset ?? null;
}

/** Moves the stored offset forward (never back). */
export async function saveOffset(client: Queryable, group: string, offset: PartitionOffset): Promise<void> {
  await client.query(
    `INSERT INTO kafka_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
     ON CONFLICT (consumer_group, topic, partition) DO UPDATE
       SET next_offset = greatest(kafka_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()`,
    [group, offset.topic, offset.partition, offset.nextOffset],
  );
}
