import test from 'ava';
import fc from 'fast-check';
import {
  arrayLiteral,
  copyArrayLiteral,
  copyFields,
  copyLine,
  copyText,
  floatArrayLiteral,
} from '../../shared/ingest/copy-text.ts';

// Decoders written from the PostgreSQL docs (COPY text format, array input syntax), to check the encoders.
function uncopy(field: string): string {
  return field.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
}
function unarray(literal: string): string[] {
  if (literal === '{}') return [];
  const out: string[] = [];
  let i = 1;
  while (i < literal.length - 1) {
    if (literal[i] !== '"') throw new Error(`unquoted element at ${i} in ${literal}`);
    let s = '';
    i++;
    while (literal[i] !== '"') {
      if (literal[i] === '\\') i++;
      s += literal[i];
      i++;
    }
    out.push(s);
    i += 2; // closing quote and comma (or the closing brace)
  }
  return out;
}

test('copyText escapes exactly backslash, newline, carriage return and tab', (t) => {
  t.is(copyText('plain é 😀'), 'plain é 😀');
  t.is(copyText('a\\b\nc\rd\te'), 'a\\\\b\\nc\\rd\\te');
  t.is(copyText('\\N'), '\\\\N');
});

test('arrayLiteral quotes every element so NULL, empty strings and braces stay strings', (t) => {
  t.is(arrayLiteral([]), '{}');
  t.is(arrayLiteral(['NULL', '', '{a,b}', 'q"\\']), '{"NULL","","{a,b}","q\\"\\\\"}');
});

test('floatArrayLiteral writes forms float8in reads', (t) => {
  t.is(floatArrayLiteral([1.5, -0, 1e21, 5e-7]), '{1.5,0,1e+21,5e-7}');
});

test('copyText and arrayLiteral round-trip any string (property)', (t) => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'binary' })), (values) => {
      const line = copyText(arrayLiteral(values));
      return !/[\n\r\t]/.test(line) && JSON.stringify(unarray(uncopy(line))) === JSON.stringify(values);
    }),
  );
  t.pass();
});

test('copyLine has nine tab-separated fields and one trailing newline', (t) => {
  const line = copyLine({
    ts: '2026-11-28T10:00:00.000Z',
    eventType: 'a\tb',
    source: 's\n',
    idempotencyKey: 'k',
    metricNames: ['m'],
    metricValues: [1],
    dimensionNames: [],
    dimensionValues: [],
    dataJson: '{"x":"\\"q\\""}',
  });
  t.true(line.endsWith('\n'));
  const fields = line.slice(0, -1).split('\t');
  t.is(fields.length, 9);
  t.deepEqual(fields.map(uncopy), [
    '2026-11-28T10:00:00.000Z',
    'a\tb',
    's\n',
    'k',
    '{"m"}',
    '{1}',
    '{}',
    '{}',
    '{"x":"\\"q\\""}',
  ]);
});

test('copyArrayLiteral is copyText(arrayLiteral(…)) for any strings', (t) => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 6 }), (values) => {
      t.is(copyArrayLiteral(values), copyText(arrayLiteral(values)));
    }),
    { numRuns: 2000 },
  );
  t.is(copyArrayLiteral(['a', 'b"c', 'tab\there']), copyText(arrayLiteral(['a', 'b"c', 'tab\there'])));
});

test('copyFields reads back every column of copyLine (property)', (t) => {
  const text = fc.string({ unit: 'binary', maxLength: 12 });
  fc.assert(
    fc.property(text, text, text, text, (eventType, source, key, dataJson) => {
      const line = copyLine({
        ts: '2026-11-28T10:00:00.000Z',
        eventType,
        source,
        idempotencyKey: key,
        metricNames: [],
        metricValues: [],
        dimensionNames: [],
        dimensionValues: [],
        dataJson,
      });
      const fields = copyFields(line);
      t.deepEqual(
        [fields[0], fields[1], fields[2], fields[3], fields[8]],
        ['2026-11-28T10:00:00.000Z', eventType, source, key, dataJson],
      );
    }),
    { numRuns: 2000 },
  );
});
