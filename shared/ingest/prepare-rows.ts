// Events → the text of their raw_events rows, before any database work: every row is rendered once (a COPY
// line or a json_to_recordset object), events PostgreSQL cannot hold become dead letters, and the first of
// each idempotency key wins. Pure and synchronous (see RowPreparer): only the rendered rows live on
// through the transaction's round trips.
import type { ErrorCode } from '../errors/index.ts';
import { idKey } from '../events/index.ts';
import type { PlainNormalizedEvent } from '../events/normalize-plain.ts';
import { CopyBuffer, type LineRange } from './copy-buffer.ts';
import { copyFields, copyLine, copyText, plainCopyLine } from './copy-text.ts';
import { mayBeUnstorable, unstorableReason } from './storable.ts';
import type { DeadLetter, IngestEvent, KafkaRecordRef } from './types.ts';

export const UNSTORABLE_CODE = 'INGEST_UNSTORABLE_TEXT' satisfies ErrorCode;

export interface PreparedRow {
  idempotencyKey: string;
  /** The event's own id: claimed by its key in event_keys, whichever path the event came by. */
  id: string | undefined;
  /** The Kafka record of the event, claimed by its offset (and by its id when it has one). */
  kafka: KafkaRecordRef | undefined;
  /** UTC ISO-8601; its first 10 characters name the daily partition, its first 13 the hour. */
  ts: string;
  /** False when `ts` is a fallback (the Kafka record's time, the receive time), not the event's own. */
  ownTimestamp: boolean;
  /** Format 'copy': where the row's COPY line lies in PreparedRows.lines. */
  line: LineRange | undefined;
  /** Format 'json': the row as a JSON object for json_to_recordset. */
  json: string | undefined;
}

/** An event dropped because an earlier event of the batch had its key. */
export interface RepeatedRow {
  idempotencyKey: string;
  id: string | undefined;
  kafka: KafkaRecordRef | undefined;
  /**
   * Events with an id only, whose content is compared with the kept one's: the event as a JSON object of
   * event_type, source, ts (null when not its own) and data — see rowContent() for rows.
   */
  content: string | undefined;
}

/** How rows reach raw_events: COPY lines, or JSON objects for one json_to_recordset INSERT. */
export type RowFormat = 'copy' | 'json';

export interface PreparedRows {
  /** One per distinct idempotency key (its first arrival), in key order (see firstOfEachKey). */
  rows: PreparedRow[];
  /**
   * Format 'copy': the COPY lines of every event rendered, repeats included, in arrival order (a row's
   * `line` says where its own is); undefined for format 'json'.
   */
  lines: CopyBuffer | undefined;
  /** Events dropped as an earlier event of the batch had their key. */
  repeats: RepeatedRow[];
  /** Events PostgreSQL cannot store, as dead letters. */
  unstorable: DeadLetter[];
  /** The rows claimed by key in event_keys (see claimedByKey), in the rows' key order. */
  keyed: PreparedRow[];
  /** Format 'copy': `keyed` as COPY lines of event_keys (key, ts), rendered with the rows. */
  keyLines: CopyBuffer | undefined;
}

/**
 * An event with an id, or one that is no Kafka record, is claimed by its key in event_keys; a Kafka record
 * without an id only by its offset (every Kafka record is claimed by offset too, see store.ts).
 */
export function claimedByKey(row: PreparedRow): boolean {
  return row.id !== undefined || row.kafka === undefined;
}

/** COPY lines of event_keys (idempotency_key, ts) for `keyed`, as bytes (see copy-buffer.ts). */
export function keyClaimLines(keyed: readonly PreparedRow[]): CopyBuffer {
  const lines = new CopyBuffer();
  for (const row of keyed) lines.append(copyText(row.idempotencyKey) + '\t' + row.ts + '\n');
  return lines;
}

