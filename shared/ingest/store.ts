// Stores one batch of normalised events and rejections inside the caller's transaction: exactly once
// per idempotency key, raw rows in their daily partition, touched hours marked for aggregation.
//   1. rows are rendered and duplicates within the batch dropped in memory (prepare-rows.ts);
//   2. missing daily partitions are created;
//   3. each event is claimed — an event with an id by `id:<id>` in event_keys whichever path it came by, a
//      pushed event without one by its key there, and every Kafka record by offset in its partition's
//      claimed ranges too; what was claimed before, either way, comes back: duplicates;
//   4. only the new rows are written to raw_events — streamed as binary COPY, or for small batches and PGlite
//      as one json_to_recordset INSERT — with their partial hourly state (shared/aggregate/partials.ts), and
//      their hours get a new changed_seq;
//   5. duplicates with an id are compared with the kept event: other content is a conflicting duplicate;
//   6. rejections and conflicts go to dead_letters, once per key.
import type { PoolClient } from 'pg';
import { BatchPartials } from '../aggregate/partials.ts';
import { recordPartials } from '../aggregate/partials-sql.ts';
import { idKey } from '../events/index.ts';
import { conflictLetter, type ConflictingEvent } from './conflicts.ts';
import type { CopyBuffer } from './copy-buffer.ts';
import { insertDeadLetters } from './dead-letters-sql.ts';
import { findConflicts } from './duplicates-sql.ts';
import { claimKafkaOffsets } from './kafka-claims-sql.ts';
import type { KeptRows } from './kept-rows.ts';
import { keyClaimTuples } from './key-claim-tuples.ts';
import {
  partialRowsFor,
  prepareRows,
  rowContent,
  type PreparedRows,
  type RowFormat,
} from './prepare-rows.ts';
import { claimKeys, copyNewKeys, copyRawEvents, ensurePartitions, insertRawEventsJson } from './raw-sql.ts';
import type { DeadLetter, IngestEvent, StoreResult } from './types.ts';

export { UNSTORABLE_CODE } from './prepare-rows.ts';

export interface StoreOptions {
  /**
   * How rows reach raw_events: 'copy' streams a binary COPY, 'insert' sends one json_to_recordset statement,
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
/** Below this many keys a failed COPY (some key known) would cost more than claiming one by one saves. */
const MIN_COPIED_KEYS = 64;

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
  const origin = options.origin ?? 'http';
  const prepared = prepareRows(events, rowFormat(events.length, options), origin);
  return storePreparedRows(client, prepared, rejections, origin);
}

/** storeEvents for rows prepared beforehand (see prepare-rows.ts); same transaction rule. */
export async function storePreparedRows(
  client: PoolClient,
  prepared: PreparedRows,
  rejections: readonly DeadLetter[],
  origin: DeadLetter['origin'] = 'http',
): Promise<StoreResult> {
  const { rows: candidates, unstorable } = prepared;
  let stored = 0;
  let known = new Set<string>();
  if (candidates.count > 0) {
    await ensurePartitions(
      client,
      instantsOf(candidates, DAY_MS).map((day) => day.slice(0, 10)),
    );
    known = await claim(client, prepared);
    const rows = known.size === 0 ? candidates : candidates.filter((i) => !known.has(candidates.key(i)));
    if (rows.count > 0) {
      if (prepared.copyRows) await copyRawEvents(client, copyRowsOf(prepared.copyRows, rows));
      else await insertRawEventsJson(client, jsonRows(rows));
      // Added up while the rows were rendered; again, over the kept rows alone, when some were known.
      await recordPartials(
        client,
        rows.count === candidates.count ? prepared.partials : partialsOf(prepared, rows),
      );
    }
    stored = rows.count;
  }
  const conflicts = await conflictsOf(client, prepared, known, origin);
  await insertDeadLetters(client, [...rejections, ...unstorable, ...conflicts]);
  return {
    stored,
    duplicates: prepared.repeats.length + candidates.count - stored,
    conflictingDuplicates: conflicts.length,
    rejected: rejections.length + unstorable.length,
    unstorable,
    conflicts,
  };
}

/**
 * The duplicates with an id whose kept event has other content, as dead letters. Every duplicate with an id
 * is compared: one known from an earlier transaction, and a repeat within the batch (its kept event may be
 * the batch's own first, written above).
 */
