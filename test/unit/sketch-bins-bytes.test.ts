import test from 'ava';
import fc from 'fast-check';
import {
  BinCounts,
  BinsBytesError,
  BinsMerger,
  addEncodedBins,
  encodeBins,
  sketchBin,
} from '../../shared/sketch/index.ts';

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });

function binsOf(values: readonly number[], counts: readonly number[] = []): BinCounts {
  const bins = new BinCounts();
  values.forEach((v, i) => bins.add(sketchBin(v), counts[i] ?? 1));
  return bins;
}

test('bins read back from their bytes as they were, merged into what is there', (t) => {
  fc.assert(
    fc.property(
      fc.array(finite, { maxLength: 300 }),
      fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 300 }),
      fc.array(finite, { maxLength: 50 }),
      (values, counts, before) => {
        const read = binsOf(before);
        addEncodedBins(read, encodeBins(binsOf(values, counts)));
        const expected = binsOf(before);
        expected.merge(binsOf(values, counts));
        t.deepEqual(read.toArrays(), expected.toArrays());
      },
    ),
  );
});

test('the bytes are small: about two bytes a bin for neighbouring keys', (t) => {
  const values = Array.from({ length: 75 }, (_, i) => 100 * 1.02 ** i);
  const bytes = encodeBins(binsOf(values));
  t.true(bytes.length <= 75 * 2 + 4, `${bytes.length} bytes`);
  t.is(encodeBins(new BinCounts()).length, 0);
});

test('bytes it did not write are refused', (t) => {
  const bytes = encodeBins(binsOf([1, 2, 3]));
  t.throws(() => addEncodedBins(new BinCounts(), bytes.subarray(0, bytes.length - 1)), {
    instanceOf: BinsBytesError,
  });
  t.throws(() => addEncodedBins(new BinCounts(), Buffer.from([0x02, 0x00])), { instanceOf: BinsBytesError });
  t.throws(() => addEncodedBins(new BinCounts(), Buffer.alloc(10, 0xff)), { instanceOf: BinsBytesError });
});

test('a merger gives the bytes of its sketches added together, and is empty after', (t) => {
  const merger = new BinsMerger();
  fc.assert(
    fc.property(
      fc.array(fc.array(finite, { maxLength: 150 }), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 150 }),
      (sketches, counts) => {
        const expected = new BinCounts();
        for (const values of sketches) {
          const bins = binsOf(values, counts);
          merger.add(bins);
          expected.merge(bins);
        }
        t.deepEqual(merger.encode(), encodeBins(expected));
      },
    ),
  );
  t.is(merger.encode().length, 0);
});
