// The whole library path a user takes: a topic holding a week of events → pull ingestion → hourly
// aggregation → daily/weekly/monthly rollups → rows read from the contract views. Expected figures come
// from the generated events themselves (and the TS reference sketch), not from the database under test.
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { createTopics, produceValues, testKafka, uniqueSuffix } from '../fixtures/ingest-kafka.ts';
import { pullFromKafka } from '../../shared/ingest/index.ts';
import { runAggregation, DEFAULT_JOB_OPTIONS } from '../../shared/jobs/index.ts';
import { QuantileSketch } from '../../shared/sketch/index.ts';

const WEEK_START = Date.UTC(2026, 10, 16); // Monday 2026-11-16
const DAYS = 7;
const PER_HOUR = 6;
const MODELS = ['llama-3-70b', 'mixtral-8x7b'];

interface Generated {
  values: string[];
  perDay: Map<string, { latencies: number[]; errors: number }>;
}

/** A deterministic week of llm_request events with a latency that varies by hour and model. */
function generateWeek(): Generated {
  const values: string[] = [];
  const perDay = new Map<string, { latencies: number[]; errors: number }>();
  let seed = 7;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (let hour = 0; hour < DAYS * 24; hour++) {
    for (let i = 0; i < PER_HOUR; i++) {
      const ts = new Date(WEEK_START + hour * 3_600_000 + i * 600_000);
      const latency = Math.round(200 + 1800 * random() ** 2 + (hour % 24) * 10);
      const error = random() < 0.05;
      const day = ts.toISOString().slice(0, 10);
      const stats = perDay.get(day) ?? { latencies: [], errors: 0 };
      stats.latencies.push(latency);
      stats.errors += error ? 1 : 0;
      perDay.set(day, stats);
      values.push(
        JSON.stringify({
          event_type: 'llm_request',
          timestamp: ts.toISOString(),
          source: `api-${(i % 2) + 1}`,
          id: `week-${hour}-${i}`,
          data: { model: MODELS[i % MODELS.length], latency_ms: latency, tokens_out: 100 + i, error },
        }),
      );
    }
  }
  return { values, perDay };
}

serviceTest('postgres', 'kafka')(
  'a week on a topic reads back correctly from daily_aggregations',
  async (t) => {
    const fresh = await freshPgDatabase();
    t.teardown(() => fresh.drop());
    const kafka = testKafka();
    const topic = `hxp.test.week.${uniqueSuffix()}`;
    const groupId = `hxp-test-week-${uniqueSuffix()}`;
    await createTopics(t, kafka, [topic], 3, [groupId]);
    const { values, perDay } = generateWeek();
    await produceValues(kafka, topic, values, 3);

    // After the month closes, so the monthly window is due too (an open window is never aggregated).
    const now = new Date(Date.UTC(2026, 11, 1, 1));
    const pulled = await pullFromKafka(
      { db: fresh.db, kafka },
      { groupId, topics: [topic], idleMs: 2_000, maxDurationMs: 60_000, now: () => now.getTime() },
    );
    t.is(pulled.stored, values.length);
    t.is(pulled.rejected, 0);

    const deps = { db: fresh.db, options: DEFAULT_JOB_OPTIONS, clock: () => now };
    const hourly = await runAggregation(deps, { level: 'hour', trigger: 'manual' });
    t.is(hourly.status, 'succeeded');
    t.is(hourly.windowsDone, DAYS * 24);
    for (const level of ['day', 'week', 'month'] as const) {
      const summary = await runAggregation(deps, { level, trigger: 'manual' });
      t.is(summary.status, 'succeeded', `${level} rollup`);
    }

    const { rows } = await fresh.db.query<{
      timestamp: Date;
      count: number;
      sum: number;
      min: number;
      max: number;
      p50: number;
      p95: number;
      p99: number;
    }>(
      `SELECT "timestamp", count, sum, min, max, p50, p95, p99 FROM daily_aggregations
      WHERE event_type = 'llm_request' AND metric = 'latency_ms' AND dimension = 'all'
      ORDER BY "timestamp"`,
    );
    t.is(rows.length, DAYS);
    for (const row of rows) {
      const day = row.timestamp.toISOString().slice(0, 10);
      const expected = perDay.get(day);
      if (!expected) return t.fail(`unexpected day ${day}`);
      const sketch = new QuantileSketch();
      for (const v of expected.latencies) sketch.add(v);
      t.is(row.count, expected.latencies.length, day);
      t.is(
        row.sum,
        expected.latencies.reduce((a, b) => a + b, 0),
        day,
      );
      t.is(row.min, Math.min(...expected.latencies), day);
      t.is(row.max, Math.max(...expected.latencies), day);
      t.is<number | undefined, number | undefined>(row.p50, sketch.quantile(0.5), `${day} p50`);
      t.is<number | undefined, number | undefined>(row.p95, sketch.quantile(0.95), `${day} p95`);
      t.is<number | undefined, number | undefined>(row.p99, sketch.quantile(0.99), `${day} p99`);
    }

    const errorRate = await fresh.db.query<{ timestamp: Date; avg: number }>(
      `SELECT "timestamp", avg FROM daily_aggregations
      WHERE metric = 'error' AND dimension = 'all' ORDER BY "timestamp"`,
    );
    for (const row of errorRate.rows) {
      const expected = perDay.get(row.timestamp.toISOString().slice(0, 10));
      t.truthy(expected);
      if (expected) t.true(Math.abs(row.avg - expected.errors / expected.latencies.length) < 1e-12);
    }

    const byModel = await fresh.db.query<{ dimension_value: string; count: number }>(
      `SELECT dimension_value, count FROM weekly_aggregations
      WHERE metric = 'latency_ms' AND dimension = 'model' ORDER BY dimension_value`,
    );
    t.deepEqual(
      byModel.rows.map((r) => [r.dimension_value, r.count]),
      MODELS.map((m) => [m, (values.length / MODELS.length) | 0]).sort(),
    );
    const month = await fresh.db.query<{ count: number }>(
      `SELECT count FROM monthly_aggregations WHERE metric = 'latency_ms' AND dimension = 'all'`,
    );
    t.deepEqual(
      month.rows.map((r) => r.count),
      [values.length],
    );
  },
);