function isoTimestamp(value: Date | string | number): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function copyLineOf(ts: string, event: IngestEvent, dataJson: string): string {
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

function jsonText(ts: string, event: Omit<IngestEvent, 'timestamp' | 'data'>, dataJson: string): string {
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

/** What is compared between two arrivals of one id (see RepeatedRow.content). */
export function contentText(eventType: string, source: string, ts: string | null, dataJson: string): string {
  return JSON.stringify({ event_type: eventType, source, ts }).slice(0, -1) + ',"data":' + dataJson + '}';
}

/**
 * Renders events one at a time as they are added, so a caller that normalises and adds in one loop keeps no
 * parsed event alive past its own turn (a batch held whole would be copied by every young-generation GC).
 */
export class RowPreparer {
  private readonly rows: PreparedRow[] = [];
  private readonly unstorable: DeadLetter[] = [];
  private readonly lines: CopyBuffer | undefined;

  constructor(
    format: RowFormat,
    private readonly origin: DeadLetter['origin'],
  ) {
    this.lines = format === 'copy' ? new CopyBuffer() : undefined;
  }

  add(event: IngestEvent): void {
    const ts = isoTimestamp(event.timestamp);
    const ownTimestamp = (event.timestampSource ?? 'event') === 'event';
    const dataJson = JSON.stringify(event.data ?? {});
    const text = this.lines ? copyLineOf(ts, event, dataJson) : jsonText(ts, event, dataJson);
    // A COPY line shows cheaply that nothing is wrong; JSON text escapes too much to tell.
    const reason = !this.lines || mayBeUnstorable(text) ? unstorableReason(event, dataJson) : undefined;
    if (reason === undefined) {
      this.rows.push({
        idempotencyKey: event.idempotencyKey,
        id: event.id,
        kafka: event.kafka,
        ts,
        ownTimestamp,
        line: this.lines?.append(text),
        json: this.lines ? undefined : text,
      });
      return;
    }
    this.unstorable.push({
      origin: this.origin,
      idempotencyKey: event.idempotencyKey.replaceAll('\u0000', ''),
      reasonCode: UNSTORABLE_CODE,
      reason,
      payload: Buffer.from(dataJson),
      topic: event.kafka?.topic,
      partition: event.kafka?.partition,
      offset: event.kafka?.offset,
    });
  }

  /**
   * add() for an event normalised as text (shared/events/normalize-plain.ts): its line is put together
   * from the pieces as they stand, and none of them can hold anything PostgreSQL refuses. `fallbackKey`
   * is the key of an event without an id.
   */
  addPlain(fallbackKey: string, kafka: KafkaRecordRef | undefined, event: PlainNormalizedEvent): void {
    const { id } = event;
    const idempotencyKey = id === undefined ? fallbackKey : idKey(id);
    const ts = event.isoTimestamp;
    if (this.lines) {
      const line = this.lines.append(plainCopyLine(idempotencyKey, event));
      this.rows.push({ idempotencyKey, id, kafka, ts, ownTimestamp: true, line, json: undefined });
      return;
    }
    const fields = {
      idempotencyKey,
      eventType: event.eventType,
      source: event.source,
      metricNames: event.metricNames,
      metricValues: event.metricTexts.map(Number),
      dimensionNames: event.dimensionNames,
      dimensionValues: event.dimensionValues,
    };
    this.rows.push({
      idempotencyKey,
      id,
      kafka,
      ts,
      ownTimestamp: true,
      line: undefined,
      json: jsonText(ts, fields, event.dataJson),
    });
  }

  /**
   * The batch, with what needs all of it worked out here, before any transaction: the repeats of a key
   * dropped (the first in arrival order stays) and the key claims put in their one order and rendered.
   */
  done(): PreparedRows {
    const { lines, unstorable } = this;
    const { rows, repeats } = firstOfEachKey(this.rows, lines);
    // Usually every row (events with ids) or none (Kafka records without): no copy then.
    const keyed = rows.every(claimedByKey) ? rows : rows.filter(claimedByKey);
    return { rows, lines, repeats, unstorable, keyed, keyLines: lines ? keyClaimLines(keyed) : undefined };
  }
}

/** FNV-1a over the UTF-16 code units: a cheap, fixed order for keys (any fixed total order would do). */
function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Row indexes fit below this in a packed sort entry (hash · 2^21 + index stays an exact double). */
const INDEX_LIMIT = 2 ** 21;

/**
 * The rows in key order with the repeats of a key taken out. The order is the key's hash (equal hashes in
 * arrival order): every claimer takes its keys' locks in it, so two batches sharing keys wait for each other
 * but do not deadlock (but for two shared keys of one hash arriving in opposite orders, which PostgreSQL
 * detects and the retry of the transaction resolves), and a key's repeats lie right behind its first
 * arrival. One native sort of packed numbers (hash · 2^21 + arrival index) instead of a string sort and a
 * set: this runs for every ingested event.
 */
function firstOfEachKey(
  arrived: PreparedRow[],
  lines: CopyBuffer | undefined,
): { rows: PreparedRow[]; repeats: RepeatedRow[] } {
  const n = arrived.length;
  if (n >= INDEX_LIMIT) throw new RangeError(`a batch holds at most ${INDEX_LIMIT - 1} events; got ${n}`);
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++)
    packed[i] = keyHash((arrived[i] as PreparedRow).idempotencyKey) * INDEX_LIMIT + i;
  packed.sort();
  const rows: PreparedRow[] = new Array<PreparedRow>(n);
  const repeats: RepeatedRow[] = [];
  let kept = 0;
  // The start, in `rows`, of the current run of one hash (usually one row long).
  let runStart = 0;
  let runHash = -1;
  for (let i = 0; i < n; i++) {
    const entry = packed[i] as number;
    const hash = Math.floor(entry / INDEX_LIMIT);
    const row = arrived[entry - hash * INDEX_LIMIT] as PreparedRow;
    if (hash !== runHash) {
      runHash = hash;
      runStart = kept;
    } else if (isRepeat(rows, runStart, kept, row.idempotencyKey)) {
      repeats.push({
        idempotencyKey: row.idempotencyKey,
        id: row.id,
        kafka: row.kafka,
        content: row.id === undefined ? undefined : rowContent(lines, row),
      });
      continue;
    }
    rows[kept++] = row;
  }
  rows.length = kept;
  return { rows, repeats };
}

function isRepeat(rows: readonly PreparedRow[], from: number, to: number, key: string): boolean {
  for (let j = from; j < to; j++) if ((rows[j] as PreparedRow).idempotencyKey === key) return true;
  return false;
}

export function prepareRows(
  events: readonly IngestEvent[],
  format: RowFormat,
  origin: DeadLetter['origin'],
): PreparedRows {
  const preparer = new RowPreparer(format, origin);
  for (const event of events) preparer.add(event);
  return preparer.done();
}

/** The content of a prepared row, as RepeatedRow.content: read back from its COPY line or JSON object. */
export function rowContent(lines: CopyBuffer | undefined, row: PreparedRow): string {
  if (lines && row.line) {
    const [ts, eventType, source, , , , , , dataJson] = copyFields(lines.text(row.line));
    return contentText(
      eventType ?? '',
      source ?? '',
      row.ownTimestamp ? (ts ?? null) : null,
      dataJson ?? '{}',
    );
  }
  const object = JSON.parse(row.json ?? '{}') as {
    ts: string;
    event_type: string;
    source: string;
    data: unknown;
  };
  return contentText(
    object.event_type,
    object.source,
    row.ownTimestamp ? object.ts : null,
    JSON.stringify(object.data ?? {}),
  );
}
