// Events → the text of their raw_events rows, before any database work: the first of each idempotency key
// wins, every row is rendered once (a COPY line or a json_to_recordset object) and events PostgreSQL
// cannot hold become dead letters. Pure and synchronous, so a batch's parsed events die young: only
// these strings live on through the transaction's round trips.
import type { ErrorCode } from '../errors/index.ts';
import { copyLine } from './copy-text.ts';
import { mayBeUnstorable, unstorableReason } from './storable.ts';
import type { DeadLetter, IngestEvent, KafkaRecordRef } from './types.ts';

export const UNSTORABLE_CODE = 'INGEST_UNSTORABLE_TEXT' satisfies ErrorCode;

export interface PreparedRow {
  idempotencyKey: string;
  /** Set for Kafka records, which are claimed by offset. */
  kafka: KafkaRecordRef | undefined;
  /** UTC ISO-8601; its first 10 characters name the daily partition, its first 13 the hour. */
  ts: string;
  /** A COPY line (format 'copy') or a JSON object for json_to_recordset (format 'json'). */
  text: string;
}

export interface PreparedRows {
  format: 'copy' | 'json';
  /** One per distinct idempotency key, in arrival order. */
  rows: PreparedRow[];
  /** Events dropped as an earlier event of the batch had their key. */
  repeats: number;
  /** Events PostgreSQL cannot store, as dead letters. */
  unstorable: DeadLetter[];
}

function isoTimestamp(value: Date | string | number): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function copyText(ts: string, event: IngestEvent, dataJson: string): string {
  return copyLine({
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
}

function jsonText(ts: string, event: IngestEvent, dataJson: string): string {
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
}

export function prepareRows(
  events: readonly IngestEvent[],
  format: PreparedRows['format'],
  origin: DeadLetter['origin'],
): PreparedRows {
  const seen = new Set<string>();
  const rows: PreparedRow[] = [];
  const unstorable: DeadLetter[] = [];
  let repeats = 0;
  for (const event of events) {
    if (seen.has(event.idempotencyKey)) {
      repeats++;
      continue;
    }
    seen.add(event.idempotencyKey);
    const ts = isoTimestamp(event.timestamp);
    const dataJson = JSON.stringify(event.data ?? {});
    const text = format === 'copy' ? copyText(ts, event, dataJson) : jsonText(ts, event, dataJson);
    // A COPY line shows cheaply that nothing is wrong; JSON text escapes too much to tell.
    const reason = format === 'json' || mayBeUnstorable(text) ? unstorableReason(event, dataJson) : undefined;
    if (reason === undefined) {
      rows.push({ idempotencyKey: event.idempotencyKey, kafka: event.kafka, ts, text });
      continue;
    }
    unstorable.push({
      origin,
      idempotencyKey: event.idempotencyKey.replaceAll('\u0000', ''),
      reasonCode: UNSTORABLE_CODE,
      reason,
      payload: Buffer.from(dataJson),
      topic: event.kafka?.topic,
      partition: event.kafka?.partition,
      offset: event.kafka?.offset,
    });
  }
  return { format, rows, repeats, unstorable };
}