async function conflictsOf(
  client: PoolClient,
  prepared: PreparedRows,
  known: ReadonlySet<string>,
  origin: DeadLetter['origin'],
): Promise<DeadLetter[]> {
  // A key's row came before its repeats: in this order, the first of several identical conflicting records
  // is the one whose letter is kept.
  const withId: ConflictingEvent[] = [];
  const { rows } = prepared;
  if (known.size > 0) {
    for (let i = 0; i < rows.count; i++) {
      const id = rows.id(i);
      if (id !== undefined && known.has(rows.key(i))) {
        withId.push({ id, kafka: rows.kafka(i), content: rowContent(prepared, i) });
      }
    }
  }
  for (const row of prepared.repeats) {
    if (row.id !== undefined && row.content !== undefined) {
      withId.push({ id: row.id, kafka: row.kafka, content: row.content });
    }
  }
  if (withId.length === 0) return [];
  const found = await findConflicts(
    client,
    withId.map((e, index) => ({ index, idempotencyKey: idKey(e.id), content: e.content })),
  );
  return found.map((c) => conflictLetter(origin, withId[c.index] as ConflictingEvent, c.kept));
}

/**
 * Claims every candidate and returns the keys (idempotency keys of the rows) that were already claimed.
 * Events with an id, and pushed events without one, are claimed by key in event_keys; every Kafka record
 * also by offset in its partition's ranges (one row per batch), so a record is known as a record too — one
 * stored by its offset before ids were identities, by either Kafka path, is not stored again under its id.
 * Keys go first, then partitions by topic:partition. In a large batch on PostgreSQL (`copyRows` rendered) the
 * keys are first tried by one COPY, in arrival order, which fails as a whole if any is known (or PostgreSQL
 * breaks a deadlock with another batch by failing it); only then are they claimed one by one, sorted, so
 * that claimers take their locks alike (raw-sql.ts).
 */
async function claim(client: PoolClient, prepared: PreparedRows): Promise<Set<string>> {
  const known = await claimByKey(client, prepared);
  const { rows } = prepared;
  for (const { topic, partition, rows: records, offsets } of rows.offsetsByPartition()) {
    const knownOffsets = await claimKafkaOffsets(client, topic, partition, offsets);
    if (knownOffsets.size === 0) continue;
    // Rare: look the records' rows up only now.
    records.forEach((i, at) => {
      if (knownOffsets.has(offsets[at] as string)) known.add(rows.key(i));
    });
  }
  return known;
}

async function claimByKey(client: PoolClient, prepared: PreparedRows): Promise<Set<string>> {
  const { rows } = prepared;
  const keyed: number[] = [];
  for (let i = 0; i < rows.count; i++) if (rows.claimedByKey(i)) keyed.push(i);
  if (keyed.length === 0) return new Set();
  if (prepared.copyRows && keyed.length >= MIN_COPIED_KEYS) {
    const tuples =
      prepared.keyClaims ??
      keyClaimTuples(keyed.map((i) => ({ idempotencyKey: rows.key(i), timestampMs: rows.timestampMs(i) })));
    if (await copyNewKeys(client, tuples.stream())) return new Set();
  }
  // Sorted: claimers one by one take their keys' locks in one order.
  const sorted = keyed.sort((a, b) => compare(rows.key(a), rows.key(b)));
  return claimKeys(
    client,
    sorted.map((i) => rows.key(i)),
    sorted.map((i) => new Date(rows.timestampMs(i)).toISOString()),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The distinct starts of the UTC hours or days (`unitMs`) the rows fall in, sorted, as ISO text. */
function instantsOf(rows: KeptRows, unitMs: number): string[] {
  const starts = new Set<number>();
  for (let i = 0; i < rows.count; i++) starts.add(Math.floor(rows.timestampMs(i) / unitMs) * unitMs);
  return [...starts].sort((a, b) => a - b).map((ms) => new Date(ms).toISOString());
}

/** The partials of the kept `rows` alone. */
function partialsOf({ tuples, copyRows }: PreparedRows, rows: KeptRows): PreparedRows['partials'] {
  const partials = new BatchPartials();
  for (let i = 0; i < rows.count; i++) partials.addRow(rows.timestampMs(i), tuples, rows.copyRow(i));
  return partials.result(partialRowsFor(copyRows));
}

/** The COPY bytes of `rows`: every row as rendered, or the kept ones when some were known already. */
function copyRowsOf(copyRows: CopyBuffer, rows: KeptRows): Buffer[] {
  if (rows.count === copyRows.count) return copyRows.chunks();
  return copyRows.select(Array.from({ length: rows.count }, (_, i) => rows.copyRow(i)));
}

/** The rows' JSON objects as one JSON array (format 'json'). */
function jsonRows(rows: KeptRows): string {
  return '[' + Array.from({ length: rows.count }, (_, i) => rows.json(i) as string).join(',') + ']';
}
