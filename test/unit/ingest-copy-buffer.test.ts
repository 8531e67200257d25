import test from 'ava';
import fc from 'fast-check';
import { CopyBuffer } from '../../shared/ingest/copy-buffer.ts';

const text = (chunks: readonly Buffer[]): string => Buffer.concat(chunks).toString('utf8');

test('every line comes back in order, across chunk boundaries and in any script', (t) => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 40_000 }), { maxLength: 40 }), (lines) => {
      const buffer = new CopyBuffer();
      const numbers = lines.map((line) => buffer.append(line + '\n'));
      t.is(buffer.count, lines.length);
      t.deepEqual(
        numbers,
        lines.map((_, i) => i),
      );
      t.is(text(buffer.chunks()), lines.map((l) => l + '\n').join(''));
      numbers.forEach((n, i) => t.is(buffer.text(n), `${lines[i] as string}\n`));
    }),
    { numRuns: 60 },
  );
});

test('select copies just the chosen lines, in the order given', (t) => {
  const buffer = new CopyBuffer();
  const lines = Array.from({ length: 3000 }, (_, i) => `row ${i} é 😀 ${'x'.repeat(i % 300)}\n`);
  const numbers = lines.map((line) => buffer.append(line));
  t.true(buffer.chunks().length > 1, 'the lines span several chunks');
  const keep = numbers.filter((_, i) => i % 7 !== 3);
  t.is(text(buffer.select(keep)), lines.filter((_, i) => i % 7 !== 3).join(''));
  t.is(text(buffer.select([2999, 0])), (lines[2999] as string) + (lines[0] as string));
  t.deepEqual(buffer.select([]), []);
  t.throws(() => buffer.select([3000]), { instanceOf: RangeError });
});

test('a line larger than a chunk gets a chunk of its own', (t) => {
  const buffer = new CopyBuffer();
  buffer.append('small\n');
  const big = '€'.repeat(200_000) + '\n';
  const line = buffer.append(big);
  buffer.append('after\n');
  t.is(buffer.text(line), big);
  t.is(buffer.select([line])[0]?.length, Buffer.byteLength(big));
  t.is(text(buffer.chunks()), 'small\n' + big + 'after\n');
});
