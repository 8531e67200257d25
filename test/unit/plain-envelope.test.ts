// plainEnvelope is a fast path in front of EventEnvelopeSchema: whenever it answers, it must answer
// exactly what the schema gives; anything it does not answer goes to the schema.
import test from 'ava';
import fc from 'fast-check';
import { EventEnvelopeSchema } from '../../shared/events/index.ts';
import { plainEnvelope } from '../../shared/events/plain-envelope.ts';

const texts = fc.oneof(
  fc.constantFrom(
    'llm_request',
    'system_metric',
    'a',
    '',
    'Upper',
    'x'.repeat(100),
    'x'.repeat(101),
    'api-1',
  ),
  fc.string({ maxLength: 8 }),
);
const timestamps = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    '2026-11-28T10:15:00Z',
    '2026-11-28T11:15:00.123+01:00',
    '2028-02-29T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-11-28 10:15:00Z',
    '2026-11-28T10:15:00',
    1764325000000,
    0,
    -1,
    1.5,
    8.64e15,
    8.64e15 + 1,
    Number.MAX_SAFE_INTEGER + 2,
  ),
  fc.integer(),
  fc.string({ maxLength: 4 }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const datas = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }),
  fc.constantFrom(null, [], 'text', 5, JSON.parse('{"__proto__": 1, "x": 2}') as unknown, undefined),
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
// Mostly well-formed fields (so the fast path answers often), each sometimes replaced by an odd one.
const mostly = <T, U>(good: fc.Arbitrary<T>, odd: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: odd, weight: 1 });
const envelopes = fc.record(
  {
    event_type: mostly(
      fc.constantFrom('llm_request', 'system_metric', 'a-b.c_9'),
      fc.oneof(texts, fc.integer()),
    ),
    timestamp: mostly(fc.constantFrom(undefined, '2026-11-28T10:15:00Z', 1764325000000), timestamps),
    source: mostly(fc.constantFrom(undefined, 'api-1'), fc.oneof(texts, fc.constant(null), fc.integer())),
    id: mostly(fc.constantFrom(undefined, 'req-1'), fc.oneof(texts, fc.constant(null), fc.integer())),
    data: mostly(
      fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }),
      datas,
    ),
    extra: optional(fc.string()),
  },
  { requiredKeys: ['event_type', 'data'] },
);

test('plainEnvelope answers only what EventEnvelopeSchema answers, and the same', (t) => {
  let answered = 0;
  fc.assert(
    fc.property(fc.oneof(envelopes, fc.jsonValue({ maxDepth: 2 })), (value) => {
      const fast = plainEnvelope(value);
      if (fast === undefined) return;
      answered++;
      const parsed = EventEnvelopeSchema.safeParse(value);
      t.true(parsed.success, `the fast path accepted what the schema refuses: ${JSON.stringify(value)}`);
      if (!parsed.success) return;
      t.is(fast.event_type, parsed.data.event_type);
      t.is(fast.timestamp, parsed.data.timestamp);
      t.is(fast.source, parsed.data.source);
      t.is(fast.id, parsed.data.id);
      t.deepEqual(fast.data, parsed.data.data);
      t.deepEqual(Object.keys(fast.data), Object.keys(parsed.data.data));
    }),
    { numRuns: 5000 },
  );
  t.true(answered > 200, `the fast path answered ${answered} of 5000 generated envelopes`);
});

test('plainEnvelope takes the ordinary event and leaves the odd ones to the schema', (t) => {
  const ordinary = {
    event_type: 'llm_request',
    timestamp: '2026-11-28T10:15:00Z',
    source: 'api-1',
    data: { model: 'llama-3-70b', latency_ms: 812, error: false },
  };
  t.deepEqual(plainEnvelope(ordinary), { ...ordinary, id: undefined });
  t.is(plainEnvelope({ ...ordinary, source: 'unknown' })?.source, 'unknown');
  t.is(plainEnvelope({ event_type: 'x', data: {} })?.source, 'unknown');
  t.is(plainEnvelope({ ...ordinary, source: null }), undefined, 'null source: the schema decides');
  t.is(plainEnvelope({ ...ordinary, timestamp: '2026-13-01T00:00:00Z' }), undefined);
  t.is(plainEnvelope({ ...ordinary, data: JSON.parse('{"__proto__": {"x": 1}}') as unknown }), undefined);
  t.is(plainEnvelope([ordinary]), undefined);
});
