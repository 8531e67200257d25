// Events → their raw_events rows, before any database work: the first of each idempotency key wins, every
// row is rendered once (a binary COPY row or a json_to_recordset object) and events PostgreSQL
// cannot hold become dead letters. Pure and synchronous (see RowPreparer): only the rendered rows live on
// through the transaction's round trips.
import type { ErrorCode } from '../errors/index.ts';
import { ID_PREFIX, idKey } from '../events/index.ts';
import type { CostInference } from '../events/normalize.ts';
import type { PlainNormalizedEvent } from '../events/normalize-plain.ts';
import { CopyBuffer, type RowIndex } from './copy-buffer.ts';
import { KeyClaimTuples } from './key-claim-tuples.ts';
import { appendRawRow, readRawRow } from './raw-row-binary.ts';
import { unstorableReason } from './storable.ts';
import type { DeadLetter, IngestEvent, KafkaRecordRef } from './types.ts';

export const UNSTORABLE_CODE = 'INGEST_UNSTORABLE_TEXT' satisfies ErrorCode;

export interface PreparedRow {
  idempotencyKey: string;
  /** The event's own id: claimed by its key in event_keys, whichever path the event came by. */
  id: string | undefined;
  /** The Kafka record of the event, claimed by its offset (and by its id when it has one). */
  kafka: KafkaRecordRef | undefined;
  /**
   * The event's time in epoch milliseconds: it names the daily partition and the hour. A number, not the
   * ISO text: a row waits through its batch's transaction, and a string cut from the record's text would
   * keep the whole text alive (and copied by every young-generation GC) all that time.
   */
  timestampMs: number;
  /** False when the timestamp is a fallback (the Kafka record's time, the receive time), not the event's own. */
  ownTimestamp: boolean;
  /** Format 'copy': the number of the row's COPY row in PreparedRows.copyRows. */
  copyRow: RowIndex | undefined;
  /** Format 'json': the row as a JSON object for json_to_recordset. */
  json: string | undefined;
  /** What the price table did for the event (shared/pricing); undefined: nothing. */
  cost?: CostInference | undefined;
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

/** How rows reach raw_events: binary COPY rows, or JSON objects for one json_to_recordset INSERT. */
export type RowFormat = 'copy' | 'json';

export interface PreparedRows {
  /** One per distinct idempotency key, in arrival order. */
  rows: PreparedRow[];
  /** Format 'copy': the rows as binary COPY rows, in the order of `rows`; undefined for format 'json'. */
  copyRows: CopyBuffer | undefined;
  /** Events dropped as an earlier event of the batch had their key. */
  repeats: RepeatedRow[];
  /** Events PostgreSQL cannot store, as dead letters. */
  unstorable: DeadLetter[];
  /** The rows claimed by key in event_keys (see claimedByKey), in arrival order. */
  keyed: PreparedRow[];
  /**
   * Format 'copy': `keyed` as binary COPY rows of event_keys (key, ts), rendered with the rows — as bytes,
   * like them: kept as strings through the batch's wait they were copied by every young-generation GC
   * (~0.7 µs of Node CPU per event more).
   */
  keyLines: KeyClaimTuples | undefined;
}

/**
 * An event with an id, or one that is no Kafka record, is claimed by its key in event_keys; a Kafka record
 * without an id only by its offset (every Kafka record is claimed by offset too, see store.ts).
 */
export function claimedByKey(row: PreparedRow): boolean {
  return row.id !== undefined || row.kafka === undefined;
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

/** The json_to_recordset fields of an event normalised as text, but for its timestamp and data. */
function plainJsonFields(
  idempotencyKey: string,
  event: PlainNormalizedEvent,
): Omit<IngestEvent, 'timestamp' | 'data'> {
  return {
    idempotencyKey,
    eventType: event.eventType,
    source: event.source,
    metricNames: event.metricNames,
    metricValues: event.metricTexts.map(Number),
    dimensionNames: event.dimensionNames,
    dimensionValues: event.dimensionValues,
  };
}

/**
 * Renders events one at a time as they are added, so a caller that normalises and adds in one loop keeps no
 * parsed event alive past its own turn (a batch held whole would be copied by every young-generation GC).
 */
export class RowPreparer {
  private readonly seen = new Set<string>();
  private readonly rows: PreparedRow[] = [];
  private readonly repeats: RepeatedRow[] = [];
  private readonly unstorable: DeadLetter[] = [];
  private readonly copyRows: CopyBuffer | undefined;
  /** Format 'copy': the event_keys COPY rows of the rows claimed by key, as they arrive. */
  private readonly keyLines: KeyClaimTuples | undefined;

  constructor(
    format: RowFormat,
    private readonly origin: DeadLetter['origin'],
  ) {
    this.copyRows = format === 'copy' ? new CopyBuffer() : undefined;
    this.keyLines = format === 'copy' ? new KeyClaimTuples() : undefined;
  }

  /** True the first time a key is seen; a later event with it is a repeat. */
  private isFirst(idempotencyKey: string): boolean {
    // One hash lookup, not has() then add().
    const before = this.seen.size;
    return this.seen.add(idempotencyKey).size > before;
  }

  /** A repeat keeps its content only when it has an id (rendered only then: repeats are rare). */
  private repeat(row: Omit<RepeatedRow, 'content'>, content: () => string): void {
    this.repeats.push({ ...row, content: row.id === undefined ? undefined : content() });
  }

  private keep(row: PreparedRow): void {
    this.rows.push(row);
    if (this.keyLines && claimedByKey(row)) this.keyLines.append(row.idempotencyKey, row.timestampMs);
  }

  add(event: IngestEvent): void {
    const instant = new Date(event.timestamp);
    const ts = instant.toISOString();
    const ownTimestamp = (event.timestampSource ?? 'event') === 'event';
    if (!this.isFirst(event.idempotencyKey)) {
      const { idempotencyKey, id, kafka } = event;
      this.repeat({ idempotencyKey, id, kafka }, () =>
        contentText(
          event.eventType,
          event.source,
          ownTimestamp ? ts : null,
          JSON.stringify(event.data ?? {}),
        ),
      );
      return;
    }
    const dataJson = JSON.stringify(event.data ?? {});
    const reason = unstorableReason(event, dataJson);
    if (reason === undefined) {
      const timestampMs = instant.getTime();
      this.keep({
        idempotencyKey: event.idempotencyKey,
        id: event.id,
        kafka: event.kafka,
        timestampMs,
        ownTimestamp,
        copyRow: this.copyRows && appendRawRow(this.copyRows, { ...event, timestampMs, dataJson }),
        json: this.copyRows ? undefined : jsonText(ts, event, dataJson),
        cost: event.cost,
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
   * add() for an event normalised as text (shared/events/normalize-plain.ts): its row is put together
   * from the pieces as they stand, and none of them can hold anything PostgreSQL refuses. `fallbackKey`
   * is the key of an event without an id, and only such an event needs one (so that a batch of events
   * with ids makes no other keys).
   */
  addPlain(
    fallbackKey: string | undefined,
    kafka: KafkaRecordRef | undefined,
    event: PlainNormalizedEvent,
  ): void {
    const idempotencyKey = event.id === undefined ? fallbackKey : idKey(event.id);
    if (idempotencyKey === undefined)
      throw new Error('addPlain: an event without an id needs its fallback key');
    const ts = event.isoTimestamp;
    if (!this.isFirst(idempotencyKey)) {
      const { id } = event;
      this.repeat({ idempotencyKey, id, kafka }, () =>
        contentText(event.eventType, event.source, ts, event.dataJson),
      );
      return;
    }
    // The id cut from the kept key rather than the record's text (which it would keep alive, see timestampMs):
    // hashing the key in isFirst made it a string of its own.
    const id = event.id === undefined ? undefined : idempotencyKey.slice(ID_PREFIX.length);
    const copyRow =
      this.copyRows &&
      appendRawRow(this.copyRows, {
        timestampMs: event.timestampMs,
        eventType: event.eventType,
        source: event.source,
        idempotencyKey,
        metricNames: event.metricNames,
        metricValues: event.metricTexts,
        dimensionNames: event.dimensionNames,
        dimensionValues: event.dimensionValues,
        dataJson: event.dataJson,
      });
    const json = this.copyRows
      ? undefined
      : jsonText(ts, plainJsonFields(idempotencyKey, event), event.dataJson);
    this.keep({
      idempotencyKey,
      id,
      kafka,
      timestampMs: event.timestampMs,
      ownTimestamp: true,
      copyRow,
      json,
      cost: event.cost,
    });
  }

  done(): PreparedRows {
    const { rows, copyRows, repeats, unstorable } = this;
    // Usually every row (events with ids) or none (Kafka records without): no copy then.
    const keyed = rows.every(claimedByKey) ? rows : rows.filter(claimedByKey);
    return { rows, copyRows, repeats, unstorable, keyed, keyLines: this.keyLines };
  }
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

/** The content of a prepared row, as RepeatedRow.content: read back from its COPY row or JSON object. */
export function rowContent(copyRows: CopyBuffer | undefined, row: PreparedRow): string {
  if (copyRows && row.copyRow !== undefined) {
    const stored = readRawRow(copyRows.bytes(row.copyRow));
    return contentText(
      stored.eventType,
      stored.source,
      row.ownTimestamp ? new Date(stored.timestampMs).toISOString() : null,
      stored.dataJson,
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
