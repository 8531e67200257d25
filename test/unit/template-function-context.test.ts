// shared/function-context.ts: the aggregation request parser every aggregate-* handler uses, the
// config → library option mappings, and the once-per-process context (memoised, failures not cached).
import test from 'ava';
import { parseConfig } from '../../shared/config/index.ts';
import {
  closeFunctionContext,
  databaseUrl,
  getFunctionContext,
  jobOptionsOf,
  parseAggregationRequest,
} from '../../shared/function-context.ts';
import { normalizeSettingsFrom, pullOptionsFrom } from '../../shared/ingest/index.ts';
import { isBatchError } from '../../shared/errors/index.ts';
import { EMBEDDED_SOCKET_FLAG } from '../../shared/db/gated.ts';
import { startEmbeddedServer } from '../../runtime/embedded-db.ts';

const cron = { 'x-connector': 'cron-connector', 'x-topic': 'cron-function' };

test('an empty body from the cron-connector is a cron tick; anything else without a range is http', (t) => {
  t.deepEqual(parseAggregationRequest({ body: '', headers: cron }), { trigger: 'cron' });
  t.deepEqual(parseAggregationRequest({ body: undefined, headers: cron }), { trigger: 'cron' });
  t.deepEqual(parseAggregationRequest({ body: {}, headers: cron }), { trigger: 'cron' });
  t.deepEqual(parseAggregationRequest({ body: '', headers: {} }), { trigger: 'http' });
  t.deepEqual(parseAggregationRequest({ body: '  ', headers: { 'x-connector': 'other' } }), {
    trigger: 'http',
  });
  t.deepEqual(
    parseAggregationRequest({
      body: '',
      headers: { 'x-topic': 'hxp.batch.events', 'x-kafka-partition': '0' },
    }),
    { trigger: 'kafka' },
  );
});

