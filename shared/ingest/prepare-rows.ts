// Events → their raw_events rows, before any database work: the first of each idempotency key wins, every
// row is rendered once (a binary COPY row or a json_to_recordset object) and events PostgreSQL
// cannot hold become dead letters. Pure and synchronous (see RowPreparer): only the rendered rows live on
// through the transaction's round trips.
import type { ErrorCode } from '../errors/index.ts';
import { idKey } from '../events/index.ts';
import type { PlainNormalizedEvent } from '../events/normalize-plain.ts';
import { PartialTuples } from '../aggregate/partial-tuples.ts';
import { BatchPartials, PartialColumnRows, type BatchPartialsResult } from '../aggregate/partials.ts';
import { CopyBuffer } from './copy-buffer.ts';
import { KeptRows, type PreparedRow } from './kept-rows.ts';
import { KeyClaimTuples } from './key-claim-tuples.ts';
import { appendRawRow, readRawRow, type RawRow } from './raw-row-binary.ts';
import { httpLetterKey, kafkaRecordKey } from './normalize.ts';
import { unstorableReason } from './storable.ts';
import type { DeadLetter, IngestEvent, KafkaRecordRef } from './types.ts';

export const UNSTORABLE_CODE = 'INGEST_UNSTORABLE_TEXT' satisfies ErrorCode;

export type { PreparedRow } from './kept-rows.ts';

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
  rows: KeptRows;
  /** Format 'copy': the rows as binary COPY rows (see KeptRows.copyRow); undefined for format 'json'. */
  copyRows: CopyBuffer | undefined;
  /** Events dropped as an earlier event of the batch had their key. */
  repeats: RepeatedRow[];
  /** Events PostgreSQL cannot store, as dead letters. */
  unstorable: DeadLetter[];
  /**
   * Format 'copy': the rows claimed by key (KeptRows.claimedByKey) as binary COPY rows of event_keys
   * (key, ts), rendered with the rows — as bytes, like them: kept as strings through the batch's wait they
   * were copied by every young-generation GC (~0.7 µs of Node CPU per event more).
   */
  keyClaims: KeyClaimTuples | undefined;
  /**
   * Every row as a binary COPY row: `copyRows` itself in format 'copy'; in format 'json' rendered for the
   * partials alone (small batches, PGlite). KeptRows.copyRow indexes it in both.
   */
  tuples: CopyBuffer;
  /**
   * The partial hourly state of all the rows (shared/aggregate/partials.ts), added up as they were rendered and
   * put in rows when the batch was prepared, outside the transaction that writes it: binary COPY tuples in
   * format 'copy', columns for one INSERT in format 'json' (partialRowsFor).
   */
  partials: BatchPartialsResult<PartialColumnRows | PartialTuples>;
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
  private readonly rows = new KeptRows();
  private readonly repeats: RepeatedRow[] = [];
  private readonly unstorable: DeadLetter[] = [];
  private readonly copyRows: CopyBuffer | undefined;
  private readonly tuples: CopyBuffer;
  private readonly partials = new BatchPartials();
  /** Format 'copy': the event_keys COPY rows of the rows claimed by key, as they arrive. */
  private readonly keyClaims: KeyClaimTuples | undefined;

  constructor(
    format: RowFormat,
    private readonly origin: DeadLetter['origin'],
  ) {
    this.copyRows = format === 'copy' ? new CopyBuffer() : undefined;
    this.tuples = this.copyRows ?? new CopyBuffer();
    this.keyClaims = format === 'copy' ? new KeyClaimTuples() : undefined;
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

  /** Renders a row's COPY row and adds it to the partials (before keep(): the row's number is its index). */
  private render(row: RawRow): void {
    this.partials.addRow(row.timestampMs, this.tuples, appendRawRow(this.tuples, row));
  }

  private keep(row: PreparedRow): void {
    const i = this.rows.add(row);
    if (this.keyClaims && this.rows.claimedByKey(i))
      this.keyClaims.append(row.idempotencyKey, row.timestampMs);
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
    if (event.id !== undefined && event.idempotencyKey !== idKey(event.id)) {
      // KeptRows keeps that an event has an id and cuts the id from its key.
      throw new Error(`RowPreparer: the key of an event with id "${event.id}" is not ${idKey('<id>')}`);
    }
    const dataJson = JSON.stringify(event.data ?? {});
    const reason = unstorableReason(event, dataJson);
    if (reason === undefined) {
      const timestampMs = instant.getTime();
      this.render({ ...event, timestampMs, dataJson });
      this.keep({
        idempotencyKey: event.idempotencyKey,
        id: event.id,
        kafka: event.kafka,
        timestampMs,
        ownTimestamp,
        json: this.copyRows ? undefined : jsonText(ts, event, dataJson),
        cost: event.cost,
      });
      return;
    }
    // Not kept, so its key is free again: a later event with it is not a repeat of a row that does not exist
    // (a valid resend after a bad one would otherwise be counted a duplicate and lost).
    this.seen.delete(event.idempotencyKey);
    const payload = event.original?.() ?? Buffer.from(dataJson);
    const { kafka } = event;
    this.unstorable.push({
      origin: this.origin,
      // keyed like any refused record — by its Kafka position, else its bytes — not by the event's id: two
      // different bad events with one id are two dead letters, and a redelivered one is still one
      idempotencyKey: kafka
        ? kafkaRecordKey(kafka.topic, kafka.partition, kafka.offset)
        : httpLetterKey(payload),
      eventKey: event.idempotencyKey,
      reasonCode: UNSTORABLE_CODE,
      reason,
      payload,
      topic: kafka?.topic,
      partition: kafka?.partition,
      offset: kafka?.offset,
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
    // The key, not the id: KeptRows keeps only the key, which hashing it in isFirst made a string of its
    // own — the id is cut from the record's text, which it would keep alive through the transaction.
    this.render({
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
      id: event.id,
      kafka,
      timestampMs: event.timestampMs,
      ownTimestamp: true,
      json,
      cost: event.cost,
    });
  }

  done(): PreparedRows {
    const { rows, copyRows, repeats, unstorable, keyClaims, tuples } = this;
    const partials = this.partials.result(partialRowsFor(copyRows));
    return { rows, copyRows, repeats, unstorable, keyClaims, tuples, partials };
  }
}

/** Where a batch's partial rows go: COPY tuples beside copied raw rows, else the columns of one INSERT. */
export function partialRowsFor(copyRows: CopyBuffer | undefined): PartialColumnRows | PartialTuples {
  return copyRows ? new PartialTuples() : new PartialColumnRows();
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

/** The content of kept row i, as RepeatedRow.content: read back from its COPY row or JSON object. */
export function rowContent({ rows, copyRows }: PreparedRows, i: number): string {
  if (copyRows) {
    const stored = readRawRow(copyRows.bytes(rows.copyRow(i)));
    return contentText(
      stored.eventType,
      stored.source,
      rows.ownTimestamp(i) ? new Date(stored.timestampMs).toISOString() : null,
      stored.dataJson,
    );
  }
  const object = JSON.parse(rows.json(i) ?? '{}') as {
    ts: string;
    event_type: string;
    source: string;
    data: unknown;
  };
  return contentText(
    object.event_type,
    object.source,
    rows.ownTimestamp(i) ? object.ts : null,
    JSON.stringify(object.data ?? {}),
  );
}
