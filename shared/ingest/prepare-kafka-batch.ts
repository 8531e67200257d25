// One fetched Kafka batch → its rows and dead letters, ready for the transaction that stores them. All
// the per-record CPU work of pull ingestion (decode, validate, render) happens here, once per batch and
// outside the transaction, so a retried transaction does not redo it.
import { normalizePlainEvent } from '../events/normalize-plain.ts';
import { batchContext, kafkaRecordKey, kafkaRecordNormalizer, type NormalizeSettings } from './normalize.ts';
import { RowPreparer, type PreparedRows, type RowFormat } from './prepare-rows.ts';
import type { DeadLetter } from './types.ts';

/** The parts of a kafkajs message that ingestion reads. */
export interface RecordInput {
  offset: string;
  timestamp: string | undefined;
  value: Buffer | null;
}

export interface KafkaBatchInput {
  topic: string;
  partition: number;
  messages: readonly RecordInput[];
}

export interface PreparedKafkaBatch {
  prepared: PreparedRows;
  /** Records refused by the event contract. */
  letters: DeadLetter[];
}

/**
 * Records prepared between two turns of the event loop (see prepareKafkaBatch): about half a millisecond
 * of work, so a transaction's next statement waits at most that long. At 256 (~2.5 ms) the 1M-event
 * benchmark ingested ~10 % fewer events per second; 32 and 16 were no faster than 64.
 */
const RECORDS_PER_TURN = 64;

/**
 * The batch's rows and dead letters, prepared in slices of `recordsPerTurn` records with a turn of the event
 * loop between them. A batch of thousands of records is tens of milliseconds of CPU; done in one piece it
 * would keep the answers of the transactions in flight waiting, and PostgreSQL idle, for all that time.
 */
export async function prepareKafkaBatch(
  batch: KafkaBatchInput,
  settings: NormalizeSettings,
  format: RowFormat,
  recordsPerTurn = RECORDS_PER_TURN,
): Promise<PreparedKafkaBatch> {
  const preparing = kafkaBatchPreparer(batch, settings, format);
  for (let from = 0; from < batch.messages.length; from += recordsPerTurn) {
    if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    preparing.add(from, Math.min(batch.messages.length, from + recordsPerTurn));
  }
  return preparing.done();
}

function kafkaBatchPreparer(batch: KafkaBatchInput, settings: NormalizeSettings, format: RowFormat) {
  const context = batchContext(settings);
  const normalize = kafkaRecordNormalizer(settings, context);
  const { topic, partition } = batch;
  const rows = new RowPreparer(format, 'kafka');
  const letters: DeadLetter[] = [];
  const add = (from: number, to: number): void => {
    for (let m = from; m < to; m++) {
      const message = batch.messages[m] as RecordInput;
      // Most records are plain JSON of valid events: their row is cut from the text without a parse tree.
      // Its key is the event's id when it has one, else the record's coordinates.
      const plain = message.value ? normalizePlainEvent(message.value, context) : undefined;
      if (plain) {
        const { offset } = message;
        const fallbackKey = plain.id === undefined ? kafkaRecordKey(topic, partition, offset) : undefined;
        rows.addPlain(fallbackKey, { topic, partition, offset }, plain);
        continue;
      }
      const result = normalize({
        topic,
        partition,
        offset: message.offset,
        timestamp: message.timestamp,
        value: message.value,
      });
      if (result.ok) rows.add(result.event);
      else letters.push(result.letter);
    }
  };
  return { add, done: (): PreparedKafkaBatch => ({ prepared: rows.done(), letters }) };
}

/** The part of a prepared batch at or after `from`: what an earlier commit already covered is dropped. */
export function fromOffset(batch: PreparedKafkaBatch, from: bigint): PreparedKafkaBatch {
  const keep = (offset: string | number | undefined) => offset === undefined || BigInt(offset) >= from;
  const { rows } = batch.prepared;
  return {
    prepared: {
      ...batch.prepared,
      rows: rows.filter((i) => keep(rows.kafka(i)?.offset)),
      repeats: batch.prepared.repeats.filter((r) => keep(r.kafka?.offset)),
      unstorable: batch.prepared.unstorable.filter((l) => keep(l.offset)),
      // Rendered again from what is left, by the store.
      keyClaims: undefined,
    },
    letters: batch.letters.filter((l) => keep(l.offset)),
  };
}
