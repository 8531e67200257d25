// The price table: config sources, validation messages, the price valid at an event's time, and the cost
// inference rules (reported cost kept, unknown model unpriced, cached tokens).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parseZonedInstant } from '../../shared/aggregate/index.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { normalizeEvent } from '../../shared/events/index.ts';
import { normalizeSettingsFrom, pullOptionsFrom } from '../../shared/ingest/index.ts';
import { batchContext } from '../../shared/ingest/normalize.ts';
import {
  buildPriceTable,
  EMPTY_PRICE_TABLE,
  inferCost,
  priceAt,
  loadPriceTable,
  priceTableFrom,
  withInferredCost,
  type CostInput,
  type PriceTable,
} from '../../shared/pricing/index.ts';

const noSecrets = join(tmpdir(), 'hxp-no-such-secrets-dir');
const file = (name: string, text: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'hxp-pricing-')), name);
  writeFileSync(path, text);
  return path;
};

function table(entries: Parameters<typeof buildPriceTable>[0], zone = 'UTC'): PriceTable {
  const built = buildPriceTable(entries, zone);
  if (!built.ok) throw new Error(built.problems.join('\n'));
  return built.table;
}

const llama = table([
  { model: 'llama-3-70b', input_usd_per_1k: 0.001, output_usd_per_1k: 0.002 },
  { model: 'llama-3-70b', input_usd_per_1k: 0.0005, output_usd_per_1k: 0.001, valid_from: '2026-11-15' },
  { model: 'gpt-x', input_usd_per_1k: 0.01, output_usd_per_1k: 0.03, cached_input_usd_per_1k: 0.0025 },
]);

const request = (over: Partial<CostInput> = {}): CostInput => ({
  eventType: 'llm_request',
  timestampMs: Date.parse('2026-11-10T12:00:00Z'),
  model: 'llama-3-70b',
  tokensIn: 1000,
  tokensOut: 500,
  tokensCached: undefined,
  hasCost: false,
  ...over,
});

test('the price valid at the event time: a change mid-period splits the cost at valid_from', (t) => {
  const before = inferCost(llama, request({ timestampMs: Date.parse('2026-11-14T23:59:59.999Z') }));
  const after = inferCost(llama, request({ timestampMs: Date.parse('2026-11-15T00:00:00Z') }));
  t.deepEqual(before, { kind: 'inferred', costUsd: 0.002 }); // 1000 × 0.001/1k + 500 × 0.002/1k
  t.deepEqual(after, { kind: 'inferred', costUsd: 0.001 });
  t.is(priceAt(llama, 'llama-3-70b', Date.parse('2020-01-01T00:00:00Z'))?.inputPer1k, 0.001);
});

test('a valid_from date is local midnight of the configured zone', (t) => {
  const berlin = table(
    [{ model: 'm', input_usd_per_1k: 1, output_usd_per_1k: 1, valid_from: '2026-11-15' }],
    'Europe/Berlin',
  );
  t.is(priceAt(berlin, 'm', Date.parse('2026-11-14T22:59:59Z')), undefined);
  t.is(priceAt(berlin, 'm', Date.parse('2026-11-14T23:00:00Z'))?.inputPer1k, 1);
  t.is(parseZonedInstant('2026-07-01T02:30', 'Europe/Berlin'), Date.parse('2026-07-01T00:30:00Z'));
  t.is(parseZonedInstant('2026-11-28T10:15:00+01:00', 'UTC'), Date.parse('2026-11-28T09:15:00Z'));
  t.is(parseZonedInstant('2026-02-30', 'UTC'), undefined);
  t.is(parseZonedInstant('yesterday', 'UTC'), undefined);
});

