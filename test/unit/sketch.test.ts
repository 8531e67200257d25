import test from 'ava';
import fc from 'fast-check';
import {
  BinCounts,
  GAMMA,
  MAX_KEY,
  MIN_INDEXABLE,
  MIN_KEY,
  QuantileSketch,
  binKey,
  binSign,
  RELATIVE_ACCURACY,
  keyBoundary,
  keyValue,
  sketchBin,
  sketchKey,
} from '../../shared/sketch/index.ts';
import { prng } from '../../runtime/demo/prng.ts';

const ALPHA = RELATIVE_ACCURACY;
const QUANTILES = [0, 0.5, 0.95, 0.99, 1] as const;

function sketchOf(values: readonly number[]): QuantileSketch {
  const sketch = new QuantileSketch();
  for (const x of values) sketch.add(x);
  return sketch;
}

function state(sketch: QuantileSketch) {
  return { bins: sketch.toBins(), count: sketch.count, min: sketch.min, max: sketch.max };
}

function ulpUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigInt64(0, view.getBigInt64(0) + 1n);
  return view.getFloat64(0);
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * The exact value the sketch approximates: PostgreSQL's percentile_cont, the linear interpolation between the
 * sorted values lo, hi at 0-based indexes floor(q·(n − 1)) and the next one, with fraction f. The guarantee
 * checked: |estimate − exact| <= α·((1 − f)·|lo| + f·|hi|) (+1e-12 relative float slack), where magnitudes below
 * MIN_INDEXABLE may be estimated as 0. For same-sign data that is α·|exact|.
 */
function assertWithinAlpha(values: readonly number[]): void {
  const sketch = sketchOf(values);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of QUANTILES) {
    const rank = q * (sorted.length - 1);
    const f = rank - Math.floor(rank);
    const lo = sorted[Math.floor(rank)] as number;
    const hi = sorted[Math.ceil(rank)] as number;
    const exact = percentileCont(sorted, q);
    const estimate = sketch.quantile(q) as number;
    const slack = (x: number) => (Math.abs(x) < MIN_INDEXABLE ? MIN_INDEXABLE : 0);
    const tolerance = (ALPHA + 1e-12) * ((1 - f) * Math.abs(lo) + f * Math.abs(hi)) + slack(lo) + slack(hi);
    if (!(Math.abs(estimate - exact) <= tolerance)) {
      throw new Error(`q=${q}: estimate ${estimate} vs percentile_cont ${exact} (n=${values.length})`);
    }
  }
}

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const positive = fc.double({ min: MIN_INDEXABLE, max: 1e12, noNaN: true });
const values = fc.array(finite, { minLength: 1, maxLength: 200 });

test('sketchKey: |x| lies in (boundary(key − 1), boundary(key)], signs and the zero bin', (t) => {
  fc.assert(
    fc.property(finite, (x) => {
      const { sign, key } = sketchKey(x);
      const magnitude = Math.abs(x);
      if (magnitude < MIN_INDEXABLE) return sign === 0 && key === 0;
      if (sign !== Math.sign(x) || !Number.isInteger(key) || key < MIN_KEY || key > MAX_KEY) return false;
      const above = magnitude > keyBoundary(key - 1);
      return key === MAX_KEY ? above : above && magnitude <= keyBoundary(key);
    }),
    { numRuns: 20000 },
  );
  t.deepEqual(sketchKey(0), { sign: 0, key: 0 });
  t.deepEqual(sketchKey(-0), { sign: 0, key: 0 });
  t.deepEqual(sketchKey(5e-10), { sign: 0, key: 0 });
  t.deepEqual(sketchKey(-MIN_INDEXABLE), { sign: -1, key: MIN_KEY });
  t.deepEqual(sketchKey(1), { sign: 1, key: 0 });
  t.deepEqual(sketchKey(Number.MAX_VALUE), { sign: 1, key: MAX_KEY });
  t.throws(() => sketchKey(Number.NaN), { instanceOf: RangeError, message: /finite.*NaN/ });
  t.throws(() => sketchKey(Number.POSITIVE_INFINITY), { instanceOf: RangeError });
});

test('sketchKey: exact powers of γ sit at the top of their own bucket, one ulp more starts the next', (t) => {
  for (let k = MIN_KEY; k < MAX_KEY; k++) {
    const boundary = keyBoundary(k);
    if (sketchKey(boundary).key !== k || sketchKey(ulpUp(boundary)).key !== k + 1) {
      t.fail(`boundary of key ${k} (${boundary}) maps to ${sketchKey(boundary).key}`);
      return;
    }
    // Math.pow(γ, k) differs from the boundary by a few ulps at most: either bucket k or k + 1.
    const pow = sketchKey(Math.pow(GAMMA, k)).key;
    if (pow !== k && pow !== k + 1) t.fail(`γ^${k} maps to ${pow}`);
  }
  t.pass();
});

