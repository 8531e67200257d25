// JSON_LIMITS (shared/json): every parser of outside JSON holds its value to the same bounds, and a breach is
// a 4xx naming the limit, never a 500 (issue 15: a 100,000-level nested array used to answer "a bug").
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { isBatchError } from '../../shared/errors/index.ts';
import { normalizeHttpBody } from '../../shared/ingest/normalize.ts';
import { JSON_LIMITS, jsonBreach, parseJsonText } from '../../shared/json/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { createFunctionServer } from '../../templates/node20-ts/server.ts';
import type { Handler } from '../../templates/node20-ts/types.ts';

const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
const now = () => Date.parse('2026-12-01T12:00:00Z');
const good = (n: number) => ({ event_type: 'llm_request', id: `good-${n}`, data: { latency_ms: n } });

function limitError(t: ExecutionContext, fn: () => unknown, limit: string, message: RegExp) {
  const err = t.throws(fn);
  if (!isBatchError(err)) return t.fail(`expected a BatchError, got ${String(err)}`);
  t.is(err.code, 'REQUEST_JSON_LIMIT');
  t.is((err.context as { limit?: string }).limit, limit);
  t.regex(err.message, message);
}

test('a 100,000-level nested array is refused by depth, naming the limit and where', (t) => {
  const value = JSON.parse(nested(100_000)) as unknown;
  const found = jsonBreach(value);
  t.is(found?.limit, 'maxDepth');
  t.is(found?.path.length, JSON_LIMITS.maxDepth);
  limitError(
    t,
    () => parseJsonText(nested(100_000), 'send JSON'),
    'maxDepth',
    /^request body field "\[0\]\[0\].*" nests more than 64 levels deep; at most 64 are accepted \(JSON_LIMITS\.maxDepth\)$/,
  );
  t.is(jsonBreach(JSON.parse(nested(JSON_LIMITS.maxDepth))), undefined, 'exactly the limit is fine');
});

test('keys per object, string length and non-finite numbers are bounded', (t) => {
  const manyKeys = JSON.stringify({
    a: Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, i])),
  });
  limitError(t, () => parseJsonText(manyKeys, 'x'), 'maxKeys', /field "a" has more than 10000 keys/);
  const longString = JSON.stringify({ s: [1, 'x'.repeat(JSON_LIMITS.maxStringLength + 1)] });
  limitError(
    t,
    () => parseJsonText(longString, 'x'),
    'maxStringLength',
    /field "s\[1\]" is a string of 1048577 characters/,
  );
  const longKey = `{"${'k'.repeat(JSON_LIMITS.maxStringLength + 1)}":1}`;
  limitError(t, () => parseJsonText(longKey, 'x'), 'maxStringLength', /has a key of 1048577 characters/);
  limitError(
    t,
    () => parseJsonText('{"n":1e400}', 'x'),
    'finiteNumbers',
    /field "n" is Infinity; numbers must be finite/,
  );
  limitError(t, () => parseJsonText('[-1e400]', 'x'), 'finiteNumbers', /-Infinity/);
  t.deepEqual(
    parseJsonText('{"__proto__":{"x":1},"n":1.7e308}', 'x'),
    JSON.parse('{"__proto__":{"x":1},"n":1.7e308}'),
  );
});

test('text that is not JSON is REQUEST_INVALID with the fix', (t) => {
  const err = t.throws(() => parseJsonText('{"a":NaN}', 'send {"a":1}'));
  t.true(isBatchError(err) && err.code === 'REQUEST_INVALID');
  t.regex(err?.message ?? '', /is not JSON .*; send \{"a":1\}$/);
});

test('a pushed array with a too-deep element stores its neighbours; the element is a dead letter', (t) => {
  const body = `[${JSON.stringify(good(1))},${nested(100_000)},{"event_type":"x","data":{"deep":${nested(70)}}},${JSON.stringify(good(2))}]`;
  const results = normalizeHttpBody(Buffer.from(body), { now }, 'application/json');
  t.deepEqual(
    results.map((r) => (r.ok ? r.event.idempotencyKey : r.letter.reasonCode)),
    ['id:good-1', 'EVENT_JSON_LIMIT', 'EVENT_JSON_LIMIT', 'id:good-2'],
  );
  const [, deep, inData] = results;
  if (deep?.ok !== false || inData?.ok !== false) return t.fail();
  t.regex(
    deep.letter.reason,
    /^event field "\[0\]\[0\].*" nests more than 64 levels deep.*flatten or split the event/,
  );
  t.is(deep.letter.payload.toString(), nested(100_000), 'too deep to serialise, yet kept: its own bytes');
  t.regex(inData.letter.reason, /field "data\.deep\[0\].*" nests more than 64 levels/);
  t.is(inData.letter.payload.toString(), `{"event_type":"x","data":{"deep":${nested(70)}}}`);
});

test('an NDJSON line past the limits is its own dead letter; the other lines are stored', (t) => {
  const body = [
    JSON.stringify(good(1)),
    `{"event_type":"x","data":{"s":${nested(200)}}}`,
    JSON.stringify(good(2)),
  ].join('\n');
  const results = normalizeHttpBody(Buffer.from(body), { now }, 'application/x-ndjson');
  t.deepEqual(
    results.map((r) => (r.ok ? r.event.idempotencyKey : r.letter.reasonCode)),
    ['id:good-1', 'EVENT_JSON_LIMIT', 'id:good-2'],
  );
});

async function serve(t: ExecutionContext, handler: Handler): Promise<string> {
  const logger = createLogger({ level: 'silent' }, { fn: 'test' });
  const fn = createFunctionServer({ handler, logger, maxBodyBytes: 4 * 1024 * 1024 });
  fn.server.listen(0, '127.0.0.1');
  await once(fn.server, 'listening');
  t.teardown(() => new Promise<void>((r) => fn.server.close(() => r())));
  return `http://127.0.0.1:${(fn.server.address() as AddressInfo).port}`;
}

test('the template answers 422 REQUEST_JSON_LIMIT when a handler reads a too-deep JSON body; rawBody readers are not refused', async (t) => {
  const readsBody = await serve(t, (event) => ({ got: typeof event.body }));
  const post = (url: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: nested(100_000) });
  const res = await post(readsBody);
  t.is(res.status, 422);
  const answer = (await res.json()) as { error: { code: string; message: string; details: unknown } };
  t.is(answer.error.code, 'REQUEST_JSON_LIMIT');
  t.regex(answer.error.message, /nests more than 64 levels deep/);
  t.deepEqual(answer.error.details, { limit: 'maxDepth', field: `[0]`.repeat(64) });

  const readsRaw = await serve(t, (event) => ({ bytes: event.rawBody.length }));
  const raw = await post(readsRaw);
  t.is(raw.status, 200);
  t.deepEqual(await raw.json(), { bytes: 200_000 });
});
