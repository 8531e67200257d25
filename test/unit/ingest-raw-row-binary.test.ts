import test from 'ava';
import fc from 'fast-check';
import { CopyBuffer } from '../../shared/ingest/copy-buffer.ts';
import { appendRawRow, readRawRow, type RawRow } from '../../shared/ingest/raw-row-binary.ts';

// Strings as PostgreSQL can hold them: any Unicode text but NUL (storable.ts turns NUL and lone surrogates
// away before a row is written).
const storableText = fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => s.replaceAll('\u0000', ''));

const rawRow: fc.Arbitrary<RawRow> = fc
  .record({
    // From before PostgreSQL's epoch (negative microseconds) to far ahead.
    timestampMs: fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2300, 0, 1) }),
    eventType: storableText,
    source: storableText,
    idempotencyKey: storableText,
    metrics: fc.array(fc.tuple(storableText, fc.double({ noNaN: true, noDefaultInfinity: true })), {
      maxLength: 12,
    }),
    dimensions: fc.array(fc.tuple(storableText, storableText), { maxLength: 12 }),
    dataJson: fc.json({ maxDepth: 3 }),
  })
  .map(({ metrics, dimensions, ...rest }) => ({
    ...rest,
    metricNames: metrics.map(([name]) => name),
    metricValues: metrics.map(([, value]) => value),
    dimensionNames: dimensions.map(([name]) => name),
    dimensionValues: dimensions.map(([, value]) => value),
  }));

test('a raw row reads back as written, whatever its strings, numbers and time (property)', (t) => {
  fc.assert(
    fc.property(fc.array(rawRow, { minLength: 1, maxLength: 20 }), (rows) => {
      const buffer = new CopyBuffer();
      const numbers = rows.map((row) => appendRawRow(buffer, row));
      numbers.forEach((n, i) => {
        const back = readRawRow(buffer.bytes(n));
        const row = rows[i] as RawRow;
        t.deepEqual(back, { ...row, metricValues: [...row.metricValues] });
        t.true(Object.is(back.metricValues[0], row.metricValues[0]), '-0 stays -0');
      });
    }),
    { numRuns: 200 },
  );
});

test('metric values given as JSON text are stored as the numbers they spell', (t) => {
  const buffer = new CopyBuffer();
  const texts = ['0.1', '1e21', '-0', '5e-324', '123456789012345678901234567890', '0.000575'];
  const row = appendRawRow(buffer, {
    timestampMs: Date.UTC(2026, 10, 28, 10),
    eventType: 'llm_request',
    source: 'api-1',
    idempotencyKey: 'id:x',
    metricNames: texts.map((_, i) => `m${i}`),
    metricValues: texts,
    dimensionNames: [],
    dimensionValues: [],
    dataJson: '{}',
  });
  const back = readRawRow(buffer.bytes(row));
  t.deepEqual(back.metricValues, texts.map(Number));
  t.true(Object.is(back.metricValues[2], -0));
});

test('the row has the layout PostgreSQL reads: nine fields, the time in microseconds since 2000', (t) => {
  const buffer = new CopyBuffer();
  const row = appendRawRow(buffer, {
    timestampMs: Date.UTC(2000, 0, 1, 0, 0, 0, 1),
    eventType: 'e',
    source: 's',
    idempotencyKey: 'k',
    metricNames: [],
    metricValues: [],
    dimensionNames: ['model'],
    dimensionValues: ['é'],
    dataJson: '{"a":1}',
  });
  const bytes = buffer.bytes(row);
  t.is(bytes.readInt16BE(0), 9);
  t.is(bytes.readInt32BE(2), 8);
  t.is(bytes.readBigInt64BE(6), 1000n);
  // The empty float8[] after ts, three one-letter texts, the two one-element text[] ('model', 'é' in two
  // bytes: header 12 + dimension 8 + element 4 + bytes) and the empty metric_names: no dimension, no nulls,
  // element type float8 (OID 701).
  const metricValuesAt = 2 + 12 + 3 * 5 + (4 + 12 + 8 + 4 + 5) + (4 + 12 + 8 + 4 + 2) + (4 + 12);
  t.deepEqual(
    [0, 1, 2, 3].map((i) => bytes.readInt32BE(metricValuesAt + 4 * i)),
    [12, 0, 0, 701],
  );
  // jsonb: format version 1, then the text.
  t.is(bytes.subarray(-8).toString('latin1'), '\u0001{"a":1}');
  t.is(bytes.readInt32BE(bytes.length - 12), 8);
});
