// COPY lines packed into a few large Buffers as they are rendered. A batch's lines wait through the
// transaction's round trips before they are sent; as strings they would be copied by every young-generation
// GC on the way and converted to bytes at the socket anyway. Here they are bytes at once, off the JS heap.

const CHUNK_BYTES = 256 * 1024;
/** UTF-8 takes at most three bytes per UTF-16 code unit. */
export const MAX_BYTES_PER_UNIT = 3;

/** A line's number in its CopyBuffer, counted from 0 in the order appended. */
export type LineIndex = number;

const INITIAL_LINES = 1024;

export class CopyBuffer {
  private readonly full: Buffer[] = [];
  private current: Buffer = Buffer.alloc(0);
  private used = 0;
  /**
   * Where each line lies (chunk, start and end byte), in typed arrays: a batch's rows wait through its
   * transaction, and an object per line would be copied by every young-generation GC meanwhile.
   */
  private chunkOf = new Int32Array(INITIAL_LINES);
  private startOf = new Int32Array(INITIAL_LINES);
  private endOf = new Int32Array(INITIAL_LINES);
  /** Lines appended. */
  count = 0;

  /** Appends one line (its text, newline included) and returns its number. */
  append(line: string): LineIndex {
    const buffer = this.reserve(line.length * MAX_BYTES_PER_UNIT);
    const start = this.used;
    this.commit(start + buffer.write(line, start, 'utf8'));
    return this.count - 1;
  }

  /**
   * For writers of bytes rather than text: makes room for `maxBytes` at the end of the current chunk and
   * returns that chunk; write from `end`, then commit() where the writing ended.
   */
  reserve(maxBytes: number): Buffer {
    if (this.current.length - this.used < maxBytes) {
      if (this.used > 0) this.full.push(this.current.subarray(0, this.used));
      this.current = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, maxBytes));
      this.used = 0;
    }
    return this.current;
  }

  /** Where the next line starts in the chunk reserve() returned. */
  get end(): number {
    return this.used;
  }

  /** Ends a line written into the reserved chunk from `end` up to `lineEnd` (exclusive). */
  commit(lineEnd: number): void {
    const line = this.count;
    if (line === this.endOf.length) this.grow();
    this.chunkOf[line] = this.full.length;
    this.startOf[line] = this.used;
    this.endOf[line] = lineEnd;
    this.used = lineEnd;
    this.count += 1;
  }

  private grow(): void {
    const size = this.endOf.length * 2;
    const larger = (from: Int32Array): Int32Array<ArrayBuffer> => {
      const to = new Int32Array(size);
      to.set(from);
      return to;
    };
    this.chunkOf = larger(this.chunkOf);
    this.startOf = larger(this.startOf);
    this.endOf = larger(this.endOf);
  }

  private bytesOf(line: LineIndex): Buffer {
    if (!(line >= 0 && line < this.count)) throw new RangeError(`CopyBuffer: no line ${line}`);
    const chunk = this.chunkOf[line] as number;
    const buffer = chunk === this.full.length ? this.current : (this.full[chunk] as Buffer);
    return buffer.subarray(this.startOf[line], this.endOf[line]);
  }

  /** One line as text (for the rare look back at a row, e.g. a duplicate's content). */
  text(line: LineIndex): string {
    return this.bytesOf(line).toString('utf8');
  }

  /** Every line, in order. */
  chunks(): Buffer[] {
    return this.used > 0 ? [...this.full, this.current.subarray(0, this.used)] : [...this.full];
  }

  /** Only the given lines (in the order given), copied into fresh chunks. */
  select(lines: readonly LineIndex[]): Buffer[] {
    const out: Buffer[] = [];
    let parts: Buffer[] = [];
    let size = 0;
    for (const line of lines) {
      const bytes = this.bytesOf(line);
      parts.push(bytes);
      size += bytes.length;
      if (size >= CHUNK_BYTES) {
        out.push(Buffer.concat(parts, size));
        parts = [];
        size = 0;
      }
    }
    if (size > 0) out.push(Buffer.concat(parts, size));
    return out;
  }
}
