// The rows a batch keeps — one per distinct idempotency key, in arrival order — column by column. A pull
// batch's rows wait through its transaction, and as an object each (with its id, Kafka coordinates and a
// boxed timestamp beside the key) they were copied by every young-generation GC on the way and then marked
// in the old generation: ~270 bytes per row in flight. Here a row is its key, its record's offset text and
// a few typed-array slots; row() puts the object together for the rare look at one.
import { ID_PREFIX } from '../events/index.ts';
import type { CostInference } from '../events/normalize.ts';
import type { RowIndex } from './copy-buffer.ts';
import { widened } from './typed-array.ts';
import type { KafkaRecordRef } from './types.ts';

/** One kept row, as add() takes it and row() gives it back. */
export interface PreparedRow {
  /**
   * `id:<id>` when the event has an id — KeptRows keeps only that it has one, and cuts the id from the key —
   * else its Kafka coordinates or content hash.
   */
  idempotencyKey: string;
  /** The event's own id: claimed by its key in event_keys, whichever path the event came by. */
  id: string | undefined;
  /** The Kafka record of the event, claimed by its offset (and by its id when it has one). */
  kafka: KafkaRecordRef | undefined;
  /** The event's time in epoch milliseconds: it names the daily partition and the hour. */
  timestampMs: number;
  /** False when the timestamp is a fallback (the Kafka record's time, the receive time), not the event's own. */
  ownTimestamp: boolean;
  /** Format 'json': the row as a JSON object for json_to_recordset. */
  json?: string | undefined;
  /** What the price table did for the event (shared/pricing); undefined: nothing. */
  cost?: CostInference | undefined;
}

const HAS_ID = 1;
const OWN_TIMESTAMP = 2;
const COST_INFERRED = 4;
const COST_UNPRICED = 8;
/** partitionOf of a row that is no Kafka record. */
const NO_RECORD = -1;
const INITIAL_ROWS = 1024;

export class KeptRows {
  /** Rows kept. */
  count = 0;
  private readonly keys: string[] = [];
  /** The records' offsets as kafkajs gives them ('' where no Kafka record). */
  private readonly offsets: string[] = [];
  /** Format 'json' only. */
  private readonly jsons: string[] = [];
  private timestamps = new Float64Array(INITIAL_ROWS);
  private flags = new Uint8Array(INITIAL_ROWS);
  /** An index into `partitions`, or NO_RECORD. */
  private partitionOf = new Int32Array(INITIAL_ROWS);
  /** The distinct (topic, partition) of the rows; usually one. */
  private readonly partitions: { topic: string; partition: number }[] = [];
  /** Set on a selection: the row's number in the batch's CopyBuffer. Else row i is copy row i. */
  private copyRowOf: Int32Array | undefined;

  /** Appends a row and returns its number. */
  add(row: PreparedRow): number {
    const i = this.count;
    if (i === this.timestamps.length) this.grow();
    this.keys.push(row.idempotencyKey);
    this.offsets.push(row.kafka === undefined ? '' : row.kafka.offset);
    if (row.json !== undefined) this.jsons[i] = row.json;
    this.timestamps[i] = row.timestampMs;
    this.flags[i] =
      (row.id === undefined ? 0 : HAS_ID) |
      (row.ownTimestamp ? OWN_TIMESTAMP : 0) |
      (row.cost === 'inferred' ? COST_INFERRED : row.cost === 'unpriced' ? COST_UNPRICED : 0);
    this.partitionOf[i] = row.kafka === undefined ? NO_RECORD : this.partitionIndex(row.kafka);
    this.count = i + 1;
    return i;
  }

  private partitionIndex({ topic, partition }: KafkaRecordRef): number {
    const last = this.partitions.length - 1;
    const known = this.partitions[last];
    if (known?.topic === topic && known.partition === partition) return last;
    const at = this.partitions.findIndex((p) => p.topic === topic && p.partition === partition);
    return at >= 0 ? at : this.partitions.push({ topic, partition }) - 1;
  }

  private grow(): void {
    const size = this.timestamps.length * 2;
    this.timestamps = widened(this.timestamps, size);
    this.flags = widened(this.flags, size);
    this.partitionOf = widened(this.partitionOf, size);
  }

  key(i: number): string {
    return this.keys[i] as string;
  }

  id(i: number): string | undefined {
    return ((this.flags[i] as number) & HAS_ID) !== 0 ? this.key(i).slice(ID_PREFIX.length) : undefined;
  }

  timestampMs(i: number): number {
    return this.timestamps[i] as number;
  }

  ownTimestamp(i: number): boolean {
    return ((this.flags[i] as number) & OWN_TIMESTAMP) !== 0;
  }

  cost(i: number): CostInference | undefined {
    const flags = this.flags[i] as number;
    return flags & COST_INFERRED ? 'inferred' : flags & COST_UNPRICED ? 'unpriced' : undefined;
  }

  json(i: number): string | undefined {
    return this.jsons[i];
  }

  /** The row's number in the batch's CopyBuffer (format 'copy'). */
  copyRow(i: number): RowIndex {
    return this.copyRowOf ? (this.copyRowOf[i] as number) : i;
  }

  /** The row's Kafka record, or undefined. */
  kafka(i: number): KafkaRecordRef | undefined {
    const at = this.partitionOf[i] as number;
    if (at === NO_RECORD) return undefined;
    const { topic, partition } = this.partitions[at] as { topic: string; partition: number };
    return { topic, partition, offset: this.offsets[i] as string };
  }

  /**
   * An event with an id, or one that is no Kafka record, is claimed by its key in event_keys; a Kafka record
   * without an id only by its offset (every Kafka record is claimed by offset too, see store.ts).
   */
  claimedByKey(i: number): boolean {
    return ((this.flags[i] as number) & HAS_ID) !== 0 || this.partitionOf[i] === NO_RECORD;
  }

  /** The offsets of the Kafka records among the rows, by partition, in the order of `topic:partition`. */
  offsetsByPartition(): { topic: string; partition: number; rows: number[]; offsets: string[] }[] {
    const groups = this.partitions.map((p) => ({ ...p, rows: [] as number[], offsets: [] as string[] }));
    for (let i = 0; i < this.count; i++) {
      const group = groups[this.partitionOf[i] as number];
      if (group === undefined) continue;
      group.rows.push(i);
      group.offsets.push(this.offsets[i] as string);
    }
    const name = (g: { topic: string; partition: number }) => `${g.topic}:${g.partition}`;
    return groups
      .filter((g) => g.rows.length > 0)
      .sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  }

  /** Row i as an object. */
  row(i: number): PreparedRow {
    const cost = this.cost(i);
    const json = this.json(i);
    return {
      idempotencyKey: this.key(i),
      id: this.id(i),
      kafka: this.kafka(i),
      timestampMs: this.timestampMs(i),
      ownTimestamp: this.ownTimestamp(i),
      ...(json === undefined ? {} : { json }),
      ...(cost === undefined ? {} : { cost }),
    };
  }

  /** Every row as an object (for tests and the rare look at all). */
  all(): PreparedRow[] {
    return Array.from({ length: this.count }, (_, i) => this.row(i));
  }

  /** The rows where `keep` holds, in order, each still knowing its copy row. */
  filter(keep: (i: number) => boolean): KeptRows {
    const out = new KeptRows();
    const copyRowOf: number[] = [];
    for (let i = 0; i < this.count; i++) {
      if (!keep(i)) continue;
      out.add(this.row(i));
      copyRowOf.push(this.copyRow(i));
    }
    out.copyRowOf = Int32Array.from(copyRowOf);
    return out;
  }
}
