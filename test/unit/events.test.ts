import test from 'ava';
import { errorCodes } from '../../shared/errors/index.ts';
import {
  REJECTION_CODES,
  normalizeEvent,
  type NormalizeContext,
  type NormalizeResult,
  type NormalizedEvent,
  type Rejection,
} from '../../shared/events/index.ts';

const receivedAt = new Date('2026-11-28T12:00:00Z');
const context: NormalizeContext = {
  receivedAt,
  limits: { maxEventBytes: 4096, maxFields: 8, maxFutureSkewMs: 5 * 60_000, rawRetentionDays: 30 },
};

const llmRequest = {
  event_type: 'llm_request',
  timestamp: '2026-11-28T10:15:00Z',
  source: 'api-1',
  data: {
    model: 'llama-3-70b',
    latency_ms: 812,
    tokens_in: 350,
    tokens_out: 120,
    cost_usd: 0.0042,
    error: false,
  },
};

function accepted(result: NormalizeResult): NormalizedEvent {
  if (!result.ok)
    throw new Error(`unexpected rejection: ${result.rejection.code} ${result.rejection.reason}`);
  return result.event;
}

function rejected(result: NormalizeResult): Rejection {
  if (result.ok) throw new Error('expected a rejection');
  return result.rejection;
}

test('the DESIGN.md example normalises into sorted metrics, booleans as 0/1, and the model dimension', (t) => {
  const event = accepted(normalizeEvent(JSON.stringify(llmRequest), context));
  t.is(event.eventType, 'llm_request');
  t.is(event.source, 'api-1');
  t.deepEqual(event.timestamp, new Date('2026-11-28T10:15:00Z'));
  t.is(event.timestampSource, 'event');
  t.deepEqual(event.metricNames, ['cost_usd', 'error', 'latency_ms', 'tokens_in', 'tokens_out']);
  t.deepEqual(event.metricValues, [0.0042, 0, 812, 350, 120]);
  t.deepEqual(event.dimensionNames, ['model']);
  t.deepEqual(event.dimensionValues, ['llama-3-70b']);
  t.deepEqual(event.data, llmRequest.data);
});

test('string, Buffer and object inputs normalise alike', (t) => {
  const fromString = accepted(normalizeEvent(JSON.stringify(llmRequest), context));
  const fromBuffer = accepted(normalizeEvent(Buffer.from(JSON.stringify(llmRequest)), context));
  const fromObject = accepted(normalizeEvent(llmRequest, context));
  t.deepEqual(fromBuffer, fromString);
  t.deepEqual(fromObject, fromString);
});

test('booleans become 0/1 metrics; other strings and nested values stay in data only', (t) => {
  const event = accepted(
    normalizeEvent(
      {
        event_type: 'llm_request',
        data: {
          error: true,
          cached: false,
          prompt: 'hello',
          tags: ['a', 1],
          meta: { depth: 2 },
          nothing: null,
        },
      },
      context,
    ),
  );
  t.deepEqual(event.metricNames, ['cached', 'error']);
  t.deepEqual(event.metricValues, [0, 1]);
  t.deepEqual(event.dimensionNames, []);
  t.deepEqual(event.data.meta, { depth: 2 });
  t.is(event.data.prompt, 'hello');
});

test('dimensions: configured string keys only, sorted; a numeric value of a dimension key is a metric', (t) => {
  const raw = {
    event_type: 'llm_request',
    source: 'api-2',
    data: { region: 'eu-west', model: 'm-1', tier: 3, user: 'u-9' },
  };
  const event = accepted(normalizeEvent(raw, { ...context, dimensionKeys: ['tier', 'region', 'model'] }));
  t.deepEqual(event.dimensionNames, ['model', 'region']);
  t.deepEqual(event.dimensionValues, ['m-1', 'eu-west']);
  t.deepEqual(event.metricNames, ['tier']);
  t.deepEqual(accepted(normalizeEvent(raw, context)).dimensionNames, ['model']);
});

test('timestamp fallback: event timestamp, then Kafka record timestamp, then receivedAt', (t) => {
  const recordTimestamp = new Date('2026-11-28T11:59:00Z');
  const withTs = accepted(normalizeEvent({ ...llmRequest }, { ...context, recordTimestamp }));
  t.deepEqual(withTs.timestamp, new Date('2026-11-28T10:15:00Z'));
  t.is(withTs.timestampSource, 'event');

  const { timestamp: _drop, ...noTimestamp } = llmRequest;
  const fromRecord = accepted(normalizeEvent(noTimestamp, { ...context, recordTimestamp }));
  t.deepEqual(fromRecord.timestamp, recordTimestamp);
  t.is(fromRecord.timestampSource, 'record');

  const fromReceived = accepted(normalizeEvent(noTimestamp, context));
  t.deepEqual(fromReceived.timestamp, receivedAt);
  t.is(fromReceived.timestampSource, 'received');
  t.not(fromReceived.timestamp, receivedAt, 'a copy, not the caller’s Date');

  const nullTimestamp = accepted(
    normalizeEvent({ ...llmRequest, timestamp: null }, { ...context, recordTimestamp }),
  );
  t.is(nullTimestamp.timestampSource, 'record');
});

