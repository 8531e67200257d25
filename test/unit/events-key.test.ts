import test from 'ava';
import fc from 'fast-check';
import {
  canonicalJson,
  eventHash,
  normalizeEvent,
  type NormalizeContext,
} from '../../shared/events/index.ts';

const context: NormalizeContext = {
  receivedAt: new Date('2026-11-28T12:00:00Z'),
  limits: { maxEventBytes: 1 << 20, maxFields: 1000, maxFutureSkewMs: 300_000, rawRetentionDays: 30 },
};

function keyOf(raw: unknown, extra: Partial<NormalizeContext> = {}): string {
  const result = normalizeEvent(raw, { ...context, ...extra });
  if (!result.ok) throw new Error(result.rejection.reason);
  return result.event.idempotencyKey;
}

/** Same value with object keys in reverse insertion order at every depth. */
function reorder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorder);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reorder(v)]),
  );
}

const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

test('canonicalJson sorts keys recursively and is independent of key order', (t) => {
  t.is(
    canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } }),
    '{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}',
  );
  fc.assert(
    fc.property(json, (value) => {
      t.is(canonicalJson(reorder(value)), canonicalJson(value));
      t.deepEqual(JSON.parse(canonicalJson(value)), value);
    }),
  );
  t.throws(() => canonicalJson({ x: Number.NaN }), { instanceOf: RangeError });
  t.throws(() => canonicalJson({ x: 1n }), { instanceOf: TypeError });
});

test('eventHash is a hex sha256 of the canonical JSON', (t) => {
  t.regex(eventHash({ a: 1 }), /^[0-9a-f]{64}$/);
  t.is(eventHash({ a: 1, b: 2 }), eventHash({ b: 2, a: 1 }));
  t.not(eventHash({ a: 1 }), eventHash({ a: 2 }));
});

test('idempotency key: id:<id> on every path, then the context key (Kafka coordinates), then sha256:<hash>', (t) => {
  const event = { event_type: 'llm_request', id: 'req-7', data: { latency_ms: 5 } };
  t.is(keyOf(event, { idempotencyKey: 'hxp.events:3:1042' }), 'id:req-7', 'the id wins over the record');
  t.is(keyOf(event), 'id:req-7');
  const { id: _drop, ...anonymous } = event;
  t.is(keyOf(anonymous, { idempotencyKey: 'hxp.events:3:1042' }), 'hxp.events:3:1042');
  t.regex(keyOf(anonymous), /^sha256:[0-9a-f]{64}$/);
  const result = normalizeEvent(event, context);
  t.is(result.ok ? result.event.id : undefined, 'req-7');
});

test('hashed keys: same event twice → same key, independent of JSON key order and instant notation', (t) => {
  fc.assert(
    fc.property(fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 8 }), (data) => {
      const event = { event_type: 'business_event', source: 'shop', data };
      const key = keyOf(JSON.stringify(event));
      t.is(keyOf(JSON.stringify(event)), key);
      t.is(keyOf(JSON.stringify(reorder(event))), key);
      t.is(keyOf(reorder(event)), key);
    }),
  );
  const base = { event_type: 'a', data: { x: 1 } };
  t.is(
    keyOf({ ...base, timestamp: '2026-11-28T10:15:00Z' }),
    keyOf({ ...base, timestamp: '2026-11-28T11:15:00+01:00' }),
  );
  t.is(keyOf(base), keyOf({ ...base, source: 'unknown' }));
  t.is(keyOf(base), keyOf(base, { recordTimestamp: new Date('2026-11-28T11:00:00Z') }));
  t.not(keyOf(base), keyOf({ ...base, data: { x: 2 } }));
  t.not(keyOf(base), keyOf({ ...base, timestamp: '2026-11-28T10:15:00Z' }));
});