test('a reported cost is kept; other types, no tokens and no table infer nothing', (t) => {
  t.deepEqual(inferCost(llama, request({ hasCost: true })), { kind: 'none' });
  t.deepEqual(inferCost(llama, request({ eventType: 'system_metric' })), { kind: 'none' });
  t.deepEqual(inferCost(llama, request({ tokensIn: undefined, tokensOut: undefined })), { kind: 'none' });
  t.deepEqual(inferCost(EMPTY_PRICE_TABLE, request()), { kind: 'none' });
});

test('an unknown model, no model, a time before the first price or negative tokens are unpriced', (t) => {
  t.deepEqual(inferCost(llama, request({ model: 'mystery-7b' })), { kind: 'unpriced' });
  t.deepEqual(inferCost(llama, request({ model: undefined })), { kind: 'unpriced' });
  t.deepEqual(inferCost(llama, request({ tokensOut: -3 })), { kind: 'unpriced' });
  const late = table([{ model: 'm', input_usd_per_1k: 1, output_usd_per_1k: 1, valid_from: '2026-12-01' }]);
  t.deepEqual(inferCost(late, request({ model: 'm' })), { kind: 'unpriced' });
});

test('cached input tokens take the cached price (part of tokens_in), else the input price', (t) => {
  const cost = inferCost(
    llama,
    request({ model: 'gpt-x', tokensIn: 1000, tokensOut: 100, tokensCached: 800 }),
  );
  // 200 × 0.01/1k + 800 × 0.0025/1k + 100 × 0.03/1k = 0.002 + 0.002 + 0.003
  t.deepEqual(cost, { kind: 'inferred', costUsd: 0.007 });
  const noCachedPrice = inferCost(llama, request({ tokensCached: 400 }));
  t.deepEqual(noCachedPrice, { kind: 'inferred', costUsd: 0.002 });
  // Only one of the token counts: the other is 0; no float noise in the stored value.
  t.deepEqual(inferCost(llama, request({ tokensIn: 350, tokensOut: undefined })), {
    kind: 'inferred',
    costUsd: 0.00035,
  });
  const odd = inferCost(
    table([{ model: 'm', input_usd_per_1k: 0.003, output_usd_per_1k: 0.015 }]),
    request({ model: 'm', tokensIn: 350, tokensOut: 120 }),
  );
  t.deepEqual(odd, { kind: 'inferred', costUsd: 0.00285 });
});

test('withInferredCost keeps the metric lists sorted as Array#sort orders them', (t) => {
  const names = ['a', 'cost_x', 'latency_ms', 'tokens_in'];
  const values = [1, 2, 3, 4];
  withInferredCost(names, values, 0.5, (n) => n);
  t.deepEqual(names, [
    'a',
    'cost_inferred',
    'cost_usd',
    'cost_usd_inferred',
    'cost_x',
    'latency_ms',
    'tokens_in',
  ]);
  t.deepEqual(names, [...names].sort());
  t.deepEqual(values, [1, 1, 0.5, 0.5, 2, 3, 4]);
  // at either end, and into empty lists
  for (const start of [[], ['a'], ['zz'], ['a', 'zz']]) {
    const around = [...start];
    const numbers = around.map((_, i) => i);
    withInferredCost(around, numbers, 0.25, (n) => n);
    t.deepEqual(around, [...start, 'cost_inferred', 'cost_usd', 'cost_usd_inferred'].sort());
    t.deepEqual(
      around.filter((n) => n.startsWith('cost')).map((n) => numbers[around.indexOf(n)]),
      [1, 0.25, 0.25],
    );
  }
});