test('timestamps: ISO with Z or an offset, and epoch milliseconds', (t) => {
  const at = (timestamp: unknown) =>
    accepted(normalizeEvent({ ...llmRequest, timestamp }, context)).timestamp;
  t.deepEqual(at('2026-11-28T11:15:00+01:00'), new Date('2026-11-28T10:15:00Z'));
  t.deepEqual(at('2026-11-28T10:15:00.123456Z'), new Date('2026-11-28T10:15:00.123Z'));
  t.deepEqual(at(Date.parse('2026-11-28T10:15:00Z')), new Date('2026-11-28T10:15:00Z'));
});

test('source defaults to unknown', (t) => {
  t.is(
    accepted(normalizeEvent({ event_type: 'system_metric', data: { cpu_usage: 75 } }, context)).source,
    'unknown',
  );
  t.is(accepted(normalizeEvent({ event_type: 'x', source: null, data: {} }, context)).source, 'unknown');
});

test('every rejection code is in the shared error catalogue', (t) => {
  for (const code of REJECTION_CODES) t.true(errorCodes.includes(code), code);
});

test('EVENT_NOT_JSON: text that is not JSON, invalid UTF-8, bigints and cycles', (t) => {
  const notJson = rejected(normalizeEvent('{"event_type": "llm_request", data: {}}', context));
  t.is(notJson.code, 'EVENT_NOT_JSON');
  t.regex(notJson.reason, /not valid JSON .*"\{\\"event_type\\".*expected one JSON object/);

  t.is(rejected(normalizeEvent(Buffer.from([0x7b, 0xff, 0x7d]), context)).code, 'EVENT_NOT_JSON');

  const big = rejected(normalizeEvent({ event_type: 'a', data: { n: 10n } }, context));
  t.like(big, { code: 'EVENT_NOT_JSON', field: 'data.n' });
  t.regex(big.reason, /"data\.n" is a bigint \(10n\)/);

  const cyclic: Record<string, unknown> = { event_type: 'a' };
  cyclic.data = { self: cyclic };
  t.like(rejected(normalizeEvent(cyclic, context)), { code: 'EVENT_NOT_JSON', field: 'data.self' });
});

test('EVENT_SCHEMA names the field, shows the value and the expected form', (t) => {
  const cases: [unknown, string, RegExp][] = [
    [
      { event_type: 'LLM Request', data: {} },
      'event_type',
      /"event_type" must use only a-z.*got "LLM Request"/,
    ],
    [{ data: {} }, 'event_type', /"event_type" is required; got nothing/],
    [{ event_type: 'a'.repeat(101), data: {} }, 'event_type', /at most 100 characters/],
    [{ event_type: 'a', data: [1, 2] }, 'data', /"data" must be a JSON object of fields.*got \[1,2\]/],
    [{ event_type: 'a' }, 'data', /"data" is required/],
    [
      { event_type: 'a', timestamp: '2026-11-28 10:15', data: {} },
      'timestamp',
      /ISO-8601.*got "2026-11-28 10:15"/,
    ],
    [{ event_type: 'a', timestamp: '2026-11-28T10:15:00', data: {} }, 'timestamp', /with a zone/],
    [{ event_type: 'a', timestamp: 1.5, data: {} }, 'timestamp', /epoch milliseconds.*got 1\.5/],
    [{ event_type: 'a', id: 42, data: {} }, 'id', /"id" must be a string.*got 42/],
    [{ event_type: 'a', id: 'x'.repeat(201), data: {} }, 'id', /"id" must be at most 200 characters/],
    [{ event_type: 'a', source: 7, data: {} }, 'source', /"source" must be a string.*got 7/],
  ];
  for (const [raw, field, reason] of cases) {
    const r = rejected(normalizeEvent(raw, context));
    t.is(r.code, 'EVENT_SCHEMA', field);
    t.is(r.field, field);
    t.regex(r.reason, reason);
  }
  const notObject = rejected(normalizeEvent('[1,2]', context));
  t.is(notObject.code, 'EVENT_SCHEMA');
  t.is(notObject.field, undefined);
  t.regex(notObject.reason, /event must be a JSON object.*got \[1,2\]/);
});

test('EVENT_NON_FINITE: NaN/Infinity in object input, and JSON numbers that overflow float8', (t) => {
  const overflow = rejected(normalizeEvent('{"event_type":"a","data":{"latency_ms":1e400}}', context));
  t.like(overflow, { code: 'EVENT_NON_FINITE', field: 'data.latency_ms' });
  t.regex(overflow.reason, /"data\.latency_ms" is Infinity; numbers must be finite/);

  const nested = rejected(normalizeEvent({ event_type: 'a', data: { x: { y: [1, Number.NaN] } } }, context));
  t.like(nested, { code: 'EVENT_NON_FINITE', field: 'data.x.y[1]' });
  t.regex(nested.reason, /"data\.x\.y\[1\]" is NaN/);
});

test('EVENT_TOO_LARGE: more bytes than maxEventBytes (UTF-8 bytes, not characters)', (t) => {
  const limits = { ...context.limits, maxEventBytes: 100 };
  const text = JSON.stringify({ event_type: 'a', data: { note: 'é'.repeat(40) } });
  t.true(text.length <= 100);
  const r = rejected(normalizeEvent(text, { ...context, limits }));
  t.is(r.code, 'EVENT_TOO_LARGE');
  t.regex(r.reason, new RegExp(`event is ${Buffer.byteLength(text)} bytes; at most 100 bytes`));
  t.is(rejected(normalizeEvent(JSON.parse(text), { ...context, limits })).code, 'EVENT_TOO_LARGE');
});

test('EVENT_TOO_MANY_FIELDS: more data fields than maxFields', (t) => {
  const data = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`m${i}`, i]));
  const r = rejected(normalizeEvent({ event_type: 'a', data }, context));
  t.like(r, { code: 'EVENT_TOO_MANY_FIELDS', field: 'data' });
  t.regex(r.reason, /"data" has 9 fields; at most 8/);
  t.true(normalizeEvent({ event_type: 'a', data: { ...data, m8: undefined } }, context).ok);
});

