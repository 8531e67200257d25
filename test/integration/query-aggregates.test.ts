// The read side over a fixture of 9 days in Europe/Berlin: GET /aggregates equals SQL over the views for
// every level and dimension; pages return every row once; CSV parses to the same rows; unknown names are
// 400s listing what exists; validators answer 304 until a run changes the range; the catalogue and the
// daily usage (reported and inferred cost apart) match the stored rows. Real PostgreSQL and PGlite.
import test, { type ExecutionContext } from 'ava';
import { parse } from 'csv-parse/sync';
import type { Readable } from 'node:stream';
import { LEVELS } from '../../shared/aggregate/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import {
  answerAggregates,
  answerCatalogue,
  answerDailyUsage,
  type AggregatesRowView,
  type Catalogue,
  type DailyUsage,
  type ReadContext,
} from '../../shared/query/index.ts';
import { freshEmbeddedDatabase, freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { bothBackends, deps, rng, storeTestEvents, type TestEvent } from './aggregate-fixtures.ts';

const ZONE = 'Europe/Berlin';
const MODELS = ['llama-3-70b', 'mistral-7b', 'gpt-x'];
const START = Date.parse('2026-11-19T23:00:00Z'); // 2026-11-20 00:00 in Berlin
const DAYS = 9;
// 2026-12-01 03:00 in Berlin: November, its last full week and every day are closed.
const NOW = new Date('2026-12-01T02:00:00Z');

function fixture(): TestEvent[] {
  const random = rng(16);
  const events: TestEvent[] = [];
  for (let t = START; t < START + DAYS * 86_400_000; t += 20 * 60_000) {
    const model = MODELS[Math.floor(random() * MODELS.length)] as string;
    const tokensIn = Math.round(100 + random() * 900);
    const tokensOut = Math.round(20 + random() * 300);
    const inferred = random() < 0.4;
    const cost = Math.round((tokensIn * 0.001 + tokensOut * 0.002) * 1e6) / 1e9;
    events.push({
      ts: new Date(t + Math.floor(random() * 60_000)),
      source: random() < 0.5 ? 'api-1' : 'api-2',
      dims: { model },
      metrics: {
        latency_ms: Math.round(200 + random() * 1500),
        tokens_in: tokensIn,
        tokens_out: tokensOut,
        error: random() < 0.05 ? 1 : 0,
        cost_usd: cost,
        ...(inferred ? { cost_inferred: 1, cost_usd_inferred: cost } : {}),
      },
    });
    if (t % 3_600_000 === 0) {
      events.push({
        ts: new Date(t),
        type: 'system_metric',
        source: 'host-1',
        metrics: { cpu_usage: 20 + random() * 60 },
      });
    }
  }
  return events;
}

/**
 * Stores the fixture and aggregates every level to the end. A run that hits the job time limit on a busy
 * machine leaves its remaining windows to the next run (catch-up), so each level runs until one finds
 * nothing left to do; a failed window fails the test.
 */
async function seeded(db: Database): Promise<ReadContext> {
  await storeTestEvents(db, fixture());
  for (const level of LEVELS) {
    for (let run = 1; ; run++) {
      const summary = await runAggregation(deps(db, { timeZone: ZONE }), {
        level,
        trigger: 'manual',
        now: NOW,
      });
      if (summary.windowsFailed > 0 || summary.status === 'failed') {
        throw new Error(`aggregating ${level} failed: ${JSON.stringify(summary.error ?? summary.windows)}`);
      }
      if (summary.status === 'succeeded' && summary.windowsDue === summary.windowsDone) break;
      if (run === 20) throw new Error(`aggregating ${level} did not finish in 20 runs (${summary.status})`);
    }
  }
  return { db, timeZone: ZONE, now: () => NOW };
}

// Tests that only read share one seeded database per backend (aggregating 9 days takes a while on PGlite).
const shared = new Map<string, Promise<{ ctx: ReadContext; db: Database; drop: () => Promise<void> }>>();
function sharedSeeded(backend: 'postgres' | 'pglite') {
  let seeding = shared.get(backend);
  if (!seeding) {
    seeding = (async () => {
      const { db, drop } = backend === 'postgres' ? await freshPgDatabase() : await freshEmbeddedDatabase();
      return { ctx: await seeded(db), db, drop };
    })();
    shared.set(backend, seeding);
  }
  return seeding;
}
test.after.always(async () => {
  for (const seeding of shared.values()) await (await seeding.catch(() => undefined))?.drop();
});

type ReadTest = (t: ExecutionContext, ctx: ReadContext, db: Database) => Promise<void>;
function readOnly(title: string, fn: ReadTest): void {
  serviceTest('postgres')(`${title} [postgres]`, async (t) => {
    const { ctx, db } = await sharedSeeded('postgres');
    await fn(t, ctx, db);
  });
  test(`${title} [pglite]`, async (t) => {
    const { ctx, db } = await sharedSeeded('pglite');
    await fn(t, ctx, db);
  });
}

type Body = { rows: AggregatesRowView[]; next_cursor: string | null; row_count: number };

async function get(ctx: ReadContext, query: Record<string, string>, headers: Record<string, string> = {}) {
  return answerAggregates(ctx, { query, headers });
}

async function allPages(ctx: ReadContext, query: Record<string, string>): Promise<AggregatesRowView[][]> {
  const pages: AggregatesRowView[][] = [];
  let cursor: string | undefined;
  do {
    const answer = await get(ctx, cursor ? { ...query, cursor } : query);
    const body = answer.body as Body;
    pages.push(body.rows);
    cursor = body.next_cursor ?? undefined;
    if (pages.length > 1000) throw new Error('pagination does not end');
  } while (cursor);
  return pages;
}

const VIEWS = {
  hour: 'hourly_aggregations',
  day: 'daily_aggregations',
  week: 'weekly_aggregations',
  month: 'monthly_aggregations',
};

async function viaSql(
  db: Database,
  level: keyof typeof VIEWS,
  dimension: string,
): Promise<AggregatesRowView[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT * FROM ${VIEWS[level]} WHERE dimension = $1 ORDER BY "timestamp", event_type, metric, dimension_value`,
    [dimension],
  );
  return rows.map((r) => ({
    timestamp: new Date(r.timestamp as Date).toISOString(),
    event_type: r.event_type as string,
    metric: r.metric as string,
    dimension: r.dimension as string,
    dimension_value: r.dimension_value as string,
    count: Number(r.count),
    sum: r.sum as number,
    min: r.min as number,
    max: r.max as number,
    avg: r.avg as number,
    stddev: r.stddev as number | null,
    p50: r.p50 as number | null,
    p95: r.p95 as number | null,
    p99: r.p99 as number | null,
  }));
}

async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

readOnly('GET /aggregates equals SQL over the views for every level and dimension', async (t, ctx, db) => {
  for (const level of LEVELS) {
    for (const dimension of ['all', 'source', 'model']) {
      const expected = await viaSql(db, level, dimension);
      t.true(expected.length > 0, `${level}/${dimension} has rows`);
      const pages = await allPages(ctx, { level, dimension, limit: '10000' });
      t.deepEqual(pages.flat(), expected, `${level} ${dimension}`);
    }
  }
});

readOnly('pages return every row exactly once, and CSV parses to the same rows', async (t, ctx, db) => {
  const query = { level: 'hour', event_type: 'llm_request', dimension: 'model' };
  const whole = (await allPages(ctx, { ...query, limit: '10000' })).flat();
  const { rows: counted } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM hourly_aggregations
      WHERE event_type = 'llm_request' AND dimension = 'model'`,
  );
  t.is(whole.length, counted[0]!.n);
  t.true(whole.length > 2000, 'more rows than one CSV chunk');
  const pages = await allPages(ctx, { ...query, limit: '97' });
  t.true(pages.length > 10);
  t.true(pages.slice(0, -1).every((p) => p.length === 97));
  t.deepEqual(pages.flat(), whole);
  const keys = pages.flat().map((r) => `${r.timestamp}|${r.metric}|${r.dimension_value}`);
  t.is(new Set(keys).size, keys.length);

  // CSV: one streamed page larger than the chunk size, then two pages joined by the header cursor.
  const csv = await get(ctx, { ...query, format: 'csv', limit: '100000' });
  t.is(csv.headers['content-type'], 'text/csv; charset=utf-8');
  t.is(csv.headers['x-next-cursor'], undefined);
  const parsed = parse(await text(csv.body as Readable), { columns: true }) as Record<string, string>[];
  const numeric = (v: string | undefined) => (v === '' || v === undefined ? null : Number(v));
  t.deepEqual(
    parsed.map((r) => ({
      timestamp: r.timestamp,
      event_type: r.event_type,
      metric: r.metric,
      dimension: r.dimension,
      dimension_value: r.dimension_value,
      count: Number(r.count),
      sum: Number(r.sum),
      min: Number(r.min),
      max: Number(r.max),
      avg: Number(r.avg),
      stddev: numeric(r.stddev),
      p50: numeric(r.p50),
      p95: numeric(r.p95),
      p99: numeric(r.p99),
    })),
    whole,
  );
  const half = Math.ceil(whole.length / 2);
  const first = await get(ctx, { ...query, limit: String(half), fields: 'count' }, { accept: 'text/csv' });
  const cursor = first.headers['x-next-cursor'];
  t.truthy(cursor);
  const second = await get(
    ctx,
    { ...query, limit: String(half), fields: 'count', cursor: cursor! },
    { accept: 'text/csv' },
  );
  t.is(second.headers['x-next-cursor'], undefined);
  const rows = [
    ...(parse(await text(first.body as Readable), { columns: true }) as Record<string, string>[]),
    ...(parse(await text(second.body as Readable), { columns: true }) as Record<string, string>[]),
  ];
  t.deepEqual(Object.keys(rows[0]!), [
    'timestamp',
    'event_type',
    'metric',
    'dimension',
    'dimension_value',
    'count',
  ]);
  t.deepEqual(
    rows.map((r) => `${r.timestamp}|${r.metric}|${r.dimension_value}|${r.count}`),
    whole.map((r) => `${r.timestamp}|${r.metric}|${r.dimension_value}|${r.count}`),
  );
});

