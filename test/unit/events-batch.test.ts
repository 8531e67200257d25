import test from 'ava';
import { parseBatch, type BatchItem } from '../../shared/events/index.ts';

const a = { event_type: 'a', data: { x: 1 } };
const b = { event_type: 'b', data: { y: 2 } };

const good = (items: BatchItem[]) => items.filter((i) => i.ok).map((i) => i.raw);

test('a single JSON object is one item', (t) => {
  t.deepEqual(parseBatch(JSON.stringify(a), 'application/json'), [{ ok: true, index: 0, raw: a }]);
  t.deepEqual(parseBatch(Buffer.from(JSON.stringify(a))), [{ ok: true, index: 0, raw: a }]);
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
    t.deepEqual(items[0], { ok: true, index: 0, line: 1, raw: a });
    t.deepEqual(items[2], { ok: true, index: 2, line: 4, raw: b });
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
