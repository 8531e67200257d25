// Push ingestion on PGlite: bodies of one event, arrays and NDJSON; connector records; every rejection class.
import { createHash } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { isBatchError } from '../../shared/errors/index.ts';
import { ingestPayload, type PushDeps } from '../../shared/ingest/index.ts';
import { claimKafkaOffsets } from '../../shared/ingest/kafka-claims-sql.ts';
import { freshEmbeddedDatabase } from '../helpers/db.ts';
import { countOf, storedRows } from '../fixtures/ingest-events.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');

async function setup(t: ExecutionContext): Promise<PushDeps> {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  return { db, now: () => NOW, limits: { maxEventBytes: 2048, maxFields: 5 } };
}

const event = (id: string, extra: Record<string, unknown> = {}) => ({
  event_type: 'llm_request',
  timestamp: '2026-11-28T10:15:00Z',
  source: 'api-1',
  id,
  data: { model: 'llama-3-70b', latency_ms: 812, error: false },
  ...extra,
});

async function keyedLetters(deps: PushDeps) {
  const { rows } = await deps.db.query<{ idempotency_key: string; payload: Buffer }>(
    'SELECT idempotency_key, payload FROM dead_letters ORDER BY id',
  );
  return rows;
}

async function deadLetters(deps: PushDeps) {
  const { rows } = await deps.db.query<{
    reason_code: string;
    reason: string;
    origin: string;
    payload: Buffer;
  }>('SELECT reason_code, reason, origin, payload FROM dead_letters ORDER BY id');
  return rows;
}

test('NDJSON with a bad line in the middle stores its neighbours and dead-letters the line', async (t) => {
  const deps = await setup(t);
  const body = [
    JSON.stringify(event('a')),
    '{"event_type": "llm_request", oops',
    JSON.stringify(event('b')),
  ].join('\n');
  const result = await ingestPayload(deps, { body, headers: { 'content-type': 'application/x-ndjson' } });
  t.like(result, { stored: 2, duplicates: 0, rejected: 1 });
  t.is(result.rejections.length, 1);
  t.like(result.rejections[0], { index: 1, code: 'EVENT_NOT_JSON' });
  t.deepEqual(
    (await storedRows(deps.db)).map((r) => r.idempotency_key),
    ['id:a', 'id:b'],
  );
  const letters = await deadLetters(deps);
  t.is(letters.length, 1);
  t.is(letters[0]?.payload.toString(), '{"event_type": "llm_request", oops');
  t.is(letters[0]?.origin, 'http');
});

test('every rejection class lands in dead_letters with its reason; neighbours are stored', async (t) => {
  const deps = await setup(t);
  const bad: [string, unknown][] = [
    ['EVENT_SCHEMA', { data: { x: 1 } }],
    ['EVENT_NON_FINITE', '__NONFINITE__'],
    ['EVENT_TOO_LARGE', event('big', { data: { blob: 'x'.repeat(4096) } })],
    ['EVENT_TOO_MANY_FIELDS', event('wide', { data: { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 } })],
    ['EVENT_TOO_FAR_IN_FUTURE', event('future', { timestamp: '2026-11-29T12:00:00Z' })],
    ['EVENT_TOO_OLD', event('old', { timestamp: '2025-01-01T00:00:00Z' })],
  ];
  const items: string[] = [];
  bad.forEach(([, value], i) => {
    items.push(JSON.stringify(event(`good-${i}`)));
    items.push(value === '__NONFINITE__' ? '{"event_type":"x","data":{"v":1e400}}' : JSON.stringify(value));
  });
  items.push('not json at all');
  items.push(JSON.stringify(event('good-last')));
  const result = await ingestPayload(deps, { body: items.join('\n'), headers: {} });
  const codes = [...bad.map(([code]) => code), 'EVENT_NOT_JSON'];
  t.like(result, { stored: bad.length + 1, duplicates: 0, rejected: codes.length });
  t.deepEqual(
    result.rejections.map((r) => r.code),
    codes,
  );
  t.deepEqual(
    result.rejections.map((r) => r.index),
    [1, 3, 5, 7, 9, 11, 12],
  );
  const letters = await deadLetters(deps);
  t.deepEqual(letters.map((l) => l.reason_code).sort(), [...codes].sort());
  for (const l of letters) t.true(l.reason.length > 20, `a reason that explains: ${l.reason}`);
  t.is(await countOf(deps.db, 'SELECT count(*) AS n FROM raw_events'), bad.length + 1);

  // The same body again: nothing new anywhere.
  const again = await ingestPayload(deps, { body: items.join('\n'), headers: {} });
  t.like(again, { stored: 0, duplicates: bad.length + 1, rejected: codes.length });
  t.is((await deadLetters(deps)).length, codes.length, 'a re-sent bad event is stored once');
});