readOnly(
  'ranges, fields and values: from/to in the zone (to exclusive), one value, a field subset',
  async (t, ctx, db) => {
    const answer = await get(ctx, {
      level: 'day',
      event_type: 'llm_request',
      metric: 'tokens_in',
      dimension: 'model',
      value: 'gpt-x',
      from: '2026-11-21',
      to: '2026-11-23',
      fields: 'count,sum',
    });
    const body = answer.body as Body;
    t.deepEqual(
      body.rows.map((r) => r.timestamp),
      ['2026-11-20T23:00:00.000Z', '2026-11-21T23:00:00.000Z'],
    );
    t.deepEqual(Object.keys(body.rows[0]!), [
      'timestamp',
      'event_type',
      'metric',
      'dimension',
      'dimension_value',
      'count',
      'sum',
    ]);
    const { rows } = await db.query<{ count: string; sum: number }>(
      `SELECT count, sum FROM daily_aggregations WHERE event_type = 'llm_request' AND metric = 'tokens_in'
       AND dimension = 'model' AND dimension_value = 'gpt-x' AND "timestamp" >= '2026-11-20T23:00:00Z' AND "timestamp" < '2026-11-22T23:00:00Z'
     ORDER BY "timestamp"`,
    );
    t.deepEqual(
      body.rows.map((r) => [r.count, r.sum]),
      rows.map((r) => [Number(r.count), r.sum]),
    );
    // A local date-time without offset is in the zone too; with an offset it is that instant.
    const hour = await get(ctx, {
      level: 'hour',
      event_type: 'llm_request',
      metric: 'latency_ms',
      from: '2026-11-21T10:00',
      to: '2026-11-21T10:00:00Z',
    });
    t.deepEqual(
      (hour.body as Body).rows.map((r) => r.timestamp),
      ['2026-11-21T09:00:00.000Z'],
    );
  },
);