test('keyValue is within α of both edges of its bucket and signed', (t) => {
  for (let k = MIN_KEY; k <= MAX_KEY; k++) {
    const value = keyValue(1, k);
    const lower = keyBoundary(k - 1);
    t.true(Math.abs(value - lower) <= (ALPHA + 1e-12) * lower, `key ${k} lower edge`);
    if (k < MAX_KEY) {
      const upper = keyBoundary(k);
      t.true(Math.abs(value - upper) <= (ALPHA + 1e-12) * upper, `key ${k} upper edge`);
    }
    t.is(keyValue(-1, k), -value);
  }
  t.is(keyValue(0, 0), 0);
  t.true(Number.isFinite(keyValue(1, MAX_KEY)));
  t.throws(() => keyValue(1, MAX_KEY + 1), { instanceOf: RangeError, message: /expected sign -1 or 1/ });
  t.throws(() => keyValue(0, 3), { instanceOf: RangeError });
  t.throws(() => keyValue(2, 3), { instanceOf: RangeError });
});

test('merge is commutative and associative (bins, count, min, max)', (t) => {
  fc.assert(
    fc.property(values, values, values, (a, b, c) => {
      const ab = sketchOf(a).merge(sketchOf(b));
      const ba = sketchOf(b).merge(sketchOf(a));
      t.deepEqual(state(ab), state(ba));
      const left = sketchOf(a).merge(sketchOf(b)).merge(sketchOf(c));
      const right = sketchOf(a).merge(sketchOf(b).merge(sketchOf(c)));
      t.deepEqual(state(left), state(right));
    }),
  );
});

test('merge of two sketches equals the sketch of the concatenated data', (t) => {
  fc.assert(
    fc.property(fc.array(finite), fc.array(finite), (a, b) => {
      const merged = sketchOf(a).merge(sketchOf(b));
      const whole = sketchOf([...a, ...b]);
      t.deepEqual(state(merged), state(whole));
      for (const q of QUANTILES) t.is(merged.quantile(q), whole.quantile(q));
    }),
  );
  const self = sketchOf([1, 2, 3]);
  self.merge(self);
  t.deepEqual(state(self), state(sketchOf([1, 2, 3, 1, 2, 3])));
});

test('error bound: uniform and arbitrary finite data', (t) => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1 }), assertWithinAlpha),
  );
  fc.assert(fc.property(values, assertWithinAlpha));
  t.pass();
});

