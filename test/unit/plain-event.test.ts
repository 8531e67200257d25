// normalizePlainEvent is a fast path in front of normalizeEvent for Kafka records: whenever it answers, the
// row it gives must be exactly the row the general path renders; everything else goes the general way.
import test from 'ava';
import fc from 'fast-check';
import { generateDemoEvents } from '../../runtime/demo/generate.ts';
import { normalizeEvent, type NormalizeContext } from '../../shared/events/index.ts';
import { KNOWN_METRIC_FIELDS } from '../../shared/events/metric-fields.ts';
import { normalizePlainEvent, type PlainNormalizedEvent } from '../../shared/events/normalize-plain.ts';
import { DEFAULT_LIMITS } from '../../shared/ingest/normalize.ts';
import { RowPreparer, type RowFormat } from '../../shared/ingest/prepare-rows.ts';
import { buildPriceTable, type PriceTable } from '../../shared/pricing/index.ts';

const context: NormalizeContext = {
  receivedAt: new Date('2026-11-28T12:00:00Z'),
  limits: DEFAULT_LIMITS,
  dimensionKeys: ['model', 'region'],
};
const KEY = 'llm.events:3:1234';

const built = buildPriceTable(
  [
    { model: 'gpt-4o', input_usd_per_1k: 0.0025, output_usd_per_1k: 0.01, cached_input_usd_per_1k: 0.00125 },
    { model: 'llama-3-70b', input_usd_per_1k: 0.0009, output_usd_per_1k: 0.0009 },
    {
      model: 'llama-3-70b',
      input_usd_per_1k: 0.0005,
      output_usd_per_1k: 0.0007,
      valid_from: '2026-11-28T10:00:00Z',
    },
  ],
  'UTC',
);
if (!built.ok) throw new Error(built.problems.join('; '));
const prices: PriceTable = built.table;
/** With a price table: the cost inference must add the same metrics on both paths. */
const priced: NormalizeContext = { ...context, prices };
/** `model` not a dimension: the fast path cannot read data.model and must hand priced events over. */
const pricedNoModelDimension: NormalizeContext = { ...context, prices, dimensionKeys: ['region'] };

const mostly = <T>(good: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: good, weight: 12 }, { arbitrary: odd, weight: 1 });
const rarely = fc.integer({ min: 0, max: 7 }).map((n) => n === 0);
const sometimes = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined, freq: 8 });

const numberTexts = mostly(
  fc.oneof(
    fc.integer().map(String),
    fc
      .tuple(fc.integer({ min: -1e7, max: 1e7 }), fc.integer({ min: 0, max: 9 }))
      .map(([n, k]) => String(n / 10 ** k)),
  ),
  fc.oneof(
    fc.constantFrom(
      '0',
      '-0',
      '-0.0',
      '1',
      '1.5',
      '1.50',
      '1.0',
      '1e5',
      '1E-7',
      '0.000001',
      '0.0000001',
      '-0.5',
      '123456789012345',
      '1234567890123456',
      '9007199254740993',
      '100000000000000000000',
      '1e999',
      '0.1',
      '00',
      '1.',
      '-',
    ),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  ),
);
const stringTexts = mostly(
  fc.constantFrom('"gpt-4o"', '"llama-3-70b"', '""', '"é✓🙂"', '"NULL"', '"{x}"', '"it\'s"'),
  fc.oneof(
    fc.constantFrom('"a\\"b"', '"tab\\there"'),
    fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
    fc.string({ maxLength: 4, unit: 'binary' }).map((s) => JSON.stringify(s)),
  ),
);
const valueTexts = fc.oneof(
  { arbitrary: numberTexts, weight: 4 },
  { arbitrary: stringTexts, weight: 2 },
  {
    arbitrary: mostly(
      fc.constantFrom('true', 'false', 'null'),
      fc.constantFrom('{}', '[1]', '{"a":1}', 'tru'),
    ),
    weight: 1,
  },
);
const keyTexts = mostly(
  fc.constantFrom(
    'latency_ms',
    'model',
    'region',
    'tokens_in',
    'tokens_out',
    'tokens_cached',
    'cost_usd',
    'error',
    'a',
    'b',
    'é',
    '-1',
    'x y',
  ),
  fc.oneof(fc.constantFrom('0', '12', '__proto__', '', 'a\tb'), fc.string({ maxLength: 4 })),
);
// A producer writes numbers into the known metric fields of its type; now and then it does not, and the
// event is refused (docs/events.md) — often enough to test, not so often that few events reach the fast path.
const metricKeys = new Set(KNOWN_METRIC_FIELDS.llm_request);
const fieldPairs = keyTexts.chain((key) =>
  fc.tuple(fc.constant(key), metricKeys.has(key) ? mostly(numberTexts, valueTexts) : valueTexts),
);
// Keys mostly distinct; now and then one repeated (JSON.parse keeps the last value, in the first one's place).
const dataTexts = fc
  .tuple(fc.uniqueArray(fieldPairs, { selector: ([k]) => k, maxLength: 7 }), rarely)
  .map(([fields, repeat]) => {
    const first = fields[0];
    const all = repeat && first ? [...fields, first] : fields;
    return '{' + all.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}';
  });