test('{"from","to"} is a backfill, as parsed JSON or as text, even from the cron-connector', (t) => {
  const range = { from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00+01:00' };
  const want = { trigger: 'backfill', from: '2026-11-01T00:00:00.000Z', to: '2026-11-01T23:00:00.000Z' };
  t.deepEqual(parseAggregationRequest({ body: range, headers: {} }), want);
  t.deepEqual(parseAggregationRequest({ body: JSON.stringify(range), headers: {} }), want);
  t.deepEqual(parseAggregationRequest({ body: range, headers: cron }), want);
});

test('a bad aggregation body is refused with the field that is wrong', (t) => {
  const zod = (body: unknown) =>
    t.throws(() => parseAggregationRequest({ body, headers: {} }), { name: 'ZodError' });
  zod({ from: '2026-11-01T00:00:00Z' });
  zod({ from: 'yesterday', to: '2026-11-02T00:00:00Z' });
  zod({ from: '2026-11-01', to: '28 Nov' });
  zod({ from: '2026-02-30', to: '2026-03-01' });
  const backwards = t.throws(() =>
    parseAggregationRequest({
      body: { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' },
      headers: {},
    }),
  );
  t.true(isBatchError(backwards, 'REQUEST_INVALID'));
  t.regex(backwards.message, /a date-time "to" is exclusive, a date "to" includes that whole day/);
  zod({ from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z', level: 'day' });
  zod([1, 2]);
  const notJson = t.throws(() => parseAggregationRequest({ body: 'from=today', headers: {} }));
  t.true(isBatchError(notJson, 'REQUEST_INVALID'));
  t.regex(notJson.message, /\{"from":"2026-11-01","to":"2026-11-28"\}/);
});

// Regression: {"from":"0001-01-01T00:00:00Z","to":"9999-01-01T00:00:00Z"} was accepted, and aggregate-hourly
// then answered nothing else (not even GET) while it walked ~70 million hour windows.
test('a backfill longer than ten years is refused naming "to"; ten years is taken', (t) => {
  const parse = (body: object) => parseAggregationRequest({ body, headers: {} });
  for (const body of [
    { from: '0001-01-01T00:00:00Z', to: '9999-01-01T00:00:00Z' },
    { from: '2000-01-01', to: '2026-11-28' },
  ]) {
    const err = t.throws(() => parse(body), undefined, JSON.stringify(body));
    t.true(isBatchError(err, 'REQUEST_INVALID'), JSON.stringify(body));
    t.like((err as unknown as { context: object }).context, { field: 'to' });
    t.regex(err.message, /at most 3660 \(ten years\) per request/);
  }
  t.like(parse({ from: '2016-12-01', to: '2026-11-30' }), { trigger: 'backfill' });
});

test('backfill dates are whole days in the configured zone; a date "to" includes its day', (t) => {
  const parse = (body: object, zone?: string) => parseAggregationRequest({ body, headers: {} }, zone);
  // The README's example: all of 1–28 November.
  t.deepEqual(parse({ from: '2026-11-01', to: '2026-11-28' }), {
    trigger: 'backfill',
    from: '2026-11-01T00:00:00.000Z',
    to: '2026-11-29T00:00:00.000Z',
  });
  t.deepEqual(parse({ from: '2026-11-28', to: '2026-11-28' }, 'Europe/Berlin'), {
    trigger: 'backfill',
    from: '2026-11-27T23:00:00.000Z',
    to: '2026-11-28T23:00:00.000Z',
  });
  // Across a DST change (29 March 2026 in Berlin: 23 hours long).
  t.deepEqual(parse({ from: '2026-03-29', to: '2026-03-29' }, 'Europe/Berlin'), {
    trigger: 'backfill',
    from: '2026-03-28T23:00:00.000Z',
    to: '2026-03-29T22:00:00.000Z',
  });
  t.deepEqual(parse({ from: '2026-11-01', to: '2026-11-02T06:00:00Z' }, 'America/New_York'), {
    trigger: 'backfill',
    from: '2026-11-01T04:00:00.000Z',
    to: '2026-11-02T06:00:00.000Z',
  });
});

test('config → library options: job timeouts in ms, ingest limits, pull topics and group, database password', (t) => {
  const config = parseConfig({
    jobs: { timeoutSeconds: 120, retryDelaySeconds: 5, retries: 2 },
    time: { zone: 'Europe/Berlin' },
    ingestion: { maxFutureSkewSeconds: 10, dimensionKeys: ['model', 'region'] },
    retention: { rawDays: 7 },
    kafka: { bootstrapServers: ['127.0.0.1:9092'], consumerGroup: 'g1' },
    database: { url: 'postgres://hxp@db:5432/hxp', password: 'p@ss word' },
  });
  t.deepEqual(jobOptionsOf(config), {
    timeZone: 'Europe/Berlin',
    weekStart: 'monday',
    retries: 2,
    retryDelayMs: 5000,
    timeoutMs: 120_000,
  });
  const { prices, ...normalize } = normalizeSettingsFrom(config);
  t.deepEqual(normalize, {
    limits: { maxEventBytes: 65_536, maxFields: 256, maxFutureSkewMs: 10_000, rawRetentionDays: 7 },
    dimensionKeys: ['model', 'region'],
  });
  t.is(prices?.models.size, 0, 'no price table configured: nothing is inferred');
  const pull = pullOptionsFrom(config);
  t.deepEqual([pull.topics, pull.groupId, pull.dlqTopic], [['hxp.events.raw'], 'g1', 'hxp.batch.dlq']);
  const url = new URL(databaseUrl(config)!);
  t.is(decodeURIComponent(url.password), 'p@ss word');
  t.is(url.host, 'db:5432');
  t.is(databaseUrl(parseConfig({})), undefined, 'no URL configured');
});

test.serial(
  'getFunctionContext opens and migrates once per process; close lets the next call start afresh',
  async (t) => {
    // The local runtime's embedded database (in memory here), as a function under `npm start` gets it.
    const embedded = await startEmbeddedServer();
    t.teardown(() => embedded.close());
    t.teardown(closeFunctionContext);
    const env = {
      SECRETS_DIR: '/nonexistent-hxp-secrets',
      LOG_LEVEL: 'silent',
      DATABASE_URL: embedded.url,
      [EMBEDDED_SOCKET_FLAG]: '1',
    };
    const migrations: string[] = [];
    const log = { info: (_o: object, msg?: string) => void migrations.push(String(msg)) };
    const [a, b] = await Promise.all([getFunctionContext({ env, log }), getFunctionContext({ env, log })]);
    t.is(a, b, 'one context for concurrent first calls');
    t.true(a.db.embedded);
    t.is(a.kafka, undefined);
    t.is(a.publisher, undefined);
    t.true(migrations.some((m) => /000001_initial/.test(m)));
    const { rows } = await a.db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    t.true((rows[0]?.n ?? 0) >= 1);
    t.is(await getFunctionContext({ env }), a);
    await closeFunctionContext();
    const c = await getFunctionContext({ env });
    t.not(c, a);
  },
);

test.serial(
  'a failed start is not cached: bad configuration throws, a fixed one then succeeds',
  async (t) => {
    t.teardown(closeFunctionContext);
    await closeFunctionContext();
    const bad = await t.throwsAsync(
      getFunctionContext({
        env: { SECRETS_DIR: '/nonexistent-hxp-secrets', BATCH_PROCESSING_TIMEOUT: 'soon' },
      }),
    );
    t.true(isBatchError(bad, 'CONFIG_INVALID'));
    t.regex(bad.message, /BATCH_PROCESSING_TIMEOUT/);
    const missing = await t.throwsAsync(
      getFunctionContext({ env: { SECRETS_DIR: '/nonexistent-hxp-secrets' } }),
    );
    t.true(isBatchError(missing, 'DATABASE_URL_REQUIRED'), 'no silent in-memory database');
    t.regex(missing.message, /DATABASE_URL is not set/);
    const embedded = await startEmbeddedServer();
    t.teardown(() => embedded.close());
    const good = await getFunctionContext({
      env: {
        SECRETS_DIR: '/nonexistent-hxp-secrets',
        DATABASE_URL: embedded.url,
        [EMBEDDED_SOCKET_FLAG]: '1',
      },
    });
    t.is(good.config.jobs.timeoutSeconds, 3600);
  },
);
