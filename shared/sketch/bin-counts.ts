// Counts per sketch bin, for adding up many values fast (shared/aggregate/range-accumulator.ts): the keys of
// each sign in a dense window of counts that grows as keys arrive (a value is one array increment, where a
// hash map cost a lookup and a store), the zero bin apart. One metric's values usually span a few hundred keys
// (1 to 10^4 is ~460); a window never grows past MAX_WINDOW keys, and keys beyond a full window go to a map,
// so a metric spanning the whole float8 range costs no more than 32 KiB here.
import { BIN_OFFSET, binKey, binSign, type SketchSign } from './mapping.ts';

const INITIAL_WINDOW = 32;
const MAX_WINDOW = 4096;
const EMPTY = new Float64Array(0);

/** The counts of one sign's keys. */
class KeyCounts {
  counts = EMPTY;
  low = 0;
  /** Keys outside the window once it stopped growing (MAX_WINDOW): the window and the map never share a key. */
  spill: Map<number, number> | undefined;

  add(key: number, count: number): void {
    const i = key - this.low;
    if (i >= 0 && i < this.counts.length) this.counts[i] = (this.counts[i] as number) + count;
    else if (this.spill === undefined && this.grow(key)) this.counts[key - this.low] = count;
    else this.spill = addTo(this.spill ?? new Map(), key, count);
  }

  /** Widens the window to hold `key`, with room to spare on that side; false when it would pass MAX_WINDOW. */
  private grow(key: number): boolean {
    const old = this.counts;
    if (old.length === 0) {
      this.counts = new Float64Array(INITIAL_WINDOW);
      this.low = key - INITIAL_WINDOW / 2;
      return true;
    }
    const low = Math.min(this.low, key);
    const high = Math.max(this.low + old.length - 1, key);
    if (high - low + 1 > MAX_WINDOW) return false;
    const length = Math.min(MAX_WINDOW, Math.max(2 * old.length, high - low + 1 + INITIAL_WINDOW));
    const newLow = key < this.low ? high - length + 1 : this.low;
    this.counts = new Float64Array(length);
    this.counts.set(old, this.low - newLow);
    this.low = newLow;
    return true;
  }

  merge(other: KeyCounts): void {
    if (this.counts.length === 0 && this.spill === undefined && other.spill === undefined) {
      this.counts = other.counts.slice();
      this.low = other.low;
      return;
    }
    const counts = other.counts;
    let first = 0;
    let last = counts.length - 1;
    while (first <= last && counts[first] === 0) first++;
    while (last >= first && counts[last] === 0) last--;
    if (first <= last) {
      const low = other.low + first;
      const high = other.low + last;
      if (this.spill === undefined && this.holds(low) && this.holds(high)) {
        // the window holds the other's whole range: add index by index, without a call per key
        const offset = other.low - this.low;
        const mine = this.counts;
        for (let i = first; i <= last; i++)
          mine[i + offset] = (mine[i + offset] as number) + (counts[i] as number);
      } else {
        for (let i = first; i <= last; i++) {
          const count = counts[i] as number;
          if (count > 0) this.add(other.low + i, count);
        }
      }
    }
    if (other.spill !== undefined) for (const [key, count] of other.spill) this.add(key, count);
  }

  /** True when `key` is in the window, growing it to hold `key` if it can (never past MAX_WINDOW). */
  private holds(key: number): boolean {
    const i = key - this.low;
    return (i >= 0 && i < this.counts.length) || this.grow(key);
  }

  /** Calls `f` with every key that has a count, ascending. */
  forEachAscending(f: (key: number, count: number) => void): void {
    if (this.spill !== undefined) {
      for (const [key, count] of this.entries()) f(key, count);
      return;
    }
    for (let i = 0; i < this.counts.length; i++) {
      const count = this.counts[i] as number;
      if (count > 0) f(this.low + i, count);
    }
  }

  /** Calls `f` with every key that has a count, descending. */
  forEachDescending(f: (key: number, count: number) => void): void {
    if (this.spill !== undefined) {
      const all = this.entries();
      for (let i = all.length - 1; i >= 0; i--) f(all[i]![0], all[i]![1]);
      return;
    }
    for (let i = this.counts.length - 1; i >= 0; i--) {
      const count = this.counts[i] as number;
      if (count > 0) f(this.low + i, count);
    }
  }