test('EVENT_TOO_FAR_IN_FUTURE: beyond receivedAt + maxFutureSkewMs, for event and record timestamps', (t) => {
  const edge = new Date(receivedAt.getTime() + 5 * 60_000).toISOString();
  t.true(normalizeEvent({ ...llmRequest, timestamp: edge }, context).ok);
  const r = rejected(normalizeEvent({ ...llmRequest, timestamp: '2026-11-28T14:00:00+00:00' }, context));
  t.like(r, { code: 'EVENT_TOO_FAR_IN_FUTURE', field: 'timestamp' });
  t.regex(
    r.reason,
    /"timestamp" \("2026-11-28T14:00:00\+00:00" = 2026-11-28T14:00:00\.000Z\) is 2\.0 h after the event was received/,
  );
  t.regex(r.reason, /at most 5 min ahead/);

  const { timestamp: _drop, ...noTimestamp } = llmRequest;
  const record = rejected(
    normalizeEvent(noTimestamp, { ...context, recordTimestamp: new Date('2026-11-29T12:00:00Z') }),
  );
  t.is(record.code, 'EVENT_TOO_FAR_IN_FUTURE');
  t.is(record.field, undefined);
  t.regex(record.reason, /Kafka record timestamp/);
});

test('EVENT_TOO_OLD: older than rawRetentionDays before receivedAt, with a hint for epoch seconds', (t) => {
  const edge = new Date(receivedAt.getTime() - 30 * 86_400_000).toISOString();
  t.true(normalizeEvent({ ...llmRequest, timestamp: edge }, context).ok);
  const r = rejected(normalizeEvent({ ...llmRequest, timestamp: '2026-10-01T00:00:00Z' }, context));
  t.like(r, { code: 'EVENT_TOO_OLD', field: 'timestamp' });
  t.regex(
    r.reason,
    /older than the 30-day raw retention; the earliest accepted time is 2026-10-29T12:00:00\.000Z/,
  );
  const seconds = rejected(normalizeEvent({ ...llmRequest, timestamp: 1764324900 }, context));
  t.is(seconds.code, 'EVENT_TOO_OLD');
  t.regex(seconds.reason, /looks like epoch seconds; send epoch milliseconds/);
});

test('a bad context is a programming error, not a rejection', (t) => {
  t.throws(() => normalizeEvent(llmRequest, { ...context, receivedAt: new Date('nope') }), {
    instanceOf: TypeError,
  });
});

test('a known metric field that is not a number is refused with the field named, not stored and left out', (t) => {
  // A new user's `latency_ms: "fast"` was stored with 200 and silently missing from the aggregates.
  const fast = rejected(
    normalizeEvent({ ...llmRequest, data: { ...llmRequest.data, latency_ms: 'fast' } }, context),
  );
  t.is(fast.code, 'EVENT_SCHEMA');
  t.is(fast.field, 'data.latency_ms');
  t.regex(fast.reason, /"data\.latency_ms" is a metric of llm_request and must be a number .*got "fast"/);
  t.is(
    rejected(normalizeEvent({ event_type: 'system_metric', data: { cpu_usage: { pct: 75 } } }, context))
      .field,
    'data.cpu_usage',
  );
  t.is(
    rejected(normalizeEvent({ event_type: 'user_feedback', data: { rating: '5' } }, context)).code,
    'EVENT_SCHEMA',
  );
  // Numbers, booleans and null (absent) are fine; another type, or another field, may hold a string.
  t.deepEqual(
    accepted(normalizeEvent({ ...llmRequest, data: { latency_ms: null, error: true } }, context)).metricNames,
    ['error'],
  );
  const other = accepted(
    normalizeEvent({ event_type: 'custom', data: { latency_ms: 'fast', n: 1 } }, context),
  );
  t.deepEqual(other.metricNames, ['n']);
  const note = accepted(
    normalizeEvent({ ...llmRequest, data: { ...llmRequest.data, note: 'slow' } }, context),
  );
  t.is(note.data.note, 'slow', 'other strings are kept raw');
});