test('error bound: log-normal latency-like data', (t) => {
  const latency = fc.record({
    seed: fc.integer(),
    n: fc.integer({ min: 1, max: 5000 }),
    mu: fc.double({ min: 0, max: 9, noNaN: true }),
    sigma: fc.double({ min: 0.05, max: 2, noNaN: true }),
  });
  fc.assert(
    fc.property(latency, ({ seed, n, mu, sigma }) => {
      const random = prng(seed);
      assertWithinAlpha(Array.from({ length: n }, () => Math.exp(mu + sigma * gaussian(random))));
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test('error bound: constant data is exact', (t) => {
  fc.assert(
    fc.property(finite, fc.integer({ min: 1, max: 300 }), (x, n) => {
      const sketch = new QuantileSketch().add(x, n);
      for (const q of QUANTILES) t.is(sketch.quantile(q), x);
    }),
  );
});

test('error bound: zero-heavy data (zeros mixed with positives)', (t) => {
  const zeroHeavy = fc.array(
    fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: positive, weight: 1 }),
    {
      minLength: 1,
      maxLength: 400,
    },
  );
  fc.assert(fc.property(zeroHeavy, assertWithinAlpha));
  const sketch = sketchOf([0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
  t.is(sketch.quantile(0.5), 0);
  t.is(sketch.quantile(1), 5);
});

test('error bound: negative and mixed-sign data', (t) => {
  const negative = fc.double({ min: -1e9, max: -MIN_INDEXABLE, noNaN: true });
  fc.assert(fc.property(fc.array(negative, { minLength: 1, maxLength: 300 }), assertWithinAlpha));
  fc.assert(
    fc.property(fc.array(fc.oneof(negative, positive, fc.constant(0)), { minLength: 1 }), assertWithinAlpha),
  );
  t.pass();
});

/** PostgreSQL percentile_cont: linear interpolation between the sorted values at floor/ceil of q·(n − 1). */
function percentileCont(sorted: readonly number[], q: number): number {
  const rank = q * (sorted.length - 1);
  const lo = sorted[Math.floor(rank)] as number;
  const hi = sorted[Math.ceil(rank)] as number;
  const f = rank - Math.floor(rank);
  // As a weighted sum: hi − lo overflows for opposite-sign neighbours near the float8 limits.
  return (1 - f) * lo + f * hi;
}

test('percentile_cont: dense continuous data is matched within α', (t) => {
  const dense = fc.record({
    seed: fc.integer(),
    n: fc.integer({ min: 20000, max: 40000 }),
    shape: fc.constantFrom('uniform', 'lognormal'),
  });
  fc.assert(
    fc.property(dense, ({ seed, n, shape }) => {
      const random = prng(seed);
      const data = Array.from({ length: n }, () =>
        shape === 'uniform' ? 1 + 999 * random() : Math.exp(4 + 0.3 * gaussian(random)),
      );
      const sketch = sketchOf(data);
      const sorted = data.sort((a, b) => a - b);
      for (const q of [0.5, 0.95, 0.99]) {
        const estimate = sketch.quantile(q) as number;
        const cont = percentileCont(sorted, q);
        // Positive data: both interpolated neighbours are within α, so the estimate is within α of it.
        t.true(
          Math.abs(estimate - cont) <= (ALPHA + 1e-12) * cont,
          `${shape} q=${q}: ${estimate} vs ${cont}`,
        );
      }
    }),
    { numRuns: 30 },
  );
});

test('quantile walks bins in value order and clamps to [min, max]', (t) => {
  const sketch = sketchOf([-100, -1, 0, 1, 100]);
  t.deepEqual(
    sketch.toBins().map((b) => b.sign * b.key),
    [-sketchKey(100).key, -sketchKey(1).key, 0, sketchKey(1).key, sketchKey(100).key],
  );
  t.is(sketch.quantile(0), -100);
  t.is(sketch.quantile(0.5), 0);
  t.is(sketch.quantile(1), 100);
  t.is(sketch.quantile(0.25), keyValue(-1, sketchKey(1).key));
  t.is(new QuantileSketch().quantile(0.5), undefined);
  t.is(new QuantileSketch().min, undefined);
  t.throws(() => sketch.quantile(1.5), { instanceOf: RangeError, message: /between 0 and 1; got 1.5/ });
  t.throws(() => sketch.add(Number.NaN), { instanceOf: RangeError });
  t.throws(() => sketch.add(1, 0), { instanceOf: RangeError, message: /positive safe integer; got 0/ });
});

test('toBins/fromBins round-trips, sums duplicate bins and rejects invalid bins', (t) => {
  fc.assert(
    fc.property(fc.array(finite, { minLength: 1 }), (data) => {
      const sketch = sketchOf(data);
      const rebuilt = QuantileSketch.fromBins(sketch.toBins(), sketch.min, sketch.max);
      t.deepEqual(state(rebuilt), state(sketch));
    }),
  );
  const { key } = sketchKey(10);
  const doubled = QuantileSketch.fromBins(
    [
      { sign: 1, key, count: 2 },
      { sign: 1, key, count: 3 },
    ],
    10,
    10,
  );
  t.deepEqual(doubled.toBins(), [{ sign: 1, key, count: 5 }]);
  t.is(QuantileSketch.fromBins([]).count, 0);
  t.throws(() => QuantileSketch.fromBins([{ sign: 0, key: 4, count: 1 }], 0, 0), {
    message: /not a sketch bin/,
  });
  t.throws(() => QuantileSketch.fromBins([{ sign: 1, key, count: 1.5 }], 10, 10), {
    message: /positive safe/,
  });
  t.throws(() => QuantileSketch.fromBins([{ sign: 1, key, count: 1 }]), { message: /finite min and max/ });
  t.throws(() => QuantileSketch.fromBins([{ sign: 1, key, count: 1 }], 11, 10), {
    message: /greater than max/,
  });
});

test('sketchBin is sketchKey as one number, and numbers in ascending order are bins in stored order', (t) => {
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1 }), (values) => {
      for (const x of values) {
        const { sign, key } = sketchKey(x);
        const bin = sketchBin(x);
        t.is(binSign(bin), sign);
        t.is(binKey(bin), key);
      }
      // stored order (sqlBinArrays): by sign, then by sign · key — the order of the values' magnitudes
      const bySketchKey = values
        .map((x) => sketchKey(x))
        .sort((a, b) => a.sign - b.sign || a.sign * a.key - b.sign * b.key)
        .map(({ sign, key }) => `${sign}:${key}`);
      const byBin = values
        .map(sketchBin)
        .sort((a, b) => a - b)
        .map((bin) => `${binSign(bin)}:${binKey(bin)}`);
      t.deepEqual(byBin, bySketchKey);
    }),
  );
});

test('BinCounts counts what a map of sketchBin counts, in stored order, merged or not, across any key range', (t) => {
  const values = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.double({ min: 1, max: 1e4, noNaN: true }),
    fc.double({ min: -1e4, max: -1e-9, noNaN: true }),
  );
  fc.assert(
    fc.property(fc.array(values, { maxLength: 300 }), fc.array(values, { maxLength: 300 }), (a, b) => {
      const expected = new Map<number, number>();
      for (const x of [...a, ...b]) expected.set(sketchBin(x), (expected.get(sketchBin(x)) ?? 0) + 1);
      const order = [...expected.keys()].sort((x, y) => x - y);
      const want = {
        signs: order.map(binSign),
        keys: order.map(binKey),
        counts: order.map((bin) => expected.get(bin)),
      };
      const whole = new BinCounts();
      for (const x of [...a, ...b]) whole.add(sketchBin(x));
      const left = new BinCounts();
      const right = new BinCounts();
      for (const x of a) left.add(sketchBin(x));
      for (const x of b) right.add(sketchBin(x));
      left.merge(right);
      t.deepEqual(whole.toArrays(), want);
      t.deepEqual(left.toArrays(), want);
    }),
  );
});
