import test from 'ava';
import fc from 'fast-check';
import { BinCounts, BinsBytesError, BinsMerger, encodeBins, sketchBin } from '../../shared/sketch/index.ts';

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });

function binsOf(values: readonly number[], counts: readonly number[] = []): BinCounts {
  const bins = new BinCounts();
  values.forEach((v, i) => bins.add(sketchBin(v), counts[i] ?? 1));
  return bins;
}

/** Bytes as the hourly job reads a series' partials: each encoding behind its length. */
function framed(...encodings: Buffer[]): Buffer {
  return Buffer.concat(
    encodings.flatMap((bytes) => {
      const length = Buffer.alloc(4);
      length.writeInt32BE(bytes.length);
      return [length, bytes];
    }),
  );
}

test('bins read back from their bytes as they were, added to what is there', (t) => {
  const merger = new BinsMerger();
  fc.assert(
    fc.property(
      fc.array(finite, { maxLength: 300 }),
      fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 300 }),
      fc.array(finite, { maxLength: 50 }),
      (values, counts, before) => {
        merger.add(binsOf(before));
        merger.addFramed(framed(encodeBins(binsOf(values, counts)), encodeBins(new BinCounts())));
        const expected = binsOf(before);
        expected.merge(binsOf(values, counts));
        t.deepEqual(merger.encode(), encodeBins(expected));
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
  const refused = (b: Buffer): void => {
    t.throws(() => new BinsMerger().addFramed(b), { instanceOf: BinsBytesError });
  };
  refused(framed(bytes.subarray(0, bytes.length - 1)));
  refused(framed(Buffer.from([0x02, 0x00])));
  refused(framed(Buffer.alloc(10, 0xff)));
  refused(framed(bytes).subarray(0, 6));
  refused(Buffer.from([0, 0, 0]));
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
