import test from 'ava';
import { parseBatch, type BatchItem } from '../../shared/events/index.ts';

const a = { event_type: 'a', data: { x: 1 } };
const b = { event_type: 'b', data: { y: 2 } };

const good = (items: BatchItem[]) => items.filter((i) => i.ok).map((i) => i.raw);
/** An item as data: its fields, with its bytes as text. */
const plain = ({ bytes, ...item }: BatchItem) => ({ ...item, bytes: bytes().toString('utf8') });
const bytesOf = (items: BatchItem[]) => items.map((i) => i.bytes());

test('a single JSON object is one item', (t) => {
  const text = JSON.stringify(a);
  t.deepEqual(parseBatch(text, 'application/json').map(plain), [{ ok: true, index: 0, raw: a, bytes: text }]);
  t.deepEqual(parseBatch(Buffer.from(text)).map(plain), [{ ok: true, index: 0, raw: a, bytes: text }]);
});

test('a JSON array gives one item per element', (t) => {
  const items = parseBatch(JSON.stringify([a, b, 3]), 'application/json; charset=utf-8');
  t.deepEqual(good(items), [a, b, 3]);
  t.deepEqual(
    items.map((i) => i.index),
    [0, 1, 2],
  );
});

test('NDJSON with a bad line in the middle keeps its neighbours', (t) => {
  const body = `${JSON.stringify(a)}\r\n{"event_type": broken\n\n${JSON.stringify(b)}\n`;
  for (const contentType of ['application/x-ndjson', undefined, 'application/json']) {
    const items = parseBatch(body, contentType);
    t.is(items.length, 3, String(contentType));
    t.like(items[0], { ok: true, index: 0, line: 1, raw: a });
    t.like(items[2], { ok: true, index: 2, line: 4, raw: b });
    const bad = items[1];
    if (!bad || bad.ok) return t.fail('line 2 should be rejected');
    t.is(bad.line, 2);
    t.is(bad.raw, '{"event_type": broken');
    t.is(bad.rejection.code, 'EVENT_NOT_JSON');
    t.regex(
      bad.rejection.reason,
      /^line 2 is not valid JSON .*"\{\\"event_type\\": broken"; expected one JSON object per line/,
    );
  }
});

test('NDJSON from bytes: a line that is not UTF-8 is rejected alone', (t) => {
  const body = Buffer.concat([
    Buffer.from(`${JSON.stringify(a)}\n`),
    Buffer.from([0x7b, 0xff, 0x7d, 0x0a]),
    Buffer.from(JSON.stringify(b)),
  ]);
  const items = parseBatch(body, 'application/x-ndjson');
  t.deepEqual(good(items), [a, b]);
  t.like(items[1], { ok: false, line: 2 });
  t.deepEqual(good(parseBatch(body)), [a, b]);
});

test('a body that is neither JSON nor NDJSON is one EVENT_NOT_JSON item; an empty body is none', (t) => {
  const items = parseBatch('{\n  "event_type": "a",\n  "data": {\n');
  t.is(items.length, 1);
  t.like(items[0], { ok: false, index: 0, rejection: { code: 'EVENT_NOT_JSON' } });
  t.regex((items[0] as { rejection: { reason: string } }).rejection.reason, /request body is not valid JSON/);
  t.deepEqual(parseBatch(''), []);
  t.deepEqual(parseBatch('  \n\n', 'application/x-ndjson'), []);
});

// A refused event's dead letter keeps these bytes: they used to be JSON.stringify of the parsed value, which
// wrote 1e400 as null (a replay then stored null), 1.0 as 1, "\u00e9" as "é", and kept one of a repeated key.
test('an array element gives its own bytes as written, not a re-serialisation of its value', (t) => {
  const elements = [
    '{"event_type": "user_feedback",\n   "data": {"rating": 1e400}}',
    '{ "event_type":"a" , "data":{"x":1.0,"s":"\\u00e9 ] \\" [","x":2} }',
    '[ 1 , [ ] ]',
    '"a string, with [brackets]"',
    '-0.0e+0',
  ];
  const body = `\uFEFF \n[\t${elements.join(' ,\r\n  ')}\n]\n`;
  for (const input of [body, Buffer.from(body)]) {
    const items = parseBatch(input, 'application/json');
    t.deepEqual(
      items.map((i) => i.ok),
      elements.map(() => true),
    );
    t.deepEqual(
      bytesOf(items),
      elements.map((e) => Buffer.from(e)),
    );
  }
  t.deepEqual(
    bytesOf(parseBatch(Buffer.from(`  ${elements[0]!}\r\n`))),
    [Buffer.from(elements[0]!)],
    'a single event: the same bytes as in an array',
  );
});

