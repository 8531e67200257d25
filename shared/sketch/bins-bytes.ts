// A sketch's bins as one bytea (aggregate_partials.bins): per bin, ascending, the distance from the previous
// bin (sketchBin numbers, zigzag, the first from 0) and the count, each an unsigned LEB128 varint. A partial of
// ~75 bins is ~250 bytes sent and read as one value, where three arrays cost PostgreSQL a send and a receive
// call per element.
import type { BinCounts } from './bin-counts.ts';
import { BIN_OFFSET, MAX_KEY, MIN_KEY } from './mapping.ts';

/** Varint bytes of one bin: a zigzag distance below 2^32 needs 5, a count below 2^53 needs 8. */
const MAX_BIN_BYTES = 13;

function putVarint(out: Buffer, at: number, value: number): number {
  // arithmetic, not bit operations: counts may pass 2^31
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/** Where the bytes are written before being copied out; grown when a sketch needs more. */
let scratch = Buffer.allocUnsafe(4096);

/** Writes (bin, count) pairs, bins ascending, into `scratch`; bytes() copies them out. */
class PairWriter {
  private at = 0;
  private previous = 0;

  put(bin: number, count: number): void {
    if (this.at + MAX_BIN_BYTES > scratch.length) {
      const wider = Buffer.allocUnsafe(scratch.length * 2);
      scratch.copy(wider, 0, 0, this.at);
      scratch = wider;
    }
    const delta = bin - this.previous;
    this.previous = bin;
    this.at = putVarint(scratch, this.at, delta >= 0 ? delta * 2 : -delta * 2 - 1);
    this.at = putVarint(scratch, this.at, count);
  }

  bytes(): Buffer {
    return Buffer.from(scratch.subarray(0, this.at));
  }
}

/** The bins of `bins` as bytes (see the file's comment). */
export function encodeBins(bins: BinCounts): Buffer {
  const out = new PairWriter();
  bins.forEachBin((bin, count) => out.put(bin, count));
  return out.bytes();
}

export class BinsBytesError extends Error {
  override readonly name = 'BinsBytesError';
}

/** Calls `f` with each (bin, count) of bytes[start, end) as encodeBins wrote them; BinsBytesError if it did not. */
function decodeBins(
  bytes: Uint8Array,
  start: number,
  end: number,
  f: (bin: number, count: number) => void,
): void {
  let at = start;
  let bin = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (at >= end || scale > 2 ** 56) throw new BinsBytesError('sketch bins: truncated varint');
      const byte = bytes[at++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  };
  while (at < end) {
    const zigzag = varint();
    bin += zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
    const count = varint();
    if (count === 0) throw new BinsBytesError('sketch bins: a bin without a count');
    f(bin, count);
  }
}

/** Slots of BinsMerger's dense counts: every bin there is, zero in the middle. */
const KEY_SPAN = MAX_KEY - MIN_KEY + 1;
const ZERO_SLOT = KEY_SPAN;
let dense: Float64Array | undefined;

const slotOf = (bin: number): number =>
  bin === 0
    ? ZERO_SLOT
    : bin > 0
      ? ZERO_SLOT + 1 + (bin - BIN_OFFSET - MIN_KEY)
      : ZERO_SLOT - 1 - (-bin - BIN_OFFSET - MIN_KEY);
const binOf = (slot: number): number =>
  slot === ZERO_SLOT
    ? 0
    : slot > ZERO_SLOT
      ? slot - ZERO_SLOT - 1 + MIN_KEY + BIN_OFFSET
      : -(ZERO_SLOT - 1 - slot + MIN_KEY + BIN_OFFSET);

/**
 * The bytes of several sketches' bins added together, without a BinCounts for the sum: counts go into one
 * dense array over every bin there is (~570 KiB, made once), which encode() reads back over the slots used and
 * leaves zeroed. A batch's partials add each series up from its base groups so, hundreds of times a batch. The
 * array is shared by every merger of the process: a merge (its adds, then its drain or encode) runs without an
 * await in between, and a failed add leaves the array zeroed.
 */
export class BinsMerger {
  private low = Infinity;
  private high = -Infinity;
  private readonly counts = (dense ??= new Float64Array(2 * KEY_SPAN + 1));
  private readonly put = (bin: number, count: number): void => {
    const slot = slotOf(bin);
    this.counts[slot] = (this.counts[slot] as number) + count;
    if (slot < this.low) this.low = slot;
    if (slot > this.high) this.high = slot;
  };

  add(bins: BinCounts): void {
    bins.forEachUnordered(this.put);
  }

  /**
   * Adds framed encodings: each a 4-byte big-endian length and that many bytes of encodeBins (how the hourly
   * job reads an hour's partials of one series, concatenated by PostgreSQL as one value).
   */
  addFramed(bytes: Buffer): void {
    try {
      for (let at = 0; at < bytes.length;) {
        if (at + 4 > bytes.length) throw new BinsBytesError('sketch bins: truncated frame');
        const end = at + 4 + bytes.readInt32BE(at);
        if (end > bytes.length) throw new BinsBytesError('sketch bins: truncated frame');
        decodeBins(bytes, at + 4, end, this.put);
        at = end;
      }
    } catch (err) {
      // what was added stays in the shared array otherwise, and would join the next merger's sum
      this.counts.fill(0, this.low, this.high + 1);
      this.low = Infinity;
      this.high = -Infinity;
      throw err;
    }
  }

  /** Calls `f` with every bin of the sum, ascending, and leaves the merger empty. */
  drain(f: (bin: number, count: number) => void): void {
    const counts = this.counts;
    for (let slot = this.low; slot <= this.high; slot++) {
      const count = counts[slot] as number;
      if (count === 0) continue;
      counts[slot] = 0;
      f(binOf(slot), count);
    }
    this.low = Infinity;
    this.high = -Infinity;
  }

  /** The sum's bytes (as encodeBins writes them); the merger is empty after. */
  encode(): Buffer {
    const out = new PairWriter();
    this.drain((bin, count) => out.put(bin, count));
    return out.bytes();
  }
}