test('a price file (YAML or JSON) is read and checked entry by entry, naming the file', (t) => {
  const priceFile = file(
    'prices.yaml',
    '- {model: m, input_usd_per_1k: 3, output_usd_per_1k: 4, valid_from: 2026-11-15}\n',
  );
  const prices = loadPriceTable({ models: [], file: priceFile }, 'Europe/Berlin');
  t.is(priceAt(prices, 'm', Date.parse('2026-11-14T23:00:00Z'))?.inputPer1k, 3);
  t.is(priceAt(prices, 'm', Date.parse('2026-11-14T22:59:59Z')), undefined);
  t.is(loadPriceTable({ models: [] }, 'UTC').models.size, 0);
  const bad = file(
    'bad.json',
    JSON.stringify([{ model: 'm', input_usd_per_1k: -1, output_usd_per_1k: 2, tier: 1 }]),
  );
  const error = t.throws(() => loadPriceTable({ models: [], file: bad }, 'UTC'));
  t.regex(error.message, /bad\.json: entry 0 \(model "m"\) input_usd_per_1k: must not be negative/);
  t.regex(error.message, /Unrecognized key.*tier/);
  const twice = file(
    'twice.json',
    JSON.stringify([
      { model: 'm', input_usd_per_1k: 1, output_usd_per_1k: 1, valid_from: '2026-11-01' },
      { model: 'm', input_usd_per_1k: 2, output_usd_per_1k: 2, valid_from: '2026-11-01' },
    ]),
  );
  t.throws(() => loadPriceTable({ models: [], file: twice }, 'UTC'), {
    message: /twice\.json: entry 1 \(model "m"\): a second price valid from 2026-11-01/,
  });
  t.throws(() => loadPriceTable({ models: [], file: '/no/such/prices.yaml' }, 'UTC'), {
    message: /cannot read the price file \(ENOENT\)/,
  });
});

test('pricing from the YAML config, from the environment as JSON, and from a file', (t) => {
  const yaml = file(
    'config.yaml',
    [
      'batch_processing:',
      '  timezone: Europe/Berlin',
      '  pricing:',
      '    models:',
      '      - model: llama-3-70b',
      '        input_usd_per_1k: 0.001',
      '        output_usd_per_1k: 0.002',
      '        valid_from: 2026-11-15',
    ].join('\n'),
  );
  const fromYaml = loadConfig({ env: {}, file: yaml, secretsDir: noSecrets });
  t.deepEqual(fromYaml.pricing.models, [
    { model: 'llama-3-70b', input_usd_per_1k: 0.001, output_usd_per_1k: 0.002, valid_from: '2026-11-15' },
  ]);
  const prices = priceTableFrom(fromYaml);
  t.is(priceAt(prices, 'llama-3-70b', Date.parse('2026-11-14T23:00:00Z'))?.outputPer1k, 0.002);

  const fromEnv = loadConfig({
    env: { BATCH_PROCESSING_PRICING: '[{"model":"m","input_usd_per_1k":1,"output_usd_per_1k":2}]' },
    secretsDir: noSecrets,
  });
  t.is(priceAt(priceTableFrom(fromEnv), 'm', 0)?.outputPer1k, 2);

  const priceFile = file('prices.yaml', '- {model: m, input_usd_per_1k: 3, output_usd_per_1k: 4}\n');
  const fromFile = loadConfig({ env: { BATCH_PROCESSING_PRICING_FILE: priceFile }, secretsDir: noSecrets });
  t.is(priceAt(priceTableFrom(fromFile), 'm', 0)?.inputPer1k, 3);
  t.is(priceTableFrom(loadConfig({ env: {}, secretsDir: noSecrets })).models.size, 0);
});

test('a bad price table in the configuration names the entry and the field; one place only', (t) => {
  const bad = t.throws(() =>
    loadConfig({
      env: {
        BATCH_PROCESSING_PRICING: '[{"model":"m","input_usd_per_1k":-1,"output_usd_per_1k":2,"tier":1}]',
      },
      secretsDir: noSecrets,
    }),
  );
  t.regex(
    bad.message,
    /BATCH_PROCESSING_PRICING=.*entry 0 \(model "m"\) input_usd_per_1k: must not be negative/,
  );
  t.regex(bad.message, /Unrecognized key.*tier/);
  const both = t.throws(() =>
    loadConfig({
      env: {
        BATCH_PROCESSING_PRICING: '[{"model":"m","input_usd_per_1k":1,"output_usd_per_1k":2}]',
        BATCH_PROCESSING_PRICING_FILE: './prices.yaml',
      },
      secretsDir: noSecrets,
    }),
  );
  t.regex(both.message, /BATCH_PROCESSING_PRICING_FILE.*not both/);
});

