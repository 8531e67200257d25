// DDSketch-style mergeable quantile sketch: counts per (sign, key) bin plus the exact count, min and max.
// The state is exactly what PostgreSQL stores as rows (sign smallint, key int, count bigint), and merging is
// summing counts per (sign, key), so a sketch merged in SQL equals one merged here.
import { isValidBin, keyValue, sketchKey, type SketchSign } from './mapping.ts';

export interface SketchBin {
  sign: SketchSign;
  key: number;
  count: number;
}

function assertCount(count: number, what: string): void {
  if (!Number.isSafeInteger(count) || count <= 0) {
    throw new RangeError(`${what} must be a positive safe integer; got ${String(count)}`);
  }
}

/** Value order: negatives by descending key, then the zero bin, then positives by ascending key. */
function compareBins(a: { sign: number; key: number }, b: { sign: number; key: number }): number {
  return a.sign !== b.sign ? a.sign - b.sign : a.sign * (a.key - b.key);
}

export class QuantileSketch {
  // Keyed by `${sign}:${key}`; the entry keeps the parsed pair to avoid re-parsing.
  readonly #bins = new Map<string, SketchBin>();
  #count = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;

  /** Total number of values added (including merged ones). */
  get count(): number {
    return this.#count;
  }

  /** Exact smallest value, undefined while empty. */
  get min(): number | undefined {
    return this.#count === 0 ? undefined : this.#min;
  }

  /** Exact largest value, undefined while empty. */
  get max(): number | undefined {
    return this.#count === 0 ? undefined : this.#max;
  }

  /** Adds a finite value `count` times. Throws RangeError for non-finite values or a bad count. */
  add(x: number, count = 1): this {
    assertCount(count, 'count');
    const { sign, key } = sketchKey(x);
    this.#addBin(sign, key, count);
    if (x < this.#min) this.#min = x;
    if (x > this.#max) this.#max = x;
    return this;
  }

  /** Adds every value and bin of `other` into this sketch (other is not modified). */
  merge(other: QuantileSketch): this {
    if (other.count === 0) return this;
    const bins = other.toBins();
    const otherMin = other.#min;
    const otherMax = other.#max;
    for (const bin of bins) this.#addBin(bin.sign, bin.key, bin.count);
    if (otherMin < this.#min) this.#min = otherMin;
    if (otherMax > this.#max) this.#max = otherMax;
    return this;
  }

  /**
   * Estimate of the q-quantile (0 <= q <= 1), undefined while empty, defined like PostgreSQL's
   * percentile_cont: rank = q·(n − 1) (0-based), and the estimate interpolates linearly between the
   * representatives of the bins holding the sorted values at floor(rank) and floor(rank) + 1, then is clamped
   * to [min, max]. Each representative is within α of its value, so the estimate is within
   * α·((1 − f)·|lo| + f·|hi|) of percentile_cont (f the fraction of rank; values below MIN_INDEXABLE in
   * magnitude count as 0) — on sparse tails too, where the neighbours are far apart.
   */
  quantile(q: number): number | undefined {
    if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
      throw new RangeError(`quantile must be a number between 0 and 1; got ${String(q)}`);
    }
    if (this.#count === 0) return undefined;
    const bins = this.toBins();
    const estimate = sortedBinsQuantile(
      bins.map((b) => b.sign),
      bins.map((b) => b.key),
      bins.map((b) => b.count),
      this.#count,
      q,
    );
    return Math.min(this.#max, Math.max(this.#min, estimate));
  }

  /** The bins in value order (negatives by descending key, zero, positives by ascending key). */
  toBins(): SketchBin[] {
    return [...this.#bins.values()].map((b) => ({ ...b })).sort(compareBins);
  }

  /**
   * Rebuilds a sketch from stored bins (duplicates are summed, which is the merge) and the exact min/max.
   * PostgreSQL bigint counts arrive from `pg` as strings: convert them with Number() first.
   */
  static fromBins(
    bins: Iterable<{ sign: number; key: number; count: number }>,
    min?: number,
    max?: number,
  ): QuantileSketch {
    const sketch = new QuantileSketch();
    for (const bin of bins) {
      if (!isValidBin(bin.sign, bin.key)) {
        throw new RangeError(
          `not a sketch bin: sign ${String(bin.sign)}, key ${String(bin.key)}; expected sign -1 or 1 with an ` +
            `integer key from sketchKey(), or sign 0 with key 0`,
        );
      }
      assertCount(bin.count, `count of bin (${bin.sign}, ${bin.key})`);
      sketch.#addBin(bin.sign, bin.key, bin.count);
    }
    if (sketch.#count === 0) return sketch;
    if (
      typeof min !== 'number' ||
      typeof max !== 'number' ||
      !Number.isFinite(min) ||
      !Number.isFinite(max)
    ) {
      throw new RangeError(`a non-empty sketch needs finite min and max; got min ${min}, max ${max}`);
    }
    if (min > max) throw new RangeError(`sketch min ${min} is greater than max ${max}`);
    sketch.#min = min;
    sketch.#max = max;
    return sketch;
  }

  #addBin(sign: SketchSign, key: number, count: number): void {
    const id = `${sign}:${key}`;
    const bin = this.#bins.get(id);
    if (bin) bin.count += count;
    else this.#bins.set(id, { sign, key, count });
    this.#count += count;
    if (!Number.isSafeInteger(this.#count)) {
      throw new RangeError(`sketch count ${this.#count} exceeds Number.MAX_SAFE_INTEGER`);
    }
  }
}

/** The position of the bin holding the sorted value at 0-based `index` (index < the counts' total). */
function binHolding(counts: readonly number[], index: number): number {
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    cumulative += counts[i] as number;
    if (cumulative > index) return i;
  }
  return counts.length - 1;
}

/**
 * An estimate clamped to the exact [min, max], as PostgreSQL's least(greatest(x, min), max) does for stored
 * state: a bound replaces the estimate only when strictly beyond it, so of 0 and -0 the estimate stays —
 * where Math.max(-0, 0) is 0 and Math.min(-0, 0) is -0. (QuantileSketch.quantile keeps Math's clamp: a
 * sketch of constant -0 answers -0.)
 */
export function clampedToRange(x: number, min: number, max: number): number {
  let value = x;
  if (min > value) value = min;
  if (max < value) value = max;
  return value;
}

/**
 * The q-quantile of bins in value order given as parallel arrays (as sqlBinArrays stores them; `total` the sum
 * of counts, > 0), unclamped: the same float8 as sqlSortedBinQuantiles computes in SQL, operation for
 * operation (rank q·(n − 1), the bins holding its two neighbours, interpolate()).
 */
export function sortedBinsQuantile(
  signs: readonly number[],
  keys: readonly number[],
  counts: readonly number[],
  total: number,
  q: number,
): number {
  const rank = q * (total - 1);
  const below = Math.floor(rank);
  const lower = binHolding(counts, below);
  const upper = below + 1 < total ? binHolding(counts, below + 1) : lower;
  const low = keyValue(signs[lower] as number, keys[lower] as number);
  return interpolate(low, keyValue(signs[upper] as number, keys[upper] as number), rank - below);
}

/**
 * percentile_cont's interpolation between the two neighbours of the rank, written as a weighted sum so that
 * neighbours of opposite sign near the float8 limits cannot overflow (high − low could); the SQL quantile
 * query computes exactly this expression, in this order, so both give the same float8.
 */
export function interpolate(low: number, high: number, fraction: number): number {
  return (1 - fraction) * low + fraction * high;
}
