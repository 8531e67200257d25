// COPY lines packed into a few large Buffers as they are rendered. A batch's lines wait through the
// transaction's round trips before they are sent; as strings they would be copied by every young-generation
// GC on the way and converted to bytes at the socket anyway. Here they are bytes at once, off the JS heap.

const CHUNK_BYTES = 256 * 1024;
/** UTF-8 takes at most three bytes per UTF-16 code unit. */
const MAX_BYTES_PER_UNIT = 3;

/** Where one line lies: chunk index and byte range. */
export interface LineRange {
  chunk: number;
  start: number;
  end: number;
}

export class CopyBuffer {
  private readonly full: Buffer[] = [];
  private current: Buffer = Buffer.alloc(0);
  private used = 0;
  /** Lines appended. */
  count = 0;

  append(line: string): LineRange {
    const buffer = this.reserve(line.length * MAX_BYTES_PER_UNIT);
    const start = this.used;
    this.commit(start + buffer.write(line, start, 'utf8'));
    return { chunk: this.full.length, start, end: this.used };
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

  /** Ends a line written into the reserved chunk at `end` (exclusive). */
  commit(end: number): void {
    this.used = end;
    this.count += 1;
  }

  /** One line as text (for the rare look back at a row, e.g. a duplicate's content). */
  text({ chunk, start, end }: LineRange): string {
    const buffer = chunk === this.full.length ? this.current : this.full[chunk];
    return (buffer as Buffer).toString('utf8', start, end);
  }

  /** Every line, in order. */
  chunks(): Buffer[] {
    return this.used > 0 ? [...this.full, this.current.subarray(0, this.used)] : [...this.full];
  }

  /** Only the given lines (in the order given), copied into fresh chunks. */
  select(ranges: readonly LineRange[]): Buffer[] {
    const all = this.chunks();
    const out: Buffer[] = [];
    let parts: Buffer[] = [];
    let size = 0;
    for (const { chunk, start, end } of ranges) {
      parts.push((all[chunk] as Buffer).subarray(start, end));
      size += end - start;
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
