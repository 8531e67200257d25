import test from 'ava';
import fc from 'fast-check';
import { KeptRows, type PreparedRow } from '../../shared/ingest/kept-rows.ts';

const keptRow: fc.Arbitrary<PreparedRow> = fc
  .record({
    id: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
    fallbackKey: fc.string({ maxLength: 12 }),
    kafka: fc.option(
      fc.record({
        topic: fc.constantFrom('a', 'b', 'a.b-c'),
        partition: fc.integer({ min: 0, max: 3 }),
        offset: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
      }),
      { nil: undefined },
    ),
    timestampMs: fc.integer({ min: 0, max: Date.UTC(2300, 0, 1) }),
    ownTimestamp: fc.boolean(),
    json: fc.option(fc.json(), { nil: undefined }),
    cost: fc.constantFrom(undefined, 'inferred' as const, 'unpriced' as const),
  })
  .map(({ id, fallbackKey, json, cost, ...row }) => ({
    ...row,
    id,
    idempotencyKey: id === undefined ? fallbackKey : `id:${id}`,
    ...(json === undefined ? {} : { json }),
    ...(cost === undefined ? {} : { cost }),
  }));

test('a kept row reads back as added, and a selection keeps each row with its copy row (property)', (t) => {
  fc.assert(
    fc.property(fc.array(keptRow, { maxLength: 3000 }), fc.func(fc.boolean()), (input, keep) => {
      const rows = new KeptRows();
      input.forEach((row, i) => t.is(rows.add(row), i));
      t.deepEqual(rows.all(), input);
      const chosen = input.map((_, i) => keep(i));
      const selected = rows.filter((i) => chosen[i] as boolean);
      const expected = input.flatMap((row, i) => (chosen[i] ? [{ row, copyRow: i }] : []));
      t.deepEqual(
        selected.all(),
        expected.map((e) => e.row),
      );
      t.deepEqual(
        Array.from({ length: selected.count }, (_, i) => selected.copyRow(i)),
        expected.map((e) => e.copyRow),
      );
      input.forEach((row, i) => t.is(rows.claimedByKey(i), row.id !== undefined || row.kafka === undefined));
    }),
    { numRuns: 50 },
  );
});

test('offsets are grouped by partition, in the order of topic:partition, each with its rows', (t) => {
  const rows = new KeptRows();
  const add = (topic: string, partition: number, offset: string) =>
    rows.add({
      idempotencyKey: `${topic}:${partition}:${offset}`,
      id: undefined,
      kafka: { topic, partition, offset },
      timestampMs: 0,
      ownTimestamp: true,
    });
  add('b', 0, '7');
  add('a', 1, '3');
  rows.add({
    idempotencyKey: 'sha256:x',
    id: undefined,
    kafka: undefined,
    timestampMs: 0,
    ownTimestamp: false,
  });
  add('a', 1, '4');
  add('a', 10, '1');
  t.deepEqual(rows.offsetsByPartition(), [
    { topic: 'a', partition: 1, rows: [1, 3], offsets: ['3', '4'] },
    { topic: 'a', partition: 10, rows: [4], offsets: ['1'] },
    { topic: 'b', partition: 0, rows: [0], offsets: ['7'] },
  ]);
});