// Regression: a valid_from that does not exist and two prices of one model from the same valid_from passed
// loadConfig and were found on the first ingest, which then answered 500 — the function had started and
// listened with a table docs/pricing.md says stops the start.
test('loadConfig refuses a price table with a date that does not exist or a repeated valid_from, naming entry and field', (t) => {
  const problems = (env: Record<string, string>): string[] => {
    const error = t.throws(() => loadConfig({ env, secretsDir: noSecrets }));
    t.is((error as { code?: unknown }).code, 'CONFIG_INVALID');
    return (error as unknown as { context: { problems: string[] } }).context.problems;
  };
  const price = (validFrom: string, input = 1) =>
    ({ model: 'm', input_usd_per_1k: input, output_usd_per_1k: 2, valid_from: validFrom }) as const;

  const noSuchDay = problems({ BATCH_PROCESSING_PRICING: JSON.stringify([price('2026-02-30')]) });
  t.is(noSuchDay.length, 1);
  t.regex(
    noSuchDay[0] ?? '',
    /^BATCH_PROCESSING_PRICING=.*: entry 0 \(model "m"\) valid_from: "2026-02-30" is not a day or time that exists/,
  );

  const twice = problems({
    BATCH_PROCESSING_PRICING: JSON.stringify([price('2026-11-01'), price('2026-11-01', 3)]),
  });
  t.is(twice.length, 1);
  t.regex(
    twice[0] ?? '',
    /^BATCH_PROCESSING_PRICING=.*: entry 1 \(model "m"\): a second price valid from 2026-11-01/,
  );

  // One error lists it beside another bad key, and a file is read and checked at load, too.
  const withPort = problems({
    BATCH_PROCESSING_PRICING: JSON.stringify([price('2026-02-30')]),
    BATCH_PROCESSING_API_PORT: 'x',
  });
  t.is(withPort.length, 2);
  t.true(withPort.some((line) => line.startsWith('BATCH_PROCESSING_API_PORT="x"')));
  const priceFile = file('prices.json', JSON.stringify([price('2026-11-01'), price('2026-11-01', 3)]));
  t.regex(
    problems({ BATCH_PROCESSING_PRICING_FILE: priceFile }).join('\n'),
    /^BATCH_PROCESSING_PRICING_FILE=".*prices\.json": entry 1 \(model "m"\): a second price valid from 2026-11-01/,
  );
  t.regex(
    problems({ BATCH_PROCESSING_PRICING_FILE: '/no/such/prices.yaml' }).join('\n'),
    /^BATCH_PROCESSING_PRICING_FILE="\/no\/such\/prices\.yaml": cannot read the price file \(ENOENT\)/,
  );
});

test('the configured price table reaches both ingest paths through their settings', (t) => {
  const config = loadConfig({
    env: { BATCH_PROCESSING_PRICING: '[{"model":"m","input_usd_per_1k":1,"output_usd_per_1k":2}]' },
    secretsDir: noSecrets,
  });
  const settings = normalizeSettingsFrom(config);
  t.is(settings.prices, priceTableFrom(config));
  t.is(pullOptionsFrom(config).prices, settings.prices);
  const context = { ...batchContext({ ...settings, now: () => Date.parse('2026-11-28T12:00:00Z') }) };
  const result = normalizeEvent(
    {
      event_type: 'llm_request',
      timestamp: '2026-11-28T10:00:00Z',
      data: { model: 'm', tokens_in: 10, tokens_out: 5 },
    },
    context,
  );
  t.true(result.ok);
  if (result.ok) {
    t.is(result.event.cost, 'inferred');
    t.is(result.event.metricValues[result.event.metricNames.indexOf('cost_usd')], 0.02);
  }
});
