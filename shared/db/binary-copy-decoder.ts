// PostgreSQL's binary COPY format, read incrementally: chunks as the server sends them in, whole tuples out.
// A tuple is an int16 field count (-1 ends the data) and per field an int32 length (-1 = NULL) and that
// many bytes; the stream starts with an 11-byte signature, int32 flags and an int32-sized extension.
// Each tuple is handed over as (buffer, fields) where fields holds [start, length] per field; the buffer
// stays valid after the call, so a consumer may keep subarrays of it. The format's constants and field
// readers are in shared/db/binary-copy.ts.
import { SIGNATURE } from './binary-copy.ts';

/** Bytes of a new chunk first joined to an unfinished unit: most tuples of a range are far smaller. */
const JOIN_STEP = 4096;

export type TupleHandler = (buffer: Buffer, fields: Int32Array) => void;

export class BinaryCopyDecoder {
  readonly #onTuple: TupleHandler;
  readonly #fields: Int32Array;
  readonly #fieldCount: number;
  #rest: Buffer | undefined;
  #headerDone = false;
  #ended = false;
  tuples = 0;

  constructor(fieldCount: number, onTuple: TupleHandler) {
    this.#fieldCount = fieldCount;
    this.#fields = new Int32Array(fieldCount * 2);
    this.#onTuple = onTuple;
  }

  push(chunk: Buffer): void {
    const rest = this.#rest;
    if (rest === undefined) {
      this.#keep(chunk, this.#consume(chunk, 0, chunk.length));
      return;
    }
    // What the last chunk left is the start of one unit (the header, a tuple or the trailer): complete it with
    // as few of this chunk's bytes as it needs — joining the whole chunk to it copied every byte of the COPY
    // once more — then go on in the chunk itself. Nothing is handed over until the unit is whole, so a retry
    // with more bytes repeats nothing.
    this.#rest = undefined;
    let take = Math.min(chunk.length, Math.max(JOIN_STEP, rest.length));
    for (;;) {
      const joined = Buffer.concat([rest, chunk.subarray(0, take)]);
      const at = this.#consume(joined, 0, rest.length);
      if (at >= rest.length) {
        this.#keep(chunk, this.#consume(chunk, at - rest.length, chunk.length));
        return;
      }
      if (take === chunk.length) {
        this.#rest = joined;
        return;
      }
      take = Math.min(chunk.length, take * 2);
    }
  }

  /** Keeps buffer[at..] (an unfinished unit, or bytes after the trailer) for the next chunk, as a copy. */
  #keep(buffer: Buffer, at: number): void {
    this.#rest = at < buffer.length ? Buffer.from(buffer.subarray(at)) : undefined;
  }

  /**
   * Reads the header (once) and whole tuples from `at` while they start before `until`; returns where it
   * stopped: at an unfinished unit, after the trailer, or at the first unit starting at or after `until`.
   */
  #consume(buffer: Buffer, at: number, until: number): number {
    if (!this.#headerDone) {
      const size = headerSize(buffer.subarray(at));
      if (size === undefined) return at;
      at += size;
      this.#headerDone = true;
    }
    const fields = this.#fields;
    while (!this.#ended && at < until && at + 2 <= buffer.length) {
      const count = buffer.readInt16BE(at);
      if (count === -1) {
        this.#ended = true;
        return at + 2;
      }
      if (count !== this.#fieldCount) {
        throw new Error(`binary COPY: a tuple has ${count} fields, expected ${this.#fieldCount}`);
      }
      let next = at + 2;
      for (let f = 0; f < count; f++) {
        if (next + 4 > buffer.length) return at;
        const length = buffer.readInt32BE(next);
        fields[2 * f] = next + 4;
        fields[2 * f + 1] = length;
        next += 4 + (length > 0 ? length : 0);
        if (next > buffer.length) return at;
      }
      this.#onTuple(buffer, fields);
      this.tuples += 1;
      at = next;
    }
    return at;
  }

  /** Throws unless the data ended with the trailer and nothing after it. */
  finish(): void {
    if (!this.#ended || (this.#rest !== undefined && this.#rest.length > 0)) {
      throw new Error(
        `binary COPY: the data ended ${this.#ended ? 'with bytes after the trailer' : 'without its trailer'} after ${this.tuples} tuples`,
      );
    }
  }
}

function headerSize(buffer: Buffer): number | undefined {
  if (buffer.length < SIGNATURE.length + 8) return undefined;
  if (!buffer.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    throw new Error('binary COPY: the data does not start with the PGCOPY signature');
  }
  const extension = buffer.readInt32BE(SIGNATURE.length + 4);
  const size = SIGNATURE.length + 8 + extension;
  return buffer.length >= size ? size : undefined;
}