readOnly(
  'unknown names and bad parameters are 400s that say what exists or what is expected',
  async (t, ctx) => {
    const type = await t.throwsAsync(get(ctx, { event_type: 'llm_reqest' }));
    t.regex(
      type.message,
      /event_type: no aggregates of "llm_reqest" at level hour; event types: llm_request, system_metric/,
    );
    t.like(type, { code: 'REQUEST_INVALID' });
    const metric = await t.throwsAsync(get(ctx, { event_type: 'llm_request', metric: 'latency_ms,latncy' }));
    t.regex(
      metric.message,
      /no metric latncy .*metrics: cost_inferred, cost_usd, cost_usd_inferred, error, latency_ms, tokens_in, tokens_out/,
    );
    const dimension = await t.throwsAsync(get(ctx, { event_type: 'llm_request', dimension: 'region' }));
    t.regex(dimension.message, /dimensions: all, model, source/);
    const value = await t.throwsAsync(get(ctx, { level: 'day', dimension: 'model', value: 'gpt-5' }));
    t.regex(value.message, /model has no value "gpt-5" .*values: gpt-x, llama-3-70b, mistral-7b/);
    // Names that exist over an empty range: an empty page, not an error.
    const empty = await get(ctx, { event_type: 'llm_request', from: '2020-01-01', to: '2020-01-02' });
    t.deepEqual((empty.body as Body).rows, []);

    await t.throwsAsync(get(ctx, { level: 'minute' }), { name: 'ZodError' });
    await t.throwsAsync(get(ctx, { levle: 'day' }), { name: 'ZodError' });
    await t.throwsAsync(get(ctx, { fields: 'count,median' }), { name: 'ZodError' });
    await t.throwsAsync(get(ctx, { from: 'yesterday' }), { message: /from: "yesterday" is not a date/ });
    await t.throwsAsync(get(ctx, { from: '2026-11-22', to: '2026-11-21' }), {
      message: /to: must be after from/,
    });
    await t.throwsAsync(get(ctx, { limit: '20000' }), { message: /at most 10000 rows per JSON page/ });
    const page = await get(ctx, { level: 'hour', limit: '5' });
    const cursor = (page.body as Body).next_cursor!;
    await t.throwsAsync(get(ctx, { level: 'day', limit: '5', cursor }), {
      message: /cursor belongs to a query with other filters/,
    });
    await t.throwsAsync(get(ctx, { cursor: 'bm9wZQ' }), {
      message: /cursor is not a cursor this API gave out/,
    });
  },
);