// A refused event of an array or NDJSON body used to be dead-lettered as JSON.stringify of its parsed value:
// "rating": 1e400 (refused as Infinity) was kept as "rating": null, which a replay would have stored.
test('a refused array element is dead-lettered as its own bytes, not JSON.stringify of its value', async (t) => {
  const deps = await setup(t);
  const element =
    '{ "event_type": "user_feedback", "timestamp": "2026-11-28T10:15:00Z",\n' +
    '    "data": {"rating": 1e400, "note": "\\u00e9 [\\"x\\"]", "rating_was": 1.0} }';
  const body = `[\n  ${element} ,\n  ${JSON.stringify(event('ok'))}\n]\n`;
  const expectedKey = `http:${createHash('sha256').update(element).digest('hex')}`;
  const result = await ingestPayload(deps, { body, headers: { 'content-type': 'application/json' } });
  t.like(result, { stored: 1, rejected: 1, rejections: [{ index: 0, code: 'EVENT_NON_FINITE' }] });
  t.deepEqual(
    (await storedRows(deps.db)).map((r) => r.idempotency_key),
    ['id:ok'],
  );
  const letters = await keyedLetters(deps);
  t.is(letters.length, 1);
  t.true(letters[0]!.payload.equals(Buffer.from(element)), letters[0]!.payload.toString());
  t.is(letters[0]!.idempotency_key, expectedKey);

  // The same bad event again, in the same body or alone: one dead letter still.
  t.like(await ingestPayload(deps, { body, headers: {} }), { stored: 0, duplicates: 1, rejected: 1 });
  t.like(await ingestPayload(deps, { body: ` ${element}\n`, headers: {} }), { rejected: 1 });
  t.deepEqual(
    (await keyedLetters(deps)).map((l) => l.idempotency_key),
    [expectedKey],
  );
});

