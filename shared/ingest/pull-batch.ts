// One fetched Kafka batch of one partition → one PostgreSQL transaction: the partition's stored offset
// is row-locked, records below it are skipped (already stored), the rest are normalised and stored,
// and the next offset is saved — all committed together.
import type { KafkaMessage } from 'kafkajs';
import type { Database } from '../db/index.ts';
import { isRetriable } from '../errors/index.ts';
import { normalizeKafkaRecord, type NormalizeSettings } from './normalize.ts';
import { lockOffset, saveOffset } from './offsets-sql.ts';
import { storeEvents } from './store.ts';
import type { DeadLetter, IngestEvent, StoreResult } from './types.ts';

export interface PartitionBatch {
  groupId: string;
  topic: string;
  partition: number;
  messages: readonly KafkaMessage[];
  /** When true, a batch starting after the stored offset is refused (the consumer must seek back). */
  checkGap: boolean;
}

export type BatchOutcome =
  | { kind: 'gap'; nextOffset: string }
  | { kind: 'stored'; result: StoreResult; skipped: number; letters: DeadLetter[]; nextOffset: string };

const ATTEMPTS = 3;

export async function storeBatch(
  db: Database,
  work: PartitionBatch,
  settings: NormalizeSettings,
  hooks: { beforeCommit?: () => void | Promise<void> } = {},
): Promise<BatchOutcome> {
  const first = work.messages[0];
  const last = work.messages[work.messages.length - 1];
  if (!first || !last) throw new Error('storeBatch: empty batch');
  const nextOffset = (BigInt(last.offset) + 1n).toString();
  const normalized = work.messages.map((message) => ({
    offset: BigInt(message.offset),
    result: normalizeKafkaRecord(
      {
        topic: work.topic,
        partition: work.partition,
        offset: message.offset,
        timestamp: message.timestamp,
        value: message.value,
      },
      settings,
    ),
  }));

  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(async (client) => {
        const stored = await lockOffset(client, work.groupId, work.topic, work.partition);
        const from = stored === null ? null : BigInt(stored);
        if (from !== null && work.checkGap && BigInt(first.offset) > from) {
          return { kind: 'gap', nextOffset: stored as string };
        }
        const events: IngestEvent[] = [];
        const letters: DeadLetter[] = [];
        let skipped = 0;
        for (const { offset, result } of normalized) {
          if (from !== null && offset < from) skipped++;
          else if (result.ok) events.push(result.event);
          else letters.push(result.letter);
        }
        const result = await storeEvents(client, events, letters, { embedded: db.embedded, origin: 'kafka' });
        if (from === null || BigInt(nextOffset) > from) {
          await saveOffset(client, work.groupId, {
            topic: work.topic,
            partition: work.partition,
            nextOffset,
          });
        }
        await hooks.beforeCommit?.();
        return { kind: 'stored', result, skipped, letters: [...letters, ...result.unstorable], nextOffset };
      });
    } catch (err) {
      if (attempt >= ATTEMPTS || !isRetriable(err)) throw err;
    }
  }
}
