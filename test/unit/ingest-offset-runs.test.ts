import test from 'ava';
import fc from 'fast-check';
import { offsetRuns } from '../../shared/ingest/kafka-claims-sql.ts';

/** Every offset the runs cover, as bigints. */
function covered(runs: { firsts: string[]; ends: string[] }): bigint[] {
  const out: bigint[] = [];
  runs.firsts.forEach((first, i) => {
    for (let o = BigInt(first); o < BigInt(runs.ends[i] as string); o++) out.push(o);
  });
  return out;
}

test('runs cover exactly the distinct offsets, ascending, each as long as it can be', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 200 }),
      fc.boolean(),
      (raw, ascending) => {
        const numbers = ascending ? [...new Set(raw)].sort((a, b) => a - b) : raw;
        const runs = offsetRuns(numbers.map(String));
        const distinct = [...new Set(numbers)].sort((a, b) => a - b).map(BigInt);
        t.deepEqual(covered(runs), distinct);
        for (let i = 1; i < runs.firsts.length; i++) {
          // a gap between two runs, or they would be one
          t.true(BigInt(runs.firsts[i] as string) > BigInt(runs.ends[i - 1] as string));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('a batch of consecutive offsets is one run; large offsets are exact', (t) => {
  const batch = Array.from({ length: 9600 }, (_, i) => String(4_000_000_000 + i));
  t.deepEqual(offsetRuns(batch), { firsts: ['4000000000'], ends: ['4000009600'] });
  t.deepEqual(offsetRuns(['9223372036854775806', '9007199254740993', '9007199254740993']), {
    firsts: ['9007199254740993', '9223372036854775806'],
    ends: ['9007199254740994', '9223372036854775807'],
  });
});