test('an NDJSON line gives its own bytes: without its line break, BOM and the spacing around it', (t) => {
  const lines = ['{"event_type": "a", "data": {"rating": 1e400}}', '{"event_type":"b","data":{"y":2.50}}'];
  const body = `\uFEFF  ${lines[0]!} \r\n\n\t${lines[1]!}\n`;
  for (const input of [body, Buffer.from(body)]) {
    for (const contentType of ['application/x-ndjson', undefined]) {
      const items = parseBatch(input, contentType);
      t.deepEqual(
        items.map((i) => i.line),
        [1, 3],
      );
      t.deepEqual(
        bytesOf(items),
        lines.map((l) => Buffer.from(l)),
      );
    }
  }
});

test('a line that is not UTF-8 gives its bytes as received, not their decoding', (t) => {
  const bad = Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0x7d]);
  const body = Buffer.concat([
    Buffer.from(`${JSON.stringify(a)}\r\n`),
    bad,
    Buffer.from('\r\n'),
    Buffer.from(JSON.stringify(b)),
  ]);
  const items = parseBatch(body, 'application/x-ndjson');
  const refused = items[1];
  if (!refused || refused.ok) return t.fail('line 2 should be refused');
  t.deepEqual(refused.bytes(), bad);
  t.is(refused.rejection.code, 'EVENT_NOT_JSON');
});

test('text that is not JSON gives its bytes: a line without its line break, a whole body as sent', (t) => {
  const items = parseBatch(`${JSON.stringify(a)}\r\n {"event_type": broken \r\n${JSON.stringify(b)}`);
  t.like(plain(items[1]!), {
    ok: false,
    line: 2,
    raw: ' {"event_type": broken ',
    bytes: ' {"event_type": broken ',
    rejection: { code: 'EVENT_NOT_JSON' },
  });
  const body = '{\n  "event_type": "a",\n  "data": {\n';
  t.deepEqual(bytesOf(parseBatch(Buffer.from(body))), [Buffer.from(body)]);
});

// Regression: a pretty-printed array with a missing comma fell back to NDJSON because some of its lines parse
// alone — two events stored, `[` and `]` dead-lettered as junk, the last element refused for its trailing
// comma, and no word about the missing comma.
test('a body that starts with [ and is not JSON is one refusal with the parser message and its place', (t) => {
  const one = JSON.stringify(a);
  const body = `\uFEFF \n[\n  ${one},\n  ${JSON.stringify(b)}\n  ${one},\n  ${JSON.stringify(b)}\n]\n`;
  for (const input of [body, Buffer.from(body)]) {
    const items = parseBatch(input, 'application/json');
    t.is(items.length, 1);
    const [item] = items;
    t.like(item, { ok: false, index: 0, rejection: { code: 'EVENT_NOT_JSON' } });
    t.deepEqual(item!.bytes(), Buffer.from(body.slice(1)), 'the whole body (without its BOM)');
    const reason = (item as { rejection: { reason: string } }).rejection.reason;
    t.regex(reason, /JSON array/);
    t.regex(reason, /after array element/, "the parser's own message");
    t.regex(reason, /line 5,? column 3/);
  }
  // without a content type, and not UTF-8: one refusal too
  t.is(parseBatch(`[${one}\n${one}]`).length, 1);
  t.like(parseBatch(Buffer.concat([Buffer.from(`[${one},\n`), Buffer.from([0xff]), Buffer.from(']')]))[0], {
    ok: false,
    rejection: { code: 'EVENT_NOT_JSON' },
  });
  t.is(
    parseBatch(Buffer.concat([Buffer.from(`[${one},\n`), Buffer.from([0xff]), Buffer.from(']')])).length,
    1,
  );
  // NDJSON stays NDJSON, whatever its content type says
  t.deepEqual(good(parseBatch(`${one}\n${JSON.stringify(b)}`, 'application/json')), [a, b]);
});