test('a refused NDJSON line is dead-lettered as its own bytes, not JSON.stringify of its value', async (t) => {
  const deps = await setup(t);
  const line = '{"event_type": "user_feedback",  "data": {"rating": 1e400, "note": "\\u00e9"}}';
  const body = `${JSON.stringify(event('a'))}\r\n${line}\r\n${JSON.stringify(event('b'))}\n`;
  for (let i = 0; i < 2; i++) {
    const result = await ingestPayload(deps, {
      body: Buffer.from(body),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    t.like(result, {
      stored: i === 0 ? 2 : 0,
      rejected: 1,
      rejections: [{ index: 1, code: 'EVENT_NON_FINITE' }],
    });
  }
  const letters = await keyedLetters(deps);
  t.is(letters.length, 1, 'a re-sent bad line lands one dead letter');
  t.true(letters[0]!.payload.equals(Buffer.from(line)), letters[0]!.payload.toString());
  t.is(letters[0]!.idempotency_key, `http:${createHash('sha256').update(line).digest('hex')}`);
});

test('a JSON array and a single event are accepted; an id makes a resend a duplicate', async (t) => {
  const deps = await setup(t);
  const array = await ingestPayload(deps, { body: JSON.stringify([event('x'), event('y')]), headers: {} });
  t.like(array, { stored: 2, duplicates: 0, rejected: 0, rejections: [] });
  const single = await ingestPayload(deps, { body: Buffer.from(JSON.stringify(event('x'))), headers: {} });
  t.like(single, { stored: 0, duplicates: 1, rejected: 0 });
});

test('a connector record without id is keyed topic:partition:offset whatever the header case', async (t) => {
  const deps = await setup(t);
  const { id: _id, ...anonymous } = event('unused');
  const body = JSON.stringify(anonymous);
  const first = await ingestPayload(deps, {
    body,
    headers: { 'X-Topic': 'hxp.events.raw', 'X-Kafka-Partition': '2', 'X-Kafka-Offset': '41' },
  });
  t.like(first, { stored: 1, duplicates: 0 });
  const second = await ingestPayload(deps, {
    body,
    headers: { 'x-topic': 'hxp.events.raw', 'x-kafka-partition': '2', 'x-kafka-offset': '41' },
  });
  t.like(second, { stored: 0, duplicates: 1 });
  t.deepEqual(
    (await storedRows(deps.db)).map((r) => r.idempotency_key),
    ['hxp.events.raw:2:41'],
  );
  // A connector record that is bad is dead-lettered under the same key, once.
  const headers = { 'X-Topic': 'hxp.events.raw', 'X-Kafka-Partition': '2', 'X-Kafka-Offset': '42' };
  for (let i = 0; i < 2; i++) {
    const bad = await ingestPayload(deps, { body: 'nope', headers });
    t.like(bad, { stored: 0, rejected: 1 });
  }
  const { rows } = await deps.db.query<{ idempotency_key: string; origin: string; kafka_offset: number }>(
    'SELECT idempotency_key, origin, kafka_offset FROM dead_letters',
  );
  t.deepEqual(rows, [{ idempotency_key: 'hxp.events.raw:2:42', origin: 'kafka', kafka_offset: 42 }]);
});

test('a connector record with an id is keyed by it: the same event pushed by HTTP is a duplicate', async (t) => {
  const deps = await setup(t);
  const body = JSON.stringify(event('order-7'));
  const connector = await ingestPayload(deps, {
    body,
    headers: { 'X-Topic': 'hxp.events.raw', 'X-Kafka-Partition': '2', 'X-Kafka-Offset': '41' },
  });
  t.like(connector, { stored: 1, duplicates: 0 });
  // Another record (a producer's retry lands at another offset) and a plain HTTP push: the same event.
  const retried = await ingestPayload(deps, {
    body,
    headers: { 'X-Topic': 'hxp.events.raw', 'X-Kafka-Partition': '0', 'X-Kafka-Offset': '7' },
  });
  t.like(retried, { stored: 0, duplicates: 1, conflictingDuplicates: 0 });
  const http = await ingestPayload(deps, { body: JSON.stringify([event('order-7')]), headers: {} });
  t.like(http, { stored: 0, duplicates: 1, conflictingDuplicates: 0, conflicts: [] });
  t.deepEqual(
    (await storedRows(deps.db)).map((r) => r.idempotency_key),
    ['id:order-7'],
  );
});

test('incomplete or malformed connector headers are a request error naming the headers', async (t) => {
  const deps = await setup(t);
  const body = JSON.stringify(event('z'));
  const partial = await t.throwsAsync(ingestPayload(deps, { body, headers: { 'X-Topic': 't' } }));
  t.true(isBatchError(partial, 'REQUEST_INVALID'));
  t.regex(partial?.message ?? '', /X-Kafka-Partition/);
  const malformed = await t.throwsAsync(
    ingestPayload(deps, {
      body,
      headers: { 'X-Topic': 't', 'X-Kafka-Partition': 'one', 'X-Kafka-Offset': '5' },
    }),
  );
  t.true(isBatchError(malformed, 'REQUEST_INVALID'));
  t.is(await countOf(deps.db, 'SELECT count(*) AS n FROM raw_events'), 0);
});

test('a record stored by its offset before ids were identities stays known: not stored again under its id', async (t) => {
  const deps = await setup(t);
  // What an earlier version left: the record at hxp.events.raw:2:41 claimed by its offset only.
  await deps.db.transaction((c) => claimKafkaOffsets(c, 'hxp.events.raw', 2, ['41']));
  const headers = { 'X-Topic': 'hxp.events.raw', 'X-Kafka-Partition': '2', 'X-Kafka-Offset': '41' };
  const redelivered = await ingestPayload(deps, { body: JSON.stringify(event('legacy-1')), headers });
  t.like(redelivered, { stored: 0, duplicates: 1, conflictingDuplicates: 0 });
  // Its id is known from now on, by every path.
  const http = await ingestPayload(deps, { body: JSON.stringify(event('legacy-1')), headers: {} });
  t.like(http, { stored: 0, duplicates: 1, conflictingDuplicates: 0 });
  t.is(await countOf(deps.db, 'SELECT count(*) AS n FROM raw_events'), 0);
});

test('an event PostgreSQL cannot store keeps its own bytes in its dead letter, as a refused one does', async (t) => {
  const deps = await setup(t);
  // "\u0000" is valid JSON but no text or jsonb column takes it: refused when its row is made, not by the contract
  const line = '{"event_type": "llm_request", "source": "a\\u0000b", "data": {"tokens": 3}}';
  const body = `${JSON.stringify(event('a'))}\n${line}\n`;
  const result = await ingestPayload(deps, { body, headers: { 'content-type': 'application/x-ndjson' } });
  t.like(result, { stored: 1, rejected: 1 });
  const letters = await deadLetters(deps);
  t.deepEqual(
    letters.map((l) => l.reason_code),
    ['INGEST_UNSTORABLE_TEXT'],
  );
  const [letter] = await keyedLetters(deps);
  t.true(letter!.payload.equals(Buffer.from(line)), letter!.payload.toString());
});

test('a valid event after an unstorable one with the same id is stored, not counted a duplicate of it', async (t) => {
  const deps = await setup(t);
  const bad = event('n1', { source: 'a\u0000b' });
  const good = event('n1');
  const result = await ingestPayload(deps, { body: JSON.stringify([bad, good]), headers: {} });
  // the refusal names the bad event's place (0), and the good one is the row kept under the id
  t.like(result, { stored: 1, duplicates: 0, rejected: 1 });
  t.deepEqual(
    result.rejections.map((r) => [r.index, r.code]),
    [[0, 'INGEST_UNSTORABLE_TEXT']],
  );
  t.is(await countOf(deps.db, 'SELECT count(*) AS n FROM raw_events'), 1);
  // two bad ones before it: each its own place
  const twice = await ingestPayload(deps, {
    body: JSON.stringify([
      event('n2', { source: 'x\u0000' }),
      event('n2', { source: 'y\u0000' }),
      event('n2'),
    ]),
    headers: {},
  });
  t.like(twice, { stored: 1, duplicates: 0, rejected: 2 });
  t.deepEqual(
    twice.rejections.map((r) => r.index),
    [0, 1],
  );
  // each bad event is a dead letter of its own, with its own bytes (keyed by them, not by the shared id)
  t.deepEqual(
    (await keyedLetters(deps)).map((l) => JSON.parse(l.payload.toString()).source),
    ['a\u0000b', 'x\u0000', 'y\u0000'],
  );
  // once stored, the id's later events are repeats as before
  const again = await ingestPayload(deps, { body: JSON.stringify(good), headers: {} });
  t.like(again, { stored: 0, duplicates: 1 });
});

// Regression: a pretty-printed array with a missing comma was stored in part, as NDJSON (see events-batch).
test('a JSON array body with a syntax error is refused whole: one dead letter holding the body', async (t) => {
  const deps = await setup(t);
  const lines = [event('a'), event('b'), event('c')].map((e) => JSON.stringify(e));
  const body = `[\n  ${lines[0]},\n  ${lines[1]}\n  ${lines[2]}\n]`;
  const result = await ingestPayload(deps, { body, headers: { 'content-type': 'application/json' } });
  t.like(result, { stored: 0, rejected: 1 });
  t.like(result.rejections[0], { code: 'EVENT_NOT_JSON' });
  t.regex(result.rejections[0]?.reason ?? '', /line 4,? column 3/);
  t.is(await countOf(deps.db, 'SELECT count(*) AS n FROM raw_events'), 0);
  const letters = await deadLetters(deps);
  t.is(letters.length, 1);
  t.is(letters[0]?.payload.toString(), body);
  // A Kafka record is one message and never split into lines: the connector's record is one letter too.
  const connector = { 'x-topic': 'hxp.events.raw', 'x-kafka-partition': '0', 'x-kafka-offset': '7' };
  t.like(await ingestPayload(deps, { body, headers: connector }), { stored: 0, rejected: 1 });
  t.is((await deadLetters(deps)).length, 2);
});
