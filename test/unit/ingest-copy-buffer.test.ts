import test from 'ava';
import fc from 'fast-check';
import { CopyBuffer } from '../../shared/ingest/copy-buffer.ts';

const text = (chunks: readonly Buffer[]): string => Buffer.concat(chunks).toString('utf8');

/** Writes `value` as one row, the way the binary row writers use reserve() and commit(). */
function appendText(buffer: CopyBuffer, value: string): number {
  const chunk = buffer.reserve(Buffer.byteLength(value));
  return buffer.commit(buffer.end + chunk.write(value, buffer.end, 'utf8'));
}

test('every row comes back in order, across chunk boundaries and in any script', (t) => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 40_000 }), { maxLength: 40 }), (rows) => {
      const buffer = new CopyBuffer();
      const numbers = rows.map((row) => appendText(buffer, row + '\n'));
      t.is(buffer.count, rows.length);
      t.deepEqual(
        numbers,
        rows.map((_, i) => i),
      );
      t.is(text(buffer.chunks()), rows.map((l) => l + '\n').join(''));
      numbers.forEach((n, i) => t.is(buffer.bytes(n).toString('utf8'), `${rows[i] as string}\n`));
    }),
    { numRuns: 60 },
  );
});

test('select copies just the chosen rows, in the order given', (t) => {
  const buffer = new CopyBuffer();
  const rows = Array.from({ length: 3000 }, (_, i) => `row ${i} é 😀 ${'x'.repeat(i % 300)}\n`);
  const numbers = rows.map((row) => appendText(buffer, row));
  t.true(buffer.chunks().length > 1, 'the rows span several chunks');
  const keep = numbers.filter((_, i) => i % 7 !== 3);
  t.is(text(buffer.select(keep)), rows.filter((_, i) => i % 7 !== 3).join(''));
  t.is(text(buffer.select([2999, 0])), (rows[2999] as string) + (rows[0] as string));
  t.deepEqual(buffer.select([]), []);
  t.throws(() => buffer.select([3000]), { instanceOf: RangeError });
});

test('a row larger than a chunk gets a chunk of its own', (t) => {
  const buffer = new CopyBuffer();
  appendText(buffer, 'small\n');
  const big = '€'.repeat(200_000) + '\n';
  const row = appendText(buffer, big);
  appendText(buffer, 'after\n');
  t.is(buffer.bytes(row).toString('utf8'), big);
  t.is(buffer.select([row])[0]?.length, Buffer.byteLength(big));
  t.is(text(buffer.chunks()), 'small\n' + big + 'after\n');
});

test('a recycled buffer’s chunks are written by the next buffers; a chunk of its own is not kept', (t) => {
  const first = new CopyBuffer();
  const rows = Array.from({ length: 2000 }, (_, i) => `first ${i} ${'y'.repeat(i % 400)}\n`);
  rows.forEach((row) => appendText(first, row));
  appendText(first, 'z'.repeat(300_000) + '\n');
  const chunks = new Set(first.chunks().map((c) => c.buffer));
  t.true(chunks.size > 2, 'several chunks, one of them larger than the others');
  first.recycle();

  const second = new CopyBuffer();
  const rewritten = Array.from({ length: 2000 }, (_, i) => `second ${i} ${'w'.repeat((i * 7) % 400)}\n`);
  rewritten.forEach((row) => appendText(second, row));
  const reused = second.chunks().filter((c) => chunks.has(c.buffer));
  t.true(reused.length >= 2, 'the second buffer writes into the first one’s chunks');
  t.false(
    second.chunks().some((c) => c.length > 256 * 1024),
    'the oversized chunk went with its buffer',
  );
  // what the second buffer wrote is all there, whatever the first had left in those chunks
  t.is(text(second.chunks()), rewritten.join(''));
  // recycled twice, its chunks are still given out once each
  second.recycle();
  second.recycle();
  const next = Array.from({ length: 8 }, (_, i) => {
    const buffer = new CopyBuffer();
    appendText(buffer, `next ${i}\n`);
    return buffer;
  });
  const taken = next.map((b) => b.chunks()[0]?.buffer);
  t.is(new Set(taken).size, taken.length, 'no chunk given to two buffers');
  t.is(text(next[0]!.chunks()), 'next 0\n');
});
