// A row group of raw_events in columns, as the Parquet writer takes them: timestamps as epoch microseconds,
// text as UTF-8 bytes (PostgreSQL's own, never decoded and re-encoded), arrays as arrays.
//
// Low-cardinality values (event types, sources, metric and dimension names, whole name arrays) are interned:
// every occurrence is the same object. That keeps a row group to three fresh objects per row (the key, the
// data and the metric values), and lets the writer's dictionary encoding find repeats by identity.

export interface RawColumns {
  length: number;
  /** Holds the bytes of the keys and data; handed back with releaseColumns once the group is written. */
  arena: Arena | undefined;
  /** Epoch microseconds (exact below 2^53, i.e. until the year 2255). */
  ts: Float64Array;
  eventType: Uint8Array[];
  source: Uint8Array[];
  idempotencyKey: Uint8Array[];
  metricNames: Uint8Array[][];
  metricValues: number[][];
  dimensionNames: Uint8Array[][];
  dimensionValues: Uint8Array[][];
  /** The jsonb value as JSON text. */
  data: Uint8Array[];
  ingestedAt: Float64Array;
}

/** An empty group with room for `capacity` rows. */
export function emptyColumns(capacity: number, arena?: Arena): RawColumns {
  return {
    length: 0,
    arena,
    ts: new Float64Array(capacity),
    eventType: [],
    source: [],
    idempotencyKey: [],
    metricNames: [],
    metricValues: [],
    dimensionNames: [],
    dimensionValues: [],
    data: [],
    ingestedAt: new Float64Array(capacity),
  };
}

export const EMPTY_LIST: never[] = Object.freeze([]) as unknown as never[];

const SLAB_BYTES = 4 * 2 ** 20;

/**
 * Where a group keeps the bytes of its per-row values (keys, data) instead of pointing into the buffers the
 * database sent them in. Pointing in would hold every network chunk of the group — and, until V8 gets round
 * to collecting them, every chunk before it: on a 1M-row day that was 100+ MB of buffers. Copied here, the
 * chunks die young, and the slabs go back to a pool when the group has been written.
 */
export class Arena {
  readonly #pool: Buffer[];
  readonly #slabs: Buffer[] = [];
  #slab: Buffer | undefined;
  #used = 0;

  constructor(pool: Buffer[]) {
    this.#pool = pool;
  }

  /** A copy of buffer[start, end) that lives as long as the arena. */
  copy(buffer: Buffer, start: number, end: number): Uint8Array {
    const size = end - start;
    if (size > SLAB_BYTES) return Uint8Array.prototype.slice.call(buffer, start, end);
    if (this.#slab === undefined || this.#used + size > SLAB_BYTES) {
      this.#slab = this.#pool.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.#slabs.push(this.#slab);
      this.#used = 0;
    }
    buffer.copy(this.#slab, this.#used, start, end);
    const out = this.#slab.subarray(this.#used, this.#used + size);
    this.#used += size;
    return out;
  }

  /** Hands the slabs back; nothing copied into them may be used afterwards. */
  release(): void {
    this.#pool.push(...this.#slabs);
    this.#slabs.length = 0;
    this.#slab = undefined;
  }
}

/** Returns a written group's memory for the next groups. */
export function releaseColumns(group: RawColumns): void {
  group.arena?.release();
}

// Past this many distinct values a column is not low-cardinality after all; its values are then kept as
// they come instead of filling the table.
const MAX_INTERNED = 50_000;
const utf8 = new TextDecoder();

/** Interns byte strings and the arrays made of them; also remembers their text for the statistics. */
export class Interner {
  // keyed by the bytes read as latin1 (binary path) or by the decoded text (cursor path): kept apart, as
  // one string may be both the latin1 reading of some bytes and the text of others
  readonly #bytes = new Map<string, Uint8Array>();
  readonly #arrays = new Map<string, Uint8Array[]>();
  readonly #strings = new Map<string, Uint8Array>();
  readonly #stringArrays = new Map<string, Uint8Array[]>();
  readonly #text = new WeakMap<Uint8Array, string>();

  /** The one Uint8Array holding buffer[start, end). */
  bytes(buffer: Buffer, start: number, end: number): Uint8Array {
    // latin1 maps every byte to one character: a cheap exact key for the bytes
    const key = buffer.toString('latin1', start, end);
    let value = this.#bytes.get(key);
    if (value === undefined) {
      value = Uint8Array.prototype.slice.call(buffer, start, end);
      if (this.#bytes.size < MAX_INTERNED) this.#bytes.set(key, value);
    }
    return value;
  }

  /** The one array for the encoded array buffer[start, end), built by `build` the first time. */
  array(buffer: Buffer, start: number, end: number, build: () => Uint8Array[]): Uint8Array[] {
    const key = buffer.toString('latin1', start, end);
    let value = this.#arrays.get(key);
    if (value === undefined) {
      value = build();
      if (this.#arrays.size < MAX_INTERNED) this.#arrays.set(key, value);
    }
    return value;
  }

  /** The string a byte value spells, decoded once per interned value. */
  text(value: Uint8Array): string {
    let text = this.#text.get(value);
    if (text === undefined) {
      text = utf8.decode(value);
      this.#text.set(value, text);
    }
    return text;
  }

  /** Interns a string (the cursor path, whose driver already decoded the text). */
  string(value: string): Uint8Array {
    let bytes = this.#strings.get(value);
    if (bytes === undefined) {
      bytes = Buffer.from(value, 'utf8');
      if (this.#strings.size < MAX_INTERNED) this.#strings.set(value, bytes);
    }
    return bytes;
  }

  /** Interns an array of strings (the cursor path). */
  strings(values: readonly string[]): Uint8Array[] {
    if (values.length === 0) return EMPTY_LIST;
    const key = JSON.stringify(values);
    let array = this.#stringArrays.get(key);
    if (array === undefined) {
      array = values.map((v) => this.string(v));
      if (this.#stringArrays.size < MAX_INTERNED) this.#stringArrays.set(key, array);
    }
    return array;
  }
}