  /** (key, count) of every key with a count, ascending. */
  private entries(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.counts.length; i++) {
      const count = this.counts[i] as number;
      if (count > 0) out.push([this.low + i, count]);
    }
    if (this.spill !== undefined) {
      out.push(...this.spill);
      out.sort((a, b) => a[0] - b[0]);
    }
    return out;
  }
}

function addTo(map: Map<number, number>, key: number, count: number): Map<number, number> {
  map.set(key, (map.get(key) ?? 0) + count);
  return map;
}

/** Values a BinCounts keeps as a plain list of bins before it counts them in windows (see `few`). */
const FEW = 256;

export class BinCounts {
  private zero = 0;
  private readonly positive = new KeyCounts();
  private readonly negative = new KeyCounts();
  /**
   * The bins of the first values, one entry per value, until there are more than FEW: most states of an
   * ingest batch's partials (a few hours of one partition's events) hold a handful of values spread over
   * hundreds of keys, and a window grown to span them cost more than the values (allocation and garbage).
   * Undefined once the values are counted in the windows.
   */
  private few: Int32Array | undefined = new Int32Array(8);
  private fewCount = 0;

  /** Adds `count` values to a bin given as sketchBin gives it. */
  add(bin: number, count = 1): void {
    const few = this.few;
    if (few !== undefined) {
      if (count === 1 && this.fewCount < FEW) {
        if (this.fewCount === few.length) {
          const wider = new Int32Array(few.length * 2);
          wider.set(few);
          this.few = wider;
        }
        this.few![this.fewCount++] = bin;
        return;
      }
      this.countFew();
    }
    this.addToWindows(bin, count);
  }

  private addToWindows(bin: number, count: number): void {
    if (bin > 0) this.positive.add(bin - BIN_OFFSET, count);
    else if (bin < 0) this.negative.add(-bin - BIN_OFFSET, count);
    else this.zero += count;
  }

  /** Moves the listed values into the windows, for good. */
  private countFew(): void {
    const few = this.few;
    if (few === undefined) return;
    this.few = undefined;
    for (let i = 0; i < this.fewCount; i++) this.addToWindows(few[i] as number, 1);
    this.fewCount = 0;
  }

  /** Adds another's counts (the sketch merge). */
  merge(other: BinCounts): void {
    if (other.few !== undefined) {
      for (let i = 0; i < other.fewCount; i++) this.add(other.few[i] as number);
      return;
    }
    this.countFew();
    this.zero += other.zero;
    this.positive.merge(other.positive);
    this.negative.merge(other.negative);
  }

  /** Calls `f` with every bin's count, in no particular order (a bin may come more than once). */
  forEachUnordered(f: (bin: number, count: number) => void): void {
    if (this.few !== undefined) {
      for (let i = 0; i < this.fewCount; i++) f(this.few[i] as number, 1);
      return;
    }
    this.forEachBin(f);
  }

  /** Calls `f` with every bin that has a count, as sketchBin numbers them, ascending (sqlBinArrays' order). */
  forEachBin(f: (bin: number, count: number) => void): void {
    if (this.few !== undefined) {
      const sorted = this.few.slice(0, this.fewCount).sort();
      for (let i = 0; i < sorted.length;) {
        const bin = sorted[i] as number;
        let j = i + 1;
        while (j < sorted.length && sorted[j] === bin) j++;
        f(bin, j - i);
        i = j;
      }
      return;
    }
    this.negative.forEachDescending((key, count) => f(-(BIN_OFFSET + key), count));
    if (this.zero > 0) f(0, this.zero);
    this.positive.forEachAscending((key, count) => f(BIN_OFFSET + key, count));
  }

  /** The bins with a count as parallel arrays, in the order sqlBinArrays stores them (by sign, then sign · key). */
  toArrays(): BinArrays {
    return binArrays((f) => this.forEachBin(f));
  }
}

/** Bins as parallel arrays, in the order sqlBinArrays stores them. */
export interface BinArrays {
  signs: SketchSign[];
  keys: number[];
  counts: number[];
}

/** The bins `each` calls its function with (ascending), as parallel arrays. */
export function binArrays(each: (f: (bin: number, count: number) => void) => void): BinArrays {
  const out: BinArrays = { signs: [], keys: [], counts: [] };
  each((bin, count) => {
    out.signs.push(binSign(bin));
    out.keys.push(binKey(bin));
    out.counts.push(count);
  });
  return out;
}
