// The partials written at ingest (shared/aggregate/partials.ts) against the raw path they stand in for: the
// same events, stored in batches of any size with duplicates and late arrivals, give hour states — exact sums,
// min, max, p50/p95/p99 — and sketch bins identical to those computed from the raw rows by a backfill. Also:
// the raw path replaces an hour's partials by its state, hours stored without partials are read raw, and a
// batch rolled back leaves no partial behind.
import type { ExecutionContext } from 'ava';
import type { Database } from '../../shared/db/index.ts';
import { storeEvents } from '../../shared/ingest/index.ts';
import { PARTIALS_KEPT_PER_SERIES } from '../../shared/aggregate/hour-partials.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import { prng } from '../../runtime/demo/prng.ts';
import {
  bothBackends,
  deps,
  storeTestEvents,
  storeTestEventsBySql,
  type TestEvent,
} from './aggregate-fixtures.ts';

const DAY = '2026-11-02';
const LATER = new Date('2026-11-10T00:00:00Z');

/** Events over six hours of DAY: awkward values (zero, -0, tiny, huge, negative, many decimals), repeats of keys. */
function randomEvents(seed: number, count: number): TestEvent[] {
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const values = [0, -0, 1e-12, 5e-10, 1e15, 1234567890123445, -3.25, 0.1, 0.7, 2 ** 60];
  return Array.from({ length: count }, (_, i) => {
    const metrics: Record<string, number> = {
      latency_ms: random() < 0.1 ? pick(values) : Math.round(random() * 1e6) / 1e3,
      tokens: Math.floor(random() * 4000),
    };
    if (random() < 0.5) metrics.cost_usd = random() * 1e-3;
    if (random() < 0.2) metrics.error = random() < 0.5 ? 1 : 0;
    const dims: Record<string, string> = { model: pick(['a', 'b', 'c']) };
    if (random() < 0.3) dims.region = pick(['eu', 'us']);
    const minute = Math.floor(random() * 360);
    return {
      ts: new Date(Date.parse(`${DAY}T00:00:00Z`) + minute * 60_000 + Math.floor(random() * 60_000)),
      type: pick(['llm_request', 'llm_request', 'gpu_sample']),
      source: pick(['api-1', 'api-2']),
      metrics,
      dims,
      // one in ten repeats an earlier key: a duplicate, counted once whichever batch it arrives in
      key: i > 0 && random() < 0.1 ? `k${Math.floor(random() * i)}` : `k${i}`,
    };
  });
}

/** Batches of 1 to 400 events, in order. */
function batches<T>(xs: readonly T[], seed: number): T[][] {
  const random = prng(seed);
  const out: T[][] = [];
  for (let at = 0; at < xs.length;) {
    const size = 1 + Math.floor(random() * 400);
    out.push(xs.slice(at, at + size));
    at += size;
  }
  return out;
}

/**
 * The stored hour states and bins, every column as text. Float8 columns + 0: when a series holds both -0 and 0,
 * which of them its min (or max, or a quantile clamped to them) shows is the one read last — an order neither
 * path defines (SQL's min() neither: it depends on the plan), so the two zeros are compared as equal.
 */
async function hourStates(db: Database): Promise<unknown[]> {
  const { rows } = await db.query(
    `SELECT s.bucket, s.event_type, s.metric, s.dimension, s.dimension_value, s.count::text, s.sum::text,
            s.sum_squares::text, (s.min + 0)::text AS min, (s.max + 0)::text AS max, (s.p50 + 0)::text AS p50,
            (s.p95 + 0)::text AS p95, (s.p99 + 0)::text AS p99,
            b.signs::text, b.keys::text, b.counts::text
     FROM aggregate_state s JOIN aggregate_sketch_bins b USING (level, bucket, event_type, metric, dimension, dimension_value)
     WHERE s.level = 'hour'
     ORDER BY 1, 2, 3, 4, 5`,
  );
  return rows;
}

async function hourWindows(db: Database): Promise<{ complete: boolean; rows: number }[]> {
  const { rows } = await db.query<{ complete: boolean; rows: number }>(
    `SELECT partials_complete AS complete, partial_rows AS rows FROM aggregation_windows
     WHERE level = 'hour' ORDER BY bucket`,
  );
  return rows.map((r) => ({ complete: r.complete, rows: Number(r.rows) }));
}

/** Recomputes every hour of DAY from raw rows (a backfill) and returns the states. */
async function fromRaw(db: Database): Promise<unknown[]> {
  const backfill = await runAggregation(deps(db), {
    level: 'hour',
    trigger: 'backfill',
    from: `${DAY}T00:00:00Z`,
    to: `${DAY}T06:00:00Z`,
    now: LATER,
  });
  if (backfill.windowsFailed > 0) throw new Error('the backfill failed');
  return hourStates(db);
}

async function hourly(t: ExecutionContext, db: Database): Promise<number> {
  const run = await runAggregation(deps(db), { level: 'hour', trigger: 'cron', now: LATER });
  t.is(run.windowsFailed, 0);
  return run.rowsIn;
}