test('daily usage on a database with no aggregates yet: days of zeros for the default type, not a 400', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  const ctx: ReadContext = { db, timeZone: ZONE, now: () => NOW };
  const answer = await answerDailyUsage(ctx, { query: {}, headers: {} });
  t.is(answer.status, 200);
  t.true((answer.body as DailyUsage).days.every((d) => d.requests === 0));
  // a type asked for by name is still checked
  await t.throwsAsync(answerDailyUsage(ctx, { query: { event_type: 'llm_reqest' }, headers: {} }), {
    message: /no aggregates of "llm_reqest"/,
  });
});

readOnly(
  'unknown names are 400s before any 304, and daily usage refuses an unknown event type instead of zeros',
  async (t, ctx) => {
    const future = new Date(NOW.getTime() + 365 * 86_400_000).toUTCString();
    const misspelt = { level: 'day', event_type: 'llm_reqest' };
    const conditional: Record<string, string>[] = [{ 'if-none-match': '*' }, { 'if-modified-since': future }];
    for (const headers of conditional) {
      const refused = await t.throwsAsync(get(ctx, misspelt, headers));
      t.like(refused, { code: 'REQUEST_INVALID', context: { field: 'event_type' } });
      t.regex(
        refused.message,
        /no aggregates of "llm_reqest" at level day; event types: llm_request, system_metric/,
      );
      const value = await t.throwsAsync(
        get(ctx, { level: 'day', dimension: 'model', value: 'gpt-5' }, headers),
      );
      t.like(value, { code: 'REQUEST_INVALID', context: { field: 'value' } });
      // Names that exist: the 304 as before.
      t.is((await get(ctx, { level: 'day', event_type: 'llm_request' }, headers)).status, 304);
    }

    const usage = (query: Record<string, string>, headers: Record<string, string> = {}) =>
      answerDailyUsage(ctx, { query, headers });
    for (const headers of [{}, ...conditional]) {
      const refused = await t.throwsAsync(usage({ event_type: 'llm_reqest' }, headers));
      t.like(refused, { code: 'REQUEST_INVALID', context: { field: 'event_type' } });
      t.regex(
        refused.message,
        /^event_type: no aggregates of "llm_reqest" at level day; event types: llm_request, system_metric$/,
      );
      t.deepEqual((refused as unknown as { context: { known: string[] } }).context.known, [
        'llm_request',
        'system_metric',
      ]);
    }
    // A type that exists with nothing in the range: days of zeros, not an error.
    const quiet = await usage({ event_type: 'system_metric', from: '2020-01-01', to: '2020-01-03' });
    t.is(quiet.status, 200);
    t.deepEqual(
      (quiet.body as DailyUsage).days.map((d) => [d.date, d.requests]),
      [
        ['2020-01-01', 0],
        ['2020-01-02', 0],
      ],
    );
  },
);

