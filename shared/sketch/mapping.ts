// The log-bucket mapping shared by the TypeScript sketch and the SQL fragments in ./sql.ts.
//
// A value x with |x| >= MIN_INDEXABLE falls in bucket key(x) = ceil(log_γ |x|), γ = (1 + α) / (1 − α):
// bucket k holds the magnitudes in (γ^(k−1), γ^k]. Its representative 2·γ^k / (γ + 1) is within α of every
// magnitude in the bucket, which is the sketch's relative-error guarantee.
//
// Parity with PostgreSQL. `ln` is not correctly rounded: V8's Math.log and the C library behind
// PostgreSQL's ln() disagree in the last bit for about 0.5% of inputs, so a bare ceil(ln|x| / ln γ) would put
// a value that sits on a bucket boundary into different buckets in SQL and in Node. The key is therefore
// defined without trusting ln near a boundary:
//   key(x) = the smallest k with |x| <= boundary(k),
// where boundary(k) ≈ γ^k is computed only from IEEE-754 multiplications of the constants POSITIVE_POWERS /
// NEGATIVE_POWERS (γ^(±2^i), printed into SQL as exact round-trip literals), bit by bit of |k|, lowest bit
// first. Multiplication is correctly rounded in both engines, so boundary(k) is bit-identical in both.
// The logarithm only locates the candidate: r = ln|x| / ln γ; when r is more than KEY_GUARD from an integer
// (ln's error moves r by < 1e-11, far below the guard) key = ceil(r); otherwise n = round(r) and
// key = |x| <= boundary(n) ? n : n + 1. Either way both engines return the same key for the same float8.

/** Relative accuracy α of every quantile estimate (1%). */
export const RELATIVE_ACCURACY = 0.01;
/** γ = (1 + α) / (1 − α): the ratio between consecutive bucket boundaries. */
export const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
/** ln γ, computed once; SQL uses the same float8 as a literal instead of calling ln() itself. */
export const LN_GAMMA = Math.log(GAMMA);
/** Magnitudes below this (and zero) go to the zero bin: sign 0, key 0, representative 0. */
export const MIN_INDEXABLE = 1e-9;
/** Within this distance of an integer, ln γ-quotients are not trusted and the exact boundary decides. */
export const KEY_GUARD = 1e-7;
/** Multiplier from a bucket's lower boundary to its representative: 2γ / (γ + 1) (= 1 + α). */
export const REPRESENTATIVE_FACTOR = (2 * GAMMA) / (GAMMA + 1);

/** γ^(2^i), i = 0..15: enough bits for every positive key of a finite float8 (MAX_KEY < 2^16). */
export const POSITIVE_POWERS: readonly number[] = Object.freeze(
  Array.from({ length: 16 }, (_, i) => Math.pow(GAMMA, 2 ** i)),
);
/** γ^(−2^i), i = 0..10: enough bits for every negative key down to MIN_KEY − 1 (> −2^11). */
export const NEGATIVE_POWERS: readonly number[] = Object.freeze(
  Array.from({ length: 11 }, (_, i) => Math.pow(GAMMA, -(2 ** i))),
);

/** The sign of a bin: −1 negative values, 0 the zero bin, 1 positive values. */
export type SketchSign = -1 | 0 | 1;

export interface SketchKey {
  sign: SketchSign;
  key: number;
}

/**
 * boundary(k) ≈ γ^k, the upper (inclusive) edge of bucket k, by binary powering of the constant tables.
 * Defined for MIN_KEY − 1 <= k < MAX_KEY (boundary(MAX_KEY) exceeds the float8 range).
 */
export function keyBoundary(key: number): number {
  const table = key < 0 ? NEGATIVE_POWERS : POSITIVE_POWERS;
  const bits = Math.abs(key);
  let acc = 1;
  for (let i = 0; i < table.length; i++) {
    if ((bits & (1 << i)) !== 0) acc *= table[i] as number;
  }
  return acc;
}

function magnitudeKey(magnitude: number): number {
  const r = Math.log(magnitude) / LN_GAMMA;
  const n = Math.round(r);
  const key = Math.abs(r - n) > KEY_GUARD ? Math.ceil(r) : magnitude <= keyBoundary(n) ? n : n + 1;
  return key === 0 ? 0 : key; // no −0
}

/** Key of the smallest indexable magnitude (−1036). */
export const MIN_KEY = magnitudeKey(MIN_INDEXABLE);
/** Key of the largest finite float8 (35488). */
export const MAX_KEY = magnitudeKey(Number.MAX_VALUE);

/** The bin of a finite value. Throws RangeError for NaN and ±Infinity. */
export function sketchKey(x: number): SketchKey {
  if (!Number.isFinite(x)) {
    throw new RangeError(`sketch values must be finite numbers; got ${String(x)}`);
  }
  const magnitude = Math.abs(x);
  if (magnitude < MIN_INDEXABLE) return { sign: 0, key: 0 };
  return { sign: x > 0 ? 1 : -1, key: magnitudeKey(magnitude) };
}

/** sketchBin's offset: |key| < BIN_OFFSET for every key (MIN_KEY, MAX_KEY), so signs never overlap. */
export const BIN_OFFSET = 100_000;

/**
 * The bin of a finite value as one number, sign · (BIN_OFFSET + key) (0 for the zero bin), without allocating:
 * numbers in ascending order are bins in the order of sqlBinArrays (by sign, then sign · key). binSign and
 * binKey take it apart.
 */
export function sketchBin(x: number): number {
  const magnitude = Math.abs(x);
  if (magnitude < MIN_INDEXABLE) return 0;
  const key = magnitudeKey(magnitude);
  return x > 0 ? BIN_OFFSET + key : -(BIN_OFFSET + key);
}

export const binSign = (bin: number): SketchSign => (bin > 0 ? 1 : bin < 0 ? -1 : 0);
export const binKey = (bin: number): number => (bin === 0 ? 0 : Math.abs(bin) - BIN_OFFSET);
/** The sketchBin number of (sign, key): what binSign and binKey take apart. */
export const binOf = (sign: number, key: number): number => (sign === 0 ? 0 : sign * (BIN_OFFSET + key));

/** True when (sign, key) can come out of sketchKey. */
export function isValidBin(sign: number, key: number): sign is SketchSign {
  if (!Number.isInteger(key)) return false;
  if (sign === 0) return key === 0;
  return (sign === 1 || sign === -1) && key >= MIN_KEY && key <= MAX_KEY;
}

/**
 * The representative value of a bin: sign · 2γ^key / (γ + 1), computed as
 * sign · (boundary(key − 1) · REPRESENTATIVE_FACTOR) so that it stays finite for MAX_KEY and matches SQL bit for bit.
 */
export function keyValue(sign: number, key: number): number {
  if (!isValidBin(sign, key)) {
    throw new RangeError(
      `not a sketch bin: sign ${String(sign)}, key ${String(key)}; expected sign -1 or 1 with an integer key in ` +
        `[${MIN_KEY}, ${MAX_KEY}], or sign 0 with key 0`,
    );
  }
  if (sign === 0) return 0;
  return sign * (keyBoundary(key - 1) * REPRESENTATIVE_FACTOR);
}
