// PostgreSQL's binary COPY format, read incrementally: chunks as the server sends them in, whole tuples out.
// A tuple is an int16 field count (-1 ends the data) and per field an int32 length (-1 = NULL) and that
// many bytes; the stream starts with an 11-byte signature, int32 flags and an int32-sized extension.
// Each tuple is handed over as (buffer, fields) where fields holds [start, length] per field; the buffer
// stays valid after the call, so a consumer may keep subarrays of it. The format's constants and field
// readers are in shared/db/binary-copy.ts.
import { SIGNATURE } from './binary-copy.ts';

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
    const buffer = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    let at = 0;
    if (!this.#headerDone) {
      const size = headerSize(buffer);
      if (size === undefined) {
        this.#rest = buffer;
        return;
      }
      at = size;
      this.#headerDone = true;
    }
    const fields = this.#fields;
    while (!this.#ended && at + 2 <= buffer.length) {
      const count = buffer.readInt16BE(at);
      if (count === -1) {
        this.#ended = true;
        at += 2;
        break;
      }
      if (count !== this.#fieldCount) {
        throw new Error(`binary COPY: a tuple has ${count} fields, expected ${this.#fieldCount}`);
      }
      let next = at + 2;
      let whole = true;
      for (let f = 0; f < count; f++) {
        if (next + 4 > buffer.length) {
          whole = false;
          break;
        }
        const length = buffer.readInt32BE(next);
        fields[2 * f] = next + 4;
        fields[2 * f + 1] = length;
        next += 4 + (length > 0 ? length : 0);
        if (next > buffer.length) {
          whole = false;
          break;
        }
      }
      if (!whole) break;
      this.#onTuple(buffer, fields);
      this.tuples += 1;
      at = next;
    }
    // the unfinished tuple waits for the next chunk; copying it keeps the finished ones' buffer untouched
    this.#rest = at < buffer.length ? Buffer.from(buffer.subarray(at)) : undefined;
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
