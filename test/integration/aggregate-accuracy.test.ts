// Aggregates equal direct SQL over raw events: count/sum/min/max exactly, avg/stddev to float8 rounding,
// p50/p95/p99 within the sketch's 1% of the exact percentiles; a day built from hours equals the day computed
// straight from raw events. Each test runs on real PostgreSQL and on PGlite.
import type { ExecutionContext } from 'ava';
import type { Database } from '../../shared/db/index.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import { sqlKey, sqlQuantileQuery, sqlSign } from '../../shared/sketch/index.ts';
import {
  DIRECT_VALUES,
  bothBackends,
  deps,
  normal,
  rng,
  storeTestEvents,
  type TestEvent,
} from './aggregate-fixtures.ts';

// 1001 values per series: q·(n−1) is then a whole rank for q = .5, .95, .99 (500, 950, 990), so
// percentile_cont returns an order statistic without interpolating, and the sketch's guarantee (its estimate
// is within α = 1% of the value at that rank) is exactly what can be compared.
const N = 1001;
const MODELS = ['llama-3-70b', 'mistral-7b'];
const SOURCES = ['api-1', 'api-2', 'api-3'];

/**
 * Metrics with the four distributions under test, plus a signed one:
 * - uniform: tokens_in ~ U(1, 1000)
 * - log-normal, latency-like: latency_ms = e^(5 + 0.8·Z)
 * - constant: const = 42.5
 * - zero-heavy: exactly 600 of 1001 are 0, the rest U(1, 100). Sorted, indices 0..599 are 0 and 600.. are
 *   positive; the ranks 500 (p50), 950 (p95) and 990 (p99) are whole numbers away from that boundary, so
 *   percentile_cont never interpolates between a 0 and a positive value (which no bin-based estimate could
 *   match within a relative error).
 * - delta ~ 50·Z (negative and positive values, some exactly 0)
 */
function dataset(seed: number, place: (i: number, random: () => number) => Date): TestEvent[] {
  const random = rng(seed);
  return Array.from({ length: N }, (_, i) => ({
    ts: place(i, random),
    source: SOURCES[i % SOURCES.length] ?? 'api-1',
    dims: { model: MODELS[Math.floor(random() * MODELS.length)] ?? 'x' },
    metrics: {
      tokens_in: 1 + random() * 999,
      latency_ms: Math.exp(5 + 0.8 * normal(random)),
      const: 42.5,
      zero_heavy: i < 600 ? 0 : 1 + random() * 99,
      delta: i % 50 === 0 ? 0 : 50 * normal(random),
    },
  }));
}

interface Compared {
  series: number;
  mismatches: Record<string, unknown>[];
}

/**
 * Joins the stored state of `level`/`bucket` with the same statistics computed directly from raw events in
 * [from, to) and returns rows that differ. count, sum and sum_squares compare as exact numerics, min/max as
 * float8. avg/stddev: the view casts the exact numeric formulas to float8; the direct side computes
 * avg(value::numeric) and stddev_samp(value::numeric) — the same numeric math, but PostgreSQL picks the
 * division's result scale per call, so the two may differ in the last float8 bits: 1e-12 relative.
 */
