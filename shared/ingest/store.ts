// Stores one batch of normalised events and rejections inside the caller's transaction: exactly once
// per idempotency key, raw rows in their daily partition, touched hours marked for aggregation.
//   1. rows are rendered and duplicates within the batch dropped in memory (prepare-rows.ts);
//   2. missing daily partitions are created;
//   3. each event is claimed — by key in event_keys, or a Kafka record by offset in its partition's claimed
//      ranges; what was claimed before comes back: duplicates;
//   4. only those rows are written to raw_events — streamed as COPY text, or for small batches and PGlite
//      as one json_to_recordset INSERT — and their hours get a new changed_seq;
//   5. rejections go to dead_letters, once per key.
import type { PoolClient } from 'pg';
import type { CopyBuffer, LineRange } from './copy-buffer.ts';
import { insertDeadLetters } from './dead-letters-sql.ts';
import { claimKafkaOffsets } from './kafka-claims-sql.ts';
import { kafkaRecordKey } from './normalize.ts';
import { prepareRows, type PreparedRow, type PreparedRows, type RowFormat } from './prepare-rows.ts';
import { claimKeys, copyRawEvents, ensurePartitions, insertRawEventsJson, touchHours } from './raw-sql.ts';
import type { DeadLetter, IngestEvent, StoreResult } from './types.ts';

export { UNSTORABLE_CODE } from './prepare-rows.ts';

export interface StoreOptions {
  /**
   * How rows reach raw_events: 'copy' streams COPY text, 'insert' sends one json_to_recordset statement,
   * 'auto' (default) copies batches of `copyThreshold` rows or more unless `embedded`.
   */
  method?: 'auto' | 'copy' | 'insert';
  /** PGlite behind pglite-socket does not speak the COPY sub-protocol. */
  embedded?: boolean;
  copyThreshold?: number;
  /** Origin recorded for events this store itself rejects. */
  origin?: DeadLetter['origin'];
}

const DEFAULT_COPY_THRESHOLD = 200;

/** The row format storeEvents would use for a batch of `size` events. */
export function rowFormat(size: number, options: StoreOptions = {}): RowFormat {
  const method = options.method ?? 'auto';
  const copy =
    method === 'copy' ||
    (method === 'auto' && !options.embedded && size >= (options.copyThreshold ?? DEFAULT_COPY_THRESHOLD));
  return copy ? 'copy' : 'json';
}

/** Call inside a transaction on `client`; nothing is visible to others until the caller commits. */
export async function storeEvents(
  client: PoolClient,
  events: readonly IngestEvent[],
  rejections: readonly DeadLetter[],
  options: StoreOptions = {},
): Promise<StoreResult> {
  const prepared = prepareRows(events, rowFormat(events.length, options), options.origin ?? 'http');
  return storePreparedRows(client, prepared, rejections);
}

/** storeEvents for rows prepared beforehand (see prepare-rows.ts); same transaction rule. */
export async function storePreparedRows(
  client: PoolClient,
  prepared: PreparedRows,
  rejections: readonly DeadLetter[],
): Promise<StoreResult> {
  const { rows: candidates, unstorable } = prepared;
  let stored = 0;
  if (candidates.length > 0) {
    await ensurePartitions(client, distinctSorted(candidates.map((p) => p.ts.slice(0, 10))));
    const known = await claim(client, candidates);
    const rows = known.size === 0 ? candidates : candidates.filter((p) => !known.has(p.idempotencyKey));
    if (rows.length > 0) {
      if (prepared.lines) await copyRawEvents(client, linesOf(prepared.lines, rows));
      else await insertRawEventsJson(client, '[' + rows.map((r) => r.json as string).join(',') + ']');
      await touchHours(client, distinctSorted(rows.map((p) => p.ts.slice(0, 13) + ':00:00Z')));
    }
    stored = rows.length;
  }
  await insertDeadLetters(client, unstorable.length === 0 ? rejections : [...rejections, ...unstorable]);
  return {
    stored,
    duplicates: prepared.repeats + candidates.length - stored,
    rejected: rejections.length + unstorable.length,
    unstorable,
  };
}

/**
 * Claims every candidate and returns the keys that were already claimed. Keyed events go to event_keys,
 * Kafka records to their partition's offset ranges — in one fixed order (keys sorted, then partitions by
 * topic:partition) so that concurrent batches take their locks alike.
 */
async function claim(client: PoolClient, candidates: readonly PreparedRow[]): Promise<Set<string>> {
  const keyed: PreparedRow[] = [];
  const byPartition = new Map<string, { topic: string; partition: number; offsets: string[] }>();
  for (const row of candidates) {
    const record = row.kafka;
    if (record === undefined) {
      keyed.push(row);
      continue;
    }
    const id = `${record.topic}:${record.partition}`;
    let group = byPartition.get(id);
    if (group === undefined) {
      byPartition.set(id, (group = { topic: record.topic, partition: record.partition, offsets: [] }));
    }
    group.offsets.push(record.offset);
  }
  keyed.sort((a, b) => compare(a.idempotencyKey, b.idempotencyKey));
  const known =
    keyed.length === 0
      ? new Set<string>()
      : await claimKeys(
          client,
          keyed.map((r) => r.idempotencyKey),
          keyed.map((r) => r.ts),
        );
  const partitions = [...byPartition.entries()].sort(([a], [b]) => compare(a, b));
  for (const [, { topic, partition, offsets }] of partitions) {
    for (const offset of await claimKafkaOffsets(client, topic, partition, offsets)) {
      known.add(kafkaRecordKey(topic, partition, offset));
    }
  }
  return known;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function distinctSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/** The COPY bytes of `rows`: every line as rendered, or the kept ones when some were known already. */
function linesOf(lines: CopyBuffer, rows: readonly PreparedRow[]): Buffer[] {
  return rows.length === lines.count ? lines.chunks() : lines.select(rows.map((r) => r.line as LineRange));
}
