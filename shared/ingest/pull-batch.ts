// One fetched Kafka batch of one partition → one PostgreSQL transaction: the partition's stored offset
// is row-locked, records below it are skipped (already stored), the rest — normalised and rendered once,
// when the batch was taken from kafkajs — are stored, and the next offset is saved; all committed together.
import type { KafkaMessage } from 'kafkajs';
import type { Database } from '../db/index.ts';
import type { KeptRows } from './kept-rows.ts';
import type { NormalizeSettings } from './normalize.ts';
import { lockOffset, saveOffset } from './offsets-sql.ts';
import { fromOffset, prepareKafkaBatch, type PreparedKafkaBatch } from './prepare-kafka-batch.ts';
import { retriedTransaction } from './retry.ts';
import { rowFormat, storePreparedRows } from './store.ts';
import type { DeadLetter, StoreResult } from './types.ts';

export interface PartitionBatch {
  groupId: string;
  topic: string;
  partition: number;
  messages: readonly KafkaMessage[];
  /** When true, a batch starting after the stored offset is refused (the consumer must seek back). */
  checkGap: boolean;
}

/** A fetched batch with its records decoded, validated and rendered: all the transaction needs of it. */
export interface PreparedPartitionBatch {
  groupId: string;
  topic: string;
  partition: number;
  firstOffset: string;
  /** One past the batch's last record. */
  nextOffset: string;
  records: number;
  checkGap: boolean;
  prepared: PreparedKafkaBatch;
}

export type BatchOutcome =
  | { kind: 'gap'; nextOffset: string }
  | {
      kind: 'stored';
      result: StoreResult;
      skipped: number;
      letters: DeadLetter[];
      nextOffset: string;
      /** Records of the batch whose cost the price table inferred, or found no price for (as push counts). */
      costs: CostCounts;
    };

export interface CostCounts {
  inferred: number;
  unpriced: number;
}

export function costCounts(rows: KeptRows): CostCounts {
  const counts = { inferred: 0, unpriced: 0 };
  for (let i = 0; i < rows.count; i++) {
    const cost = rows.cost(i);
    if (cost) counts[cost] += 1;
  }
  return counts;
}

/**
 * The CPU work of a batch, done once and before its transaction (a retried transaction does not redo it),
 * in slices between which the answers of the transactions in flight are taken (prepareKafkaBatch).
 */
export async function preparePartitionBatch(
  work: PartitionBatch,
  settings: NormalizeSettings,
  embedded: boolean,
): Promise<PreparedPartitionBatch> {
  const first = work.messages[0];
  const last = work.messages[work.messages.length - 1];
  if (!first || !last) throw new Error('preparePartitionBatch: empty batch');
  return {
    groupId: work.groupId,
    topic: work.topic,
    partition: work.partition,
    firstOffset: first.offset,
    nextOffset: (BigInt(last.offset) + 1n).toString(),
    records: work.messages.length,
    checkGap: work.checkGap,
    prepared: await prepareKafkaBatch(work, settings, rowFormat(work.messages.length, { embedded })),
  };
}

export async function storeBatch(
  db: Database,
  work: PreparedPartitionBatch,
  hooks: { beforeCommit?: () => void | Promise<void> } = {},
): Promise<BatchOutcome> {
  const { nextOffset } = work;
  const all = work.prepared;
  return retriedTransaction(() =>
    db.transaction(async (client): Promise<BatchOutcome> => {
      // The rows and their offset commit or vanish together, and the offset says where to read again;
      // so a commit lost to a PostgreSQL crash is re-read from Kafka, and waiting for its flush buys
      // nothing. (A later synchronous commit that saw these rows flushes them first: WAL is ordered.)
      await client.query('SET LOCAL synchronous_commit = off');
      const stored = await lockOffset(client, work.groupId, work.topic, work.partition);
      const from = stored === null ? null : BigInt(stored);
      if (from !== null && work.checkGap && BigInt(work.firstOffset) > from) {
        return { kind: 'gap', nextOffset: stored as string };
      }
      // Offsets ascend within a batch; only a batch that overlaps the stored offset is cut.
      const overlaps = from !== null && from > BigInt(work.firstOffset);
      const batch = overlaps ? fromOffset(all, from) : all;
      const skipped = overlaps ? recordsOf(all) - recordsOf(batch) : 0;
      const result = await storePreparedRows(client, batch.prepared, batch.letters, 'kafka');
      if (from === null || BigInt(nextOffset) > from) {
        await saveOffset(client, work.groupId, {
          topic: work.topic,
          partition: work.partition,
          nextOffset,
        });
      }
      await hooks.beforeCommit?.();
      return {
        kind: 'stored',
        result,
        skipped,
        letters: [...batch.letters, ...result.unstorable, ...result.conflicts],
        nextOffset,
        costs: costCounts(batch.prepared.rows),
      };
    }),
  );
}

/** Each record of a Kafka batch is exactly one of: a row, a repeat, a refused record, an unstorable one. */
function recordsOf(batch: PreparedKafkaBatch): number {
  const { prepared } = batch;
  return prepared.rows.count + prepared.repeats.length + batch.letters.length + prepared.unstorable.length;
}