async function compareWithDirect(
  db: Database,
  level: string,
  bucket: string,
  from: string,
  to: string,
): Promise<Compared> {
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH v AS (${DIRECT_VALUES}),
     direct AS (
       SELECT event_type, metric, dimension, dimension_value, count(*) AS count, sum(value::numeric) AS sum,
              sum(value::numeric * value::numeric) AS sum_squares, min(value) AS min, max(value) AS max,
              avg(value::numeric)::float8 AS avg, stddev_samp(value::numeric)::float8 AS stddev
       FROM v WHERE ts >= $3::timestamptz AND ts < $4::timestamptz
       GROUP BY 1, 2, 3, 4
     ),
     stored AS (
       SELECT s.*, a.avg, a.stddev FROM aggregate_state s
       JOIN aggregations a ON a.level = s.level AND a."timestamp" = s.bucket AND a.event_type = s.event_type
         AND a.metric = s.metric AND a.dimension = s.dimension AND a.dimension_value = s.dimension_value
       WHERE s.level = $1 AND s.bucket = $2::timestamptz
     )
     SELECT coalesce(d.metric, s.metric) AS metric, coalesce(d.dimension, s.dimension) AS dimension,
            coalesce(d.dimension_value, s.dimension_value) AS dimension_value,
            d.count AS d_count, s.count AS s_count, d.sum::text AS d_sum, s.sum::text AS s_sum,
            d.min AS d_min, s.min AS s_min, d.max AS d_max, s.max AS s_max, d.avg AS d_avg, s.avg AS s_avg,
            d.stddev AS d_stddev, s.stddev AS s_stddev,
            (d.count IS NOT DISTINCT FROM s.count AND d.sum = s.sum AND d.sum_squares = s.sum_squares
             AND d.min = s.min AND d.max = s.max
             AND abs(d.avg - s.avg) <= 1e-12 * greatest(abs(d.avg), 1e-300)
             AND (d.stddev IS NULL AND s.stddev IS NULL
                  OR abs(d.stddev - s.stddev) <= 1e-12 * greatest(abs(d.stddev), 1e-300))) AS ok
     FROM direct d FULL JOIN stored s USING (event_type, metric, dimension, dimension_value)`,
    [level, bucket, from, to],
  );
  return { series: rows.length, mismatches: rows.filter((r) => r.ok !== true) };
}

/** Exact percentile_cont of the total series per metric, next to the stored p50/p95/p99. */
async function quantilesVsExact(db: Database, level: string, bucket: string, from: string, to: string) {
  const { rows } = await db.query<{
    metric: string;
    n: number;
    e50: number;
    e95: number;
    e99: number;
    p50: number;
    p95: number;
    p99: number;
  }>(
    `WITH exact AS (
       SELECT m.metric, count(*) AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY m.value) AS e50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY m.value) AS e95,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY m.value) AS e99
       FROM raw_events r, unnest(r.metric_names, r.metric_values) AS m(metric, value)
       WHERE r.ts >= $3::timestamptz AND r.ts < $4::timestamptz GROUP BY m.metric
     )
     SELECT e.*, s.p50, s.p95, s.p99 FROM exact e
     JOIN aggregate_state s ON s.metric = e.metric AND s.level = $1 AND s.bucket = $2::timestamptz
       AND s.dimension = 'all' AND s.dimension_value = '*'`,
    [level, bucket, from, to],
  );
  return rows;
}

function within1Percent(
  t: ExecutionContext,
  metric: string,
  name: string,
  estimate: number,
  exact: number,
): void {
  const error = Math.abs(estimate - exact);
  t.true(error <= 0.01 * Math.abs(exact) + 1e-12, `${metric} ${name}: sketch ${estimate} vs exact ${exact}`);
}

function checkQuantiles(t: ExecutionContext, rows: Awaited<ReturnType<typeof quantilesVsExact>>): void {
  t.deepEqual(rows.map((r) => r.metric).sort(), ['const', 'delta', 'latency_ms', 'tokens_in', 'zero_heavy']);
  for (const r of rows) {
    t.is(r.n, N);
    within1Percent(t, r.metric, 'p50', r.p50, r.e50);
    within1Percent(t, r.metric, 'p95', r.p95, r.e95);
    within1Percent(t, r.metric, 'p99', r.p99, r.e99);
  }
  const byMetric = new Map(rows.map((r) => [r.metric, r]));
  // The constant is exact (clamped to [min, max]); the zero-heavy median is the zero bin, exactly 0.
  t.is(byMetric.get('const')?.p50, 42.5);
  t.is(byMetric.get('const')?.p99, 42.5);
  t.is(byMetric.get('zero_heavy')?.p50, 0);
  t.true((byMetric.get('zero_heavy')?.p95 ?? 0) > 1);
}

bothBackends('hour state equals direct SQL; quantiles within 1% of percentile_cont', async (t, db) => {
  const hour = '2026-11-02T10:00:00.000Z';
  await storeTestEvents(
    db,
    dataset(7, (i) => new Date(Date.parse(hour) + Math.floor((i * 3_600_000) / N))),
  );
  const summary = await runAggregation(deps(db), {
    level: 'hour',
    trigger: 'manual',
    now: new Date('2026-11-02T11:00:00Z'),
  });
  t.is(summary.status, 'succeeded');
  t.is(summary.windowsDone, 1);
  t.is(summary.rowsIn, N);

  const compared = await compareWithDirect(db, 'hour', hour, hour, '2026-11-02T11:00:00Z');
  // 5 metrics × (all + 3 sources + 2 models)
  t.is(compared.series, 5 * 6);
  t.deepEqual(compared.mismatches, []);
  checkQuantiles(t, await quantilesVsExact(db, 'hour', hour, hour, '2026-11-02T11:00:00Z'));

  const { rows: view } = await db.query<{ timestamp: Date; count: number }>(
    `SELECT "timestamp", count FROM hourly_aggregations WHERE metric = 'tokens_in' AND dimension = 'all'`,
  );
  t.deepEqual(view, [{ timestamp: new Date(hour), count: N }]);
});

bothBackends('a day built from hours equals the day computed from raw events', async (t, db) => {
  const day = '2026-11-02T00:00:00.000Z';
  const next = '2026-11-03T00:00:00.000Z';
  await storeTestEvents(
    db,
    dataset(11, (_i, random) => new Date(Date.parse(day) + Math.floor(random() * 86_400_000))),
  );
  const d = deps(db);
  const hours = await runAggregation(d, { level: 'hour', trigger: 'manual', now: new Date(next) });
  t.is(hours.status, 'succeeded');
  t.is(hours.windowsDone, 24);
  const days = await runAggregation(d, { level: 'day', trigger: 'manual', now: new Date(next) });
  t.is(days.status, 'succeeded');
  t.deepEqual(
    days.windows.map((w) => w.bucket),
    [day],
  );

  const compared = await compareWithDirect(db, 'day', day, day, next);
  t.is(compared.series, 5 * 6);
  t.deepEqual(compared.mismatches, []);
  checkQuantiles(t, await quantilesVsExact(db, 'day', day, day, next));

  // Merged hourly bins are exactly the bins of the whole day, so every series' quantiles equal the
  // quantiles of a sketch built from the day's raw values at once.
  const direct = sqlQuantileQuery({
    bins: `(SELECT event_type, metric, dimension, dimension_value, ${sqlSign('value')} AS sign, ${sqlKey('value')} AS key,
              1::bigint AS count FROM (${DIRECT_VALUES}) v0 WHERE ts >= '${day}' AND ts < '${next}')`,
    groupBy: ['event_type', 'metric', 'dimension', 'dimension_value'],
    bounds: {
      relation: `(SELECT event_type, metric, dimension, dimension_value, min(value) AS min, max(value) AS max
                  FROM (${DIRECT_VALUES}) v1 WHERE ts >= '${day}' AND ts < '${next}' GROUP BY 1, 2, 3, 4)`,
    },
  });
  const { rows: diff } = await db.query(
    `WITH direct AS (${direct})
     SELECT * FROM direct d FULL JOIN (SELECT * FROM aggregate_state WHERE level = 'day') s
       USING (event_type, metric, dimension, dimension_value)
     WHERE d.count IS DISTINCT FROM s.count OR d.p50 IS DISTINCT FROM s.p50
        OR d.p95 IS DISTINCT FROM s.p95 OR d.p99 IS DISTINCT FROM s.p99`,
  );
  t.deepEqual(diff, []);
  const { rows: bins } = await db.query<{ n: number }>(
    `SELECT sum(cardinality(keys))::int AS n FROM aggregate_sketch_bins WHERE level = 'day'`,
  );
  t.true((bins[0]?.n ?? 0) > 100);
});