bothBackends(
  'hours merged from partials equal hours computed from raw rows: exact sums, identical bins',
  async (t, db) => {
    const events = randomEvents(11, 2500);
    const [early, late] = [events.slice(0, 2000), events.slice(2000)];
    let stored = 0;
    for (const batch of batches(early, 5)) stored += await storeTestEvents(db, batch);
    // a whole batch again: every event a duplicate, nothing added to any partial
    t.is(await storeTestEvents(db, early.slice(0, 300)), 0);
    t.is(await hourly(t, db), stored, 'every stored row counted once, from the partials');
    const merged = await hourStates(db);
    t.true(merged.length > 50);
    t.true((await hourWindows(db)).every((w) => w.complete));
    t.deepEqual(await fromRaw(db), merged);

    // After the raw path each hour's partials are its state: one row per series, complete.
    const { rows: perSeries } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM aggregate_partials
       GROUP BY bucket, event_type, metric, dimension, dimension_value ORDER BY 1 DESC LIMIT 1`,
    );
    t.is(perSeries[0]?.n, 1);
    t.deepEqual(
      (await hourWindows(db)).map((w) => w.complete),
      (await hourWindows(db)).map(() => true),
    );

    // Late events, some repeating known keys, add partials to the replaced ones.
    for (const batch of batches(late, 6)) stored += await storeTestEvents(db, batch);
    await hourly(t, db);
    const withLate = await hourStates(db);
    t.notDeepEqual(withLate, merged);
    const rows = (await hourWindows(db)).reduce((n, w) => n + w.rows, 0);
    t.is(rows, stored);
    t.deepEqual(await fromRaw(db), withLate);
  },
);

bothBackends('an hour given rows without partials is read raw, and its partials replaced', async (t, db) => {
  const events = randomEvents(12, 600);
  for (const batch of batches(events.slice(0, 400), 7)) await storeTestEvents(db, batch);
  const bySql = await storeTestEventsBySql(db, events.slice(400));
  t.true(bySql > 0);
  t.true((await hourWindows(db)).some((w) => !w.complete));
  await hourly(t, db);
  t.true((await hourWindows(db)).every((w) => w.complete));
  const states = await hourStates(db);
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM raw_events`);
  t.is(
    (await hourWindows(db)).reduce((n, w) => n + w.rows, 0),
    rows[0]!.n,
    'the replaced partials hold every raw row',
  );
  t.deepEqual(await fromRaw(db), states);
});

bothBackends('a batch rolled back leaves no partial and no row', async (t, db) => {
  const events = randomEvents(13, 50).map((e, i) => ({ ...e, key: `r${i}` }));
  await t.throwsAsync(
    db.transaction(async (tx) => {
      await storeEvents(
        tx,
        events.map((e) => ({
          idempotencyKey: e.key!,
          eventType: e.type!,
          timestamp: new Date(e.ts).toISOString(),
          source: e.source!,
          metricNames: Object.keys(e.metrics),
          metricValues: Object.values(e.metrics),
          dimensionNames: Object.keys(e.dims ?? {}),
          dimensionValues: Object.values(e.dims ?? {}),
          data: e.metrics,
        })),
        [],
        { embedded: db.embedded },
      );
      const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM aggregate_partials');
      t.true(rows[0]!.n > 0, 'the batch wrote partials');
      throw new Error('crash before commit');
    }),
    { message: 'crash before commit' },
  );
  const { rows } = await db.query<{ partials: number; raw: number; windows: number }>(
    `SELECT (SELECT count(*)::int FROM aggregate_partials) AS partials, (SELECT count(*)::int FROM raw_events) AS raw,
            (SELECT count(*)::int FROM aggregation_windows) AS windows`,
  );
  t.deepEqual(rows[0], { partials: 0, raw: 0, windows: 0 });
  // stored again, the same events count once
  t.is(await storeTestEvents(db, events), 50);
  t.is(await hourly(t, db), 50);
});

bothBackends('an hour stored by many small batches keeps its partials bounded once merged', async (t, db) => {
  // one event per batch, as live ingestion at a low rate writes them; one model, so the hour has six series
  const random = prng(14);
  const events: TestEvent[] = Array.from({ length: 3 * PARTIALS_KEPT_PER_SERIES }, (_, i) => ({
    ts: new Date(Date.parse(`${DAY}T02:00:00Z`) + i * 1000),
    metrics: { latency_ms: Math.round(random() * 1e5) / 100, tokens: Math.floor(random() * 4000) },
    dims: { model: 'a' },
    key: `s${i}`,
  }));
  for (const event of events) await storeTestEvents(db, [event]);
  const count = async (): Promise<number> =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM aggregate_partials')).rows[0]!.n;
  const series = async (): Promise<number> =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM aggregate_state WHERE level = 'hour'`))
      .rows[0]!.n;
  const before = await count();
  t.is(await hourly(t, db), events.length);
  const merged = await hourStates(db);
  t.true(before > PARTIALS_KEPT_PER_SERIES * (await series()), `${before} partial rows before`);
  t.is(await count(), await series(), 'one partial per series once merged');
  t.deepEqual(await hourWindows(db), [{ complete: true, rows: events.length }]);
  t.deepEqual(await fromRaw(db), merged);
});
