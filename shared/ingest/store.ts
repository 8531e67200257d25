// Stores one batch of normalised events and rejections inside the caller's transaction: exactly once
// per idempotency key, raw rows in their daily partition, touched hours marked for aggregation.
//   1. duplicates within the batch are dropped in memory (the first wins);
//   2. missing daily partitions are created;
//   3. the keys go to event_keys (ON CONFLICT DO NOTHING RETURNING): the returned keys are the new events;
//   4. only those rows are written to raw_events — streamed as COPY text, or for small batches and PGlite
//      as one json_to_recordset INSERT — and their hours get a new changed_seq;
//   5. rejections go to dead_letters, once per key.
import type { PoolClient } from 'pg';
import type { ErrorCode } from '../errors/index.ts';
import { copyLine } from './copy-text.ts';
import { insertDeadLetters } from './dead-letters-sql.ts';
import { claimKeys, copyRawEvents, ensurePartitions, insertRawEventsJson, touchHours } from './raw-sql.ts';
import { unstorableReason } from './storable.ts';
import type { DeadLetter, IngestEvent, StoreResult } from './types.ts';

export const UNSTORABLE_CODE = 'INGEST_UNSTORABLE_TEXT' satisfies ErrorCode;

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
const COPY_CHUNK_CHARS = 256 * 1024;

interface Prepared {
  ts: string;
  event: IngestEvent;
  dataJson: string;
}

function isoTimestamp(value: Date | string | number): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** Call inside a transaction on `client`; nothing is visible to others until the caller commits. */
export async function storeEvents(
  client: PoolClient,
  events: readonly IngestEvent[],
  rejections: readonly DeadLetter[],
  options: StoreOptions = {},
): Promise<StoreResult> {
  const firsts = new Map<string, Prepared>();
  const unstorable: DeadLetter[] = [];
  for (const event of events) {
    if (firsts.has(event.idempotencyKey)) continue;
    const ts = isoTimestamp(event.timestamp);
    const dataJson = JSON.stringify(event.data ?? {});
    const reason = unstorableReason(event, dataJson);
    if (reason === undefined) {
      firsts.set(event.idempotencyKey, { ts, event, dataJson });
      continue;
    }
    unstorable.push({
      origin: options.origin ?? 'http',
      idempotencyKey: event.idempotencyKey.replaceAll('\u0000', ''),
      reasonCode: UNSTORABLE_CODE,
      reason,
      payload: Buffer.from(dataJson),
    });
  }

  let stored = 0;
  if (firsts.size > 0) {
    const candidates = [...firsts.values()].sort((a, b) =>
      compare(a.event.idempotencyKey, b.event.idempotencyKey),
    );
    await ensurePartitions(client, distinctSorted(candidates.map((p) => p.ts.slice(0, 10))));
    const fresh = await claimKeys(
      client,
      candidates.map((p) => p.event.idempotencyKey),
      candidates.map((p) => p.ts),
    );
    const rows =
      fresh.size === candidates.length
        ? candidates
        : candidates.filter((p) => fresh.has(p.event.idempotencyKey));
    if (rows.length > 0) {
      const method = options.method ?? 'auto';
      const useCopy =
        method === 'copy' ||
        (method === 'auto' &&
          !options.embedded &&
          rows.length >= (options.copyThreshold ?? DEFAULT_COPY_THRESHOLD));
      if (useCopy) await copyRawEvents(client, copyChunks(rows));
      else await insertRawEventsJson(client, rowsJson(rows));
      await touchHours(client, distinctSorted(rows.map((p) => p.ts.slice(0, 13) + ':00:00Z')));
    }
    stored = rows.length;
  }
  await insertDeadLetters(client, unstorable.length === 0 ? rejections : [...rejections, ...unstorable]);
  return {
    stored,
    duplicates: events.length - unstorable.length - stored,
    rejected: rejections.length + unstorable.length,
    unstorable,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function distinctSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

function* copyChunks(rows: readonly Prepared[]): Generator<string> {
  let chunk = '';
  for (const { ts, event, dataJson } of rows) {
    chunk += copyLine({
      ts,
      eventType: event.eventType,
      source: event.source,
      idempotencyKey: event.idempotencyKey,
      metricNames: event.metricNames,
      metricValues: event.metricValues,
      dimensionNames: event.dimensionNames,
      dimensionValues: event.dimensionValues,
      dataJson,
    });
    if (chunk.length >= COPY_CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

function rowsJson(rows: readonly Prepared[]): string {
  const parts = rows.map(({ ts, event, dataJson }) => {
    const row = {
      ts,
      event_type: event.eventType,
      source: event.source,
      idempotency_key: event.idempotencyKey,
      metric_names: event.metricNames,
      metric_values: event.metricValues,
      dimension_names: event.dimensionNames,
      dimension_values: event.dimensionValues,
    };
    // data is spliced in as its already-serialised JSON instead of being stringified twice.
    return JSON.stringify(row).slice(0, -1) + ',"data":' + dataJson + '}';
  });
  return '[' + parts.join(',') + ']';
}