bothBackends('validators: 304 until a run changes the range', async (t, db) => {
  const ctx = await seeded(db);
  const query = {
    level: 'hour',
    event_type: 'llm_request',
    metric: 'latency_ms',
    from: '2026-11-27',
    to: '2026-11-29',
  };
  const first = await get(ctx, query);
  t.is(first.status, 200);
  const etag = first.headers.etag!;
  t.regex(etag, /^W\/"[A-Za-z0-9_-]+"$/);
  t.is(first.headers['cache-control'], 'no-cache');
  const lastModified = first.headers['last-modified']!;
  t.truthy(Date.parse(lastModified));
  t.is((await get(ctx, query, { 'if-none-match': etag })).status, 304);
  t.is((await get(ctx, query, { 'if-modified-since': lastModified })).status, 304);
  t.is((await get(ctx, { ...query, fields: 'count' }, { 'if-none-match': etag })).status, 200);
  // A run over another range leaves this one's validators alone; a late event inside it changes them.
  await storeTestEvents(db, [
    { ts: '2026-11-21T10:30:00Z', metrics: { latency_ms: 5 }, dims: { model: 'gpt-x' } },
  ]);
  await runAggregation(deps(db, { timeZone: ZONE }), { level: 'hour', trigger: 'manual', now: NOW });
  t.is((await get(ctx, query, { 'if-none-match': etag })).status, 304);
  await storeTestEvents(db, [
    { ts: '2026-11-28T10:30:00Z', metrics: { latency_ms: 5 }, dims: { model: 'gpt-x' } },
  ]);
  await runAggregation(deps(db, { timeZone: ZONE }), { level: 'hour', trigger: 'manual', now: NOW });
  const changed = await get(ctx, query, { 'if-none-match': etag });
  t.is(changed.status, 200);
  t.not(changed.headers.etag, etag);
});

readOnly(
  'the catalogue lists types, metrics, dimensions and values with first/last bucket per level',
  async (t, ctx) => {
    const answer = await answerCatalogue(ctx, { query: {}, headers: {} });
    const catalogue = answer.body as Catalogue;
    t.is(catalogue.time_zone, ZONE);
    t.deepEqual(
      catalogue.event_types.map((e) => e.event_type),
      ['llm_request', 'system_metric'],
    );
    const llm = catalogue.event_types[0]!;
    t.deepEqual(
      llm.metrics.map((m) => m.metric),
      ['cost_inferred', 'cost_usd', 'cost_usd_inferred', 'error', 'latency_ms', 'tokens_in', 'tokens_out'],
    );
    t.deepEqual(llm.levels.hour, { first: '2026-11-19T23:00:00.000Z', last: '2026-11-28T22:00:00.000Z' });
    t.deepEqual(llm.levels.day, { first: '2026-11-19T23:00:00.000Z', last: '2026-11-27T23:00:00.000Z' });
    t.deepEqual(llm.levels.month, { first: '2026-10-31T23:00:00.000Z', last: '2026-10-31T23:00:00.000Z' });
    t.deepEqual(
      llm.dimensions.map((d) => d.dimension),
      ['model', 'source'],
    );
    t.deepEqual(
      llm.dimensions[0]!.values.map((v) => v.value),
      ['gpt-x', 'llama-3-70b', 'mistral-7b'],
    );
    t.truthy(llm.dimensions[0]!.values[0]!.levels.week);
    const again = await answerCatalogue(ctx, {
      query: {},
      headers: { 'if-none-match': answer.headers.etag! },
    });
    t.is(again.status, 304);
  },
);

