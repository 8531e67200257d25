// Binary COPY rows packed into a few large Buffers as they are written (raw-row-binary.ts,
// key-claim-tuples.ts). A batch's rows wait through the transaction's round trips before they are sent;
// as JS values they would be copied by every young-generation GC on the way and turned into bytes at the
// socket anyway. Here they are bytes at once, off the JS heap.
import { widened } from './typed-array.ts';

const CHUNK_BYTES = 256 * 1024;

/** A row's number in its CopyBuffer, counted from 0 in the order written. */
export type RowIndex = number;

const INITIAL_ROWS = 1024;

// Chunks of stored batches, for the next batches to write into (recycle). Each batch otherwise allocates and
// frees ~10 chunks; malloc does not hand that churn back, and the 1M-event benchmark's ingester peaked at
// 223–253 MiB without the pool and at 220 MiB in every run with it. 64 chunks (16 MiB) cover the batches in
// flight (DEFAULT_BATCHES_IN_FLIGHT, pull.ts) and the one being prepared.
const POOL_LIMIT = 64;
const pool: Buffer[] = [];

function newChunk(bytes: number): Buffer {
  if (bytes <= CHUNK_BYTES) return pool.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
  return Buffer.allocUnsafe(bytes);
}

export class CopyBuffer {
  private readonly full: Buffer[] = [];
  private current: Buffer = Buffer.alloc(0);
  private used = 0;
  /** The chunks of CHUNK_BYTES this buffer took, which recycle() gives back. */
  private readonly owned: Buffer[] = [];
  /**
   * Where each row lies (chunk, start and end byte), in typed arrays: a batch's rows wait through its
   * transaction, and an object per row would be copied by every young-generation GC meanwhile.
   */
  private chunkOf = new Int32Array(INITIAL_ROWS);
  private startOf = new Int32Array(INITIAL_ROWS);
  private endOf = new Int32Array(INITIAL_ROWS);
  /** Rows written. */
  count = 0;

  /**
   * Makes room for `maxBytes` at the end of the current chunk and returns that chunk; write the row from
   * `end`, then commit() where the writing ended.
   */
  reserve(maxBytes: number): Buffer {
    if (this.current.length - this.used < maxBytes) {
      if (this.used > 0) this.full.push(this.current.subarray(0, this.used));
      this.current = newChunk(maxBytes);
      if (this.current.length === CHUNK_BYTES) this.owned.push(this.current);
      this.used = 0;
    }
    return this.current;
  }

  /**
   * Gives the chunks to the buffers made next. Only once nothing reads this buffer again, nor any view it
   * handed out (chunks(), bytes()): after the transaction that sent its rows has committed, when PostgreSQL
   * has received every byte.
   */
  recycle(): void {
    for (const chunk of this.owned) if (pool.length < POOL_LIMIT) pool.push(chunk);
    this.owned.length = 0;
  }

  /** Where the next row starts in the chunk reserve() returned. */
  get end(): number {
    return this.used;
  }

  /** Ends a row written into the reserved chunk from `end` up to `rowEnd` (exclusive); returns its number. */
  commit(rowEnd: number): RowIndex {
    const row = this.count;
    if (row === this.endOf.length) this.grow();
    this.chunkOf[row] = this.full.length;
    this.startOf[row] = this.used;
    this.endOf[row] = rowEnd;
    this.used = rowEnd;
    this.count += 1;
    return row;
  }

  private grow(): void {
    const size = this.endOf.length * 2;
    this.chunkOf = widened(this.chunkOf, size);
    this.startOf = widened(this.startOf, size);
    this.endOf = widened(this.endOf, size);
  }

  /** The chunk holding a row: with rowStart, a look at every row without making a view of each. */
  rowChunk(row: RowIndex): Buffer {
    if (!(row >= 0 && row < this.count)) throw new RangeError(`CopyBuffer: no row ${row}`);
    const chunk = this.chunkOf[row] as number;
    return chunk === this.full.length ? this.current : (this.full[chunk] as Buffer);
  }

  /** Where a row starts in its rowChunk. */
  rowStart(row: RowIndex): number {
    return this.startOf[row] as number;
  }

  /** One row's bytes (a view, for the rare look back at a row, e.g. a duplicate's content). */
  bytes(row: RowIndex): Buffer {
    return this.rowChunk(row).subarray(this.startOf[row], this.endOf[row]);
  }

  /** Every row, in order. */
  chunks(): Buffer[] {
    return this.used > 0 ? [...this.full, this.current.subarray(0, this.used)] : [...this.full];
  }

  /** Only the given rows (in the order given), copied into fresh chunks. */
  select(rows: readonly RowIndex[]): Buffer[] {
    const out: Buffer[] = [];
    let parts: Buffer[] = [];
    let size = 0;
    for (const row of rows) {
      const bytes = this.bytes(row);
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