const timestampTexts = fc.oneof(
  fc.constantFrom(
    '"2026-11-28T10:15:00.000Z"',
    '"2026-11-28T10:15:00Z"',
    '"2026-11-28T11:15:00.123+01:00"',
    '"2028-02-29T00:00:00.000Z"',
    '"2026-02-29T00:00:00.000Z"',
    '"2026-11-28T24:00:00.000Z"',
    '"2026-11-28T10:60:00.000Z"',
    '"2026-11-28t10:15:00.000Z"',
    '"2025-01-01T00:00:00.000Z"',
    '"2027-01-01T00:00:00.000Z"',
    '"0099-01-01T00:00:00.000Z"',
    String(Date.parse('2026-11-28T10:00:00Z')),
    String(Date.parse('2026-11-28T10:00:00Z') + 0.5),
    '1764325000000',
    '-1',
    'null',
  ),
  fc
    .date({
      min: new Date('2026-10-20T00:00:00Z'),
      max: new Date('2026-11-29T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => JSON.stringify(d.toISOString())),
);
const optionalText = mostly(
  fc.constantFrom('"api-1"', '"é"', JSON.stringify('x'.repeat(200))),
  fc.constantFrom('null', '""', '1', JSON.stringify('x'.repeat(201))),
);
const fieldTexts = fc.record({
  event_type: sometimes(
    mostly(fc.constant('"llm_request"'), fc.constantFrom('"Bad"', '""', '1', '"a-b.c_9"')),
  ),
  timestamp: sometimes(mostly(fc.constant('"2026-11-28T10:15:00.000Z"'), timestampTexts)),
  source: sometimes(optionalText),
  id: fc.option(optionalText, { nil: undefined }),
  data: sometimes(mostly(dataTexts, fc.constantFrom('null', '[]', '{"a":{"b":1}}', '5'))),
  extra: rarely.map((present) => (present ? '1' : undefined)),
});
// An event as a producer might write it: fields in any order, now and then repeated, spaced, wrapped.
const eventBytes = fc
  .tuple(
    fieldTexts,
    rarely,
    mostly(fc.constant(','), fc.constant(', ')),
    mostly(fc.constant(''), fc.constantFrom('\uFEFF', ' ', '\n')),
    mostly(fc.constant(''), fc.constantFrom('\n', ' ')),
    rarely,
  )
  .chain(([fields, repeat, comma, before, after, invalidUtf8]) => {
    const entries = Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined);
    if (repeat && entries.length > 0) entries.push(entries[0] as [string, string]);
    return fc.shuffledSubarray(entries, { minLength: entries.length }).map((shuffled) => {
      const text = before + '{' + shuffled.map(([k, v]) => `"${k}":${v}`).join(comma) + '}' + after;
      const bytes = Buffer.from(text);
      // A string holding bytes that are not UTF-8.
      return invalidUtf8
        ? Buffer.concat([bytes.subarray(0, -8), Buffer.from([0xc3, 0x28]), bytes.subarray(-8)])
        : bytes;
    });
  });

function renderedBoth(
  plain: PlainNormalizedEvent,
  raw: Buffer,
  format: RowFormat,
  ctx: NormalizeContext = context,
) {
  const general = normalizeEvent(raw, { ...ctx, idempotencyKey: KEY });
  if (!general.ok) return undefined;
  const fast = new RowPreparer(format, 'kafka');
  fast.addPlain(KEY, undefined, plain);
  const slow = new RowPreparer(format, 'kafka');
  slow.add(general.event);
  const text = (p: RowPreparer) => {
    const done = p.done();
    // Bytes compared as base64: a UTF-8 decode could make two different rows look alike.
    return done.copyRows ? Buffer.concat(done.copyRows.chunks()).toString('base64') : done.rows.json(0);
  };
  return { fast: text(fast), slow: text(slow), general: general.event };
}

for (const [name, ctx] of [
  ['', context],
  [' (with a price table)', priced],
  [' (with a price table, model not a dimension)', pricedNoModelDimension],
] as const) {
  test(`normalizePlainEvent answers only events the general path stores, with the same row${name}`, (t) => {
    let answered = 0;
    let runs = 0;
    let inferred = 0;
    fc.assert(
      fc.property(eventBytes, (raw) => {
        runs++;
        const plain = normalizePlainEvent(raw, ctx);
        if (plain === undefined) return;
        answered++;
        if (plain.cost === 'inferred') inferred++;
        const both = renderedBoth(plain, raw, 'copy', ctx);
        if (both === undefined) {
          t.fail(`the fast path accepted what normalizeEvent refuses: ${raw.toString()}`);
          return;
        }
        t.is(both.fast, both.slow, raw.toString());
        t.is(plain.isoTimestamp, both.general.timestamp.toISOString());
        t.deepEqual(plain.metricTexts, both.general.metricValues.map(String));
        t.is(plain.dataJson, JSON.stringify(both.general.data));
        const json = renderedBoth(plain, raw, 'json', ctx);
        t.is(plain.cost, both.general.cost);
        t.is(json?.fast, json?.slow);
      }),
      // One fixed sample: the usefulness bound below counts it, and a fresh random sample each run landed
      // within two standard deviations of the bound (a flake, not a finding).
      { numRuns: 3000, seed: 20261128 },
    );
    // The generator is tilted towards plain events: a fast path that answered almost nothing would pass the
    // checks above while being useless.
    t.log(`answered ${answered} of ${runs}, ${inferred} with an inferred cost`);
    t.true(answered > runs * 0.1, `answered ${answered} of ${runs}`);
  });
}

/** llm_request events as metering producers write them: model, token counts, sometimes a cost. */
const pricedRequests = fc
  .record({
    model: fc.constantFrom('"gpt-4o"', '"llama-3-70b"', '"mystery"', '"NULL"', '1', 'null'),
    tokens_in: sometimes(
      fc.oneof(fc.nat({ max: 100_000 }).map(String), fc.constantFrom('-5', '0.5', 'true')),
    ),
    tokens_out: sometimes(fc.nat({ max: 20_000 }).map(String)),
    tokens_cached: sometimes(fc.nat({ max: 100_000 }).map(String)),
    cost_usd: fc.option(fc.constantFrom('0.0042', '0', 'null', '"0.1"', 'true'), { nil: undefined, freq: 3 }),
    latency_ms: fc.nat({ max: 10_000 }).map(String),
  })
  .chain((fields) =>
    fc
      .constantFrom('2026-11-28T09:59:59.999Z', '2026-11-28T10:00:00.000Z', '2026-11-27T00:00:00.000Z')
      .map((timestamp) => {
        const data = Object.entries(fields)
          .filter((e): e is [string, string] => e[1] !== undefined)
          .map(([k, v]) => `"${k}":${v}`)
          .join(',');
        return Buffer.from(`{"event_type":"llm_request","timestamp":"${timestamp}","data":{${data}}}`);
      }),
  );

for (const [name, ctx] of [
  ['', priced],
  [', model not a dimension', pricedNoModelDimension],
] as const) {
  test(`priced llm_request events: the fast path gives the general path's row and cost outcome${name}`, (t) => {
    const outcomes = { inferred: 0, unpriced: 0, none: 0, handedOver: 0 };
    fc.assert(
      fc.property(pricedRequests, (raw) => {
        const plain = normalizePlainEvent(raw, ctx);
        const general = normalizeEvent(raw, { ...ctx, idempotencyKey: KEY });
        if (plain === undefined) {
          outcomes.handedOver++;
          return;
        }
        outcomes[plain.cost ?? 'none']++;
        t.true(general.ok, raw.toString());
        const both = renderedBoth(plain, raw, 'copy', ctx);
        t.is(both?.fast, both?.slow, raw.toString());
        t.is(plain.cost, both?.general.cost, raw.toString());
      }),
      { numRuns: 2000 },
    );
    t.log(JSON.stringify(outcomes));
    if (ctx === priced) {
      t.true(
        outcomes.inferred > 100 && outcomes.unpriced > 20 && outcomes.none > 100,
        JSON.stringify(outcomes),
      );
    } else {
      // Without model among the dimensions every event the price table applies to goes the general way.
      t.is(outcomes.inferred + outcomes.unpriced, 0);
      t.true(outcomes.handedOver > 100);
    }
  });
}

test('normalizePlainEvent answers every event of the demo stream (what the benchmark ingests)', (t) => {
  const now = new Date('2026-11-28T12:30:00Z');
  let count = 0;
  for (const event of generateDemoEvents({ now, days: 1, seed: 3 })) {
    const raw = Buffer.from(JSON.stringify(event));
    const plain = normalizePlainEvent(raw, context);
    if (!plain) t.fail(`not answered: ${raw.toString()}`);
    else t.is(renderedBoth(plain, raw, 'copy')?.fast, renderedBoth(plain, raw, 'copy')?.slow);
    count++;
  }
  t.true(count > 1000);
});

const plainOf = (text: string) => normalizePlainEvent(Buffer.from(text), context);
const withData = (data: string) =>
  `{"event_type":"llm_request","timestamp":"2026-11-28T10:15:00.000Z","data":${data}}`;

test('number literals are taken as written only in the form String() writes', (t) => {
  for (const literal of ['0', '-0.5', '0.000001', '123456789012345', '207.5', '-3']) {
    t.deepEqual(plainOf(withData(`{"x":${literal}}`))?.metricTexts, [literal], literal);
  }
  for (const literal of ['-0', '1.50', '1.0', '1e5', '0.0000001', '1234567890123456', '1e999']) {
    t.is(plainOf(withData(`{"x":${literal}}`)), undefined, literal);
  }
});

test('timestamps: the toISOString form is checked field by field, other valid forms are rendered in it', (t) => {
  // Accepting 60 years back and 400 ahead of 2028-03-01, so that the age checks hide no calendar check.
  const year = 366 * 86_400_000;
  const wide = {
    ...context,
    receivedAt: new Date('2028-03-01T00:00:00Z'),
    limits: { ...DEFAULT_LIMITS, rawRetentionDays: 60 * 366, maxFutureSkewMs: 400 * year },
  };
  const at = (timestamp: string) =>
    normalizePlainEvent(Buffer.from(`{"event_type":"a","timestamp":${timestamp},"data":{}}`), wide)
      ?.isoTimestamp;
  for (const valid of [
    '2028-02-29T23:59:59.999Z',
    '2000-02-29T00:00:00.000Z',
    '2027-12-31T00:00:00.000Z',
    '2400-02-29T00:00:00.000Z',
  ]) {
    t.is(at(JSON.stringify(valid)), valid);
  }
  for (const invalid of [
    '2026-02-29T00:00:00.000Z',
    '2100-02-29T00:00:00.000Z',
    '2027-11-31T00:00:00.000Z',
    '2027-13-01T00:00:00.000Z',
    '2028-02-28T24:00:00.000Z',
    '2027-11-28T10:60:00.000Z',
    '2027-11-28T10:15:60.000Z',
    '0099-01-01T00:00:00.000Z',
  ]) {
    t.is(at(JSON.stringify(invalid)), undefined, invalid);
  }
  t.is(at('"2027-11-28T11:15:00+01:00"'), '2027-11-28T10:15:00.000Z');
  t.is(at('"2027-11-28T10:15:00Z"'), '2027-11-28T10:15:00.000Z');
  t.is(at(String(Date.parse('2027-11-28T10:00:00Z'))), '2027-11-28T10:00:00.000Z');
  // Out of the accepted range (30 days back, 5 minutes ahead): refused by the general path, with a message.
  const inDefault = (timestamp: string) => plainOf(`{"event_type":"a","timestamp":${timestamp},"data":{}}`);
  t.truthy(inDefault('"2026-11-28T10:00:00.000Z"'));
  t.is(inDefault('"2026-10-01T00:00:00.000Z"'), undefined);
  t.is(inDefault('"2026-11-28T12:06:00.000Z"'), undefined);
  // No timestamp: the Kafka record's time is the general path's business.
  t.is(plainOf('{"event_type":"a","data":{}}'), undefined);
});

test('only one compact object with known top-level fields is answered', (t) => {
  const base = '{"event_type":"a","timestamp":"2026-11-28T10:00:00.000Z","data":{"x":1}}';
  t.truthy(plainOf(base));
  for (const odd of [
    base + 'x',
    base + '}',
    base + ' ',
    ' ' + base,
    base.replace(',"data"', ', "data"'),
    base.replace('{"x":1}', '{"x":1,"x":2}'),
    base.replace('"a"', '"a","event_type":"a"'),
    base.replace('"a"', '"a","extra":1'),
  ]) {
    t.is(plainOf(odd), undefined, odd);
  }
});

test('data is sorted into metrics and configured dimensions, and kept as written', (t) => {
  const plain = plainOf(
    withData('{"tokens":12,"model":"m-1","error":false,"note":"hi","region":"eu","z":null}'),
  );
  t.deepEqual(plain?.metricNames, ['error', 'tokens']);
  t.deepEqual(plain?.metricTexts, ['0', '12']);
  t.deepEqual(plain?.dimensionNames, ['model', 'region']);
  t.deepEqual(plain?.dimensionValues, ['m-1', 'eu']);
  t.is(plain?.dataJson, '{"tokens":12,"model":"m-1","error":false,"note":"hi","region":"eu","z":null}');
  t.is(plain?.source, 'unknown');
});

test('a known metric field holding a string is left to the general path, which refuses it', (t) => {
  const text = (data: string) =>
    `{"event_type":"llm_request","timestamp":"2026-11-28T10:15:00.000Z","source":"api-1","data":${data}}`;
  t.is(plainOf(text('{"model":"m","latency_ms":"fast"}')), undefined);
  t.deepEqual(
    plainOf(text('{"model":"m","latency_ms":5}'))?.metricTexts,
    ['5'],
    'numbers still take the fast path',
  );
  // Nested under another key it is only raw data: the general path accepts what the fast path declined.
  t.is(plainOf(text('{"meta":{"tokens_in":"x"},"latency_ms":5}')), undefined);
  t.true(normalizeEvent(Buffer.from(text('{"meta":{"tokens_in":"x"},"latency_ms":5}')), context).ok);
  t.false(normalizeEvent(Buffer.from(text('{"model":"m","latency_ms":"fast"}')), context).ok);
});

test('with a price table, the fast path infers the same cost as the general path, at the price of the time', (t) => {
  const request = (timestamp: string, data: string) =>
    Buffer.from(`{"event_type":"llm_request","timestamp":"${timestamp}","data":${data}}`);
  const before = request(
    '2026-11-28T09:59:59.999Z',
    '{"model":"llama-3-70b","tokens_in":1000,"tokens_out":500}',
  );
  const after = request(
    '2026-11-28T10:00:00.000Z',
    '{"model":"llama-3-70b","tokens_in":1000,"tokens_out":500}',
  );
  const plainBefore = normalizePlainEvent(before, priced);
  const plainAfter = normalizePlainEvent(after, priced);
  t.deepEqual(plainBefore?.metricNames, [
    'cost_inferred',
    'cost_usd',
    'cost_usd_inferred',
    'tokens_in',
    'tokens_out',
  ]);
  t.deepEqual(plainBefore?.metricTexts, ['1', '0.00135', '0.00135', '1000', '500']);
  t.deepEqual(plainAfter?.metricTexts, ['1', '0.00085', '0.00085', '1000', '500']);
  t.is(plainAfter?.cost, 'inferred');
  t.is(
    renderedBoth(plainAfter!, after, 'copy', priced)?.fast,
    renderedBoth(plainAfter!, after, 'copy', priced)?.slow,
  );
  // A reported cost is kept; an unknown model is unpriced (stored without cost, counted).
  const reported = normalizePlainEvent(
    request('2026-11-28T10:00:00.000Z', '{"model":"llama-3-70b","tokens_in":1000,"cost_usd":0.5}'),
    priced,
  );
  t.deepEqual(reported?.metricNames, ['cost_usd', 'tokens_in']);
  t.is(reported?.cost, undefined);
  const unknown = normalizePlainEvent(
    request('2026-11-28T10:00:00.000Z', '{"model":"mystery","tokens_in":10}'),
    priced,
  );
  t.deepEqual(unknown?.metricNames, ['tokens_in']);
  t.is(unknown?.cost, 'unpriced');
  // model not a dimension key: the general path reads data.model and decides.
  t.is(normalizePlainEvent(after, pricedNoModelDimension), undefined);
  const general = normalizeEvent(after, { ...pricedNoModelDimension, idempotencyKey: KEY });
  t.true(general.ok && general.event.metricNames.includes('cost_usd'));
});