readOnly(
  'daily usage: per day and model, reported and inferred cost apart, change against the period before',
  async (t, ctx) => {
    const answer = await answerDailyUsage(ctx, {
      query: { from: '2026-11-24', to: '2026-11-28' },
      headers: {},
    });
    const usage = answer.body as DailyUsage;
    t.deepEqual(
      usage.days.map((d) => d.date),
      ['2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27'],
    );
    t.deepEqual(usage.previous, { ...usage.previous, from: '2026-11-20', to: '2026-11-24' });
    const events = fixture().filter((e) => (e.type ?? 'llm_request') === 'llm_request');
    const berlinDate = (ts: Date | string) =>
      new Date(new Date(ts).getTime() + 3_600_000).toISOString().slice(0, 10);
    for (const day of usage.days) {
      const of = events.filter((e) => berlinDate(e.ts) === day.date);
      const sum = (list: TestEvent[], m: string) => list.reduce((a, e) => a + (e.metrics[m] ?? 0), 0);
      t.is(day.requests, of.length);
      t.is(day.errors, sum(of, 'error'));
      t.is(day.tokens_in, sum(of, 'tokens_in'));
      t.is(day.inferred_requests, sum(of, 'cost_inferred'));
      t.true(Math.abs(day.cost_usd - sum(of, 'cost_usd')) < 1e-9);
      t.true(Math.abs(day.cost_inferred_usd - sum(of, 'cost_usd_inferred')) < 1e-9);
      const reported = of.filter((e) => e.metrics.cost_inferred === undefined);
      t.true(Math.abs(day.cost_reported_usd - sum(reported, 'cost_usd')) < 1e-9);
      for (const model of day.models) {
        t.is(model.requests, of.filter((e) => e.dims?.model === model.model).length);
      }
      t.is(
        day.models.reduce((a, m) => a + m.requests, 0),
        day.requests,
      );
    }
    const total = usage.days.reduce((a, d) => a + d.requests, 0);
    t.is(usage.totals.requests, total);
    t.is(usage.change.requests, (total - usage.previous.requests) / usage.previous.requests);
    t.true(usage.complete && usage.previous.complete);
    t.true(usage.days.every((d) => d.complete));
    // The default range: the 7 days up to the newest complete day — yesterday, 2026-11-30 (NOW is
    // 2026-12-01 03:00 in Berlin): today, not over, is not shown as a day of zeros.
    const recent = (await answerDailyUsage(ctx, { query: {}, headers: {} })).body as DailyUsage;
    t.is(recent.from, '2026-11-24');
    t.is(recent.to, '2026-12-01');
    t.true(recent.complete);
    t.not(recent.change.requests, null);
  },
);

bothBackends(
  'daily usage marks days not aggregated yet as incomplete and gives no change while one is in either period',
  async (t, db) => {
    const ctx = await seeded(db);
    const usage = async (query: Record<string, string>) =>
      (await answerDailyUsage(ctx, { query, headers: {} })).body as DailyUsage;
    // Today (2026-12-01) has not ended: shown when asked for, but as incomplete, and no change.
    const withToday = await usage({ from: '2026-11-25', to: '2026-12-02' });
    t.deepEqual(
      withToday.days.map((d) => [d.date, d.complete]),
      [
        ['2026-11-25', true],
        ['2026-11-26', true],
        ['2026-11-27', true],
        ['2026-11-28', true],
        ['2026-11-29', true],
        ['2026-11-30', true],
        ['2026-12-01', false],
      ],
    );
    t.false(withToday.complete);
    t.true(withToday.previous.complete);
    t.true(Object.values(withToday.change).every((c) => c === null));

    // A late event on 2026-11-27: that day waits for its hour and its day to be aggregated again.
    await storeTestEvents(db, [
      { ts: '2026-11-27T10:30:00Z', metrics: { latency_ms: 5 }, dims: { model: 'gpt-x' } },
    ]);
    const pending = await usage({});
    t.deepEqual([pending.from, pending.to], ['2026-11-24', '2026-12-01']);
    t.deepEqual(
      pending.days.filter((d) => !d.complete).map((d) => d.date),
      ['2026-11-27'],
    );
    t.is(pending.change.requests, null);
    const etag = (await answerDailyUsage(ctx, { query: {}, headers: {} })).headers.etag!;
    await runAggregation(deps(db, { timeZone: ZONE }), { level: 'hour', trigger: 'manual', now: NOW });
    t.false((await usage({})).days.find((d) => d.date === '2026-11-27')!.complete, 'the day is still to do');
    await runAggregation(deps(db, { timeZone: ZONE }), { level: 'day', trigger: 'manual', now: NOW });
    const done = await answerDailyUsage(ctx, { query: {}, headers: { 'if-none-match': etag } });
    t.is(done.status, 200);
    const body = done.body as DailyUsage;
    t.true(body.complete);
    t.is(body.days.find((d) => d.date === '2026-11-27')!.requests, pending.days[3]!.requests + 1);
    t.not(body.change.requests, null);
  },
);
