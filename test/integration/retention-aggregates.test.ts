// Aggregates and bookkeeping past their retention: hourly state exported per month to Parquet (read back
// by DuckDB), verified, then deleted while the rollups above it stay as they were; a month whose rollups
// are not final is kept; dead letters, finished runs, idempotency keys and Kafka claims expire by their
// settings.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../shared/db/index.ts';
import { listArchives, runRetentionSweep } from '../../shared/retention/index.ts';
import { bothBackends, storeTestEvents, type TestEvent } from './aggregate-fixtures.ts';
import { downloadParquet } from '../fixtures/duckdb-reader.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { DAY, NOW, aggregateAll, localStore, retentionDeps, testPolicy } from '../fixtures/retention.ts';

const HOUR = 3_600_000;
const POLICY = {
  BATCH_PROCESSING_AGGREGATED_DATA_RETENTION_DAYS: '4',
  BATCH_PROCESSING_DAILY_AGGREGATES_RETENTION_DAYS: '365',
  BATCH_PROCESSING_WEEKLY_AGGREGATES_RETENTION_DAYS: '365',
  BATCH_PROCESSING_MONTHLY_AGGREGATES_RETENTION_DAYS: '365',
};

/** Two events an hour for the ten days before NOW (2026-10-26 to 2026-11-04). */
async function tenDays(db: Database): Promise<void> {
  const events: TestEvent[] = [];
  const end = Math.floor(NOW.getTime() / DAY) * DAY;
  for (let t = end - 10 * DAY; t < end; t += HOUR) {
    const k = (t / HOUR) % 97;
    events.push({
      ts: new Date(t + 60_000),
      metrics: { latency_ms: 100 + k, cost_usd: k / 1000 },
      dims: { model: 'm1' },
    });
    events.push({
      ts: new Date(t + 1_800_000),
      type: 'system_metric',
      source: 'gpu-1',
      metrics: { cpu_usage: 40 + (k % 50) },
    });
  }
  await storeTestEvents(db, events);
  await aggregateAll(db);
}

const textOf = async (db: Database, where: string): Promise<string[]> =>
  (
    await db.query<{ row: string }>(
      `SELECT concat_ws('|', level, "timestamp", event_type, metric, dimension, dimension_value, count, sum, min, max, p50, p95, p99) AS row
       FROM aggregations WHERE ${where} ORDER BY 1`,
    )
  ).rows.map((r) => r.row);

bothBackends(
  'hourly state past its retention is archived per month, read back by DuckDB, then deleted; the rollups stay',
  async (t, db) => {
    await tenDays(db);
    const store = await localStore(t);
    const rollups = await textOf(db, `level <> 'hour'`);
    const hours = await db.query<{ n: number; count: number }>(
      `SELECT count(*)::int8 AS n, sum(count)::int8 AS count FROM aggregate_state WHERE level = 'hour' AND bucket < '2026-11-01'`,
    );
    const deps = retentionDeps(db, store, { policy: testPolicy(POLICY) });
    const summary = await runRetentionSweep(deps, { trigger: 'manual' });
    t.is(summary.status, 'succeeded', JSON.stringify(summary.error));
    const aggregates = summary.units.filter((u) => u.kind === 'aggregate');
    t.deepEqual(
      aggregates.map((u) => [u.unit, u.action, u.outcome]),
      [['hour/2026-10', 'archive', 'done']],
    );
    t.is(
      aggregates.reduce((s, u) => s + u.rows, 0),
      Number(hours.rows[0]?.n),
    );
    const left = await db.query<{ n: number }>(
      `SELECT count(*)::int8 AS n FROM aggregate_state WHERE level = 'hour' AND bucket < '2026-11-01'`,
    );
    t.is(Number(left.rows[0]?.n), 0);
    const bins = await db.query<{ n: number }>(
      `SELECT count(*)::int8 AS n FROM aggregate_sketch_bins WHERE level = 'hour' AND bucket < '2026-11-01'`,
    );
    t.is(Number(bins.rows[0]?.n), 0);
    t.deepEqual(await textOf(db, `level <> 'hour'`), rollups);
    t.true((await textOf(db, `level = 'hour'`)).length > 0, 'November hours stay');
    t.deepEqual(
      (await listArchives(db, { kind: 'aggregate' })).map((a) => [a.unit, a.status]),
      [['hour/2026-10', 'archived']],
    );

    const { files, cleanup } = await downloadParquet(store, 'aggregates/');
    t.teardown(cleanup);
    t.true(files.length >= 1);
    t.true(files.every((f) => /aggregates\/level=hour\/month=2026-10\/part-\d{4}\.parquet$/.test(f)));
    const instance = await DuckDBInstance.create(':memory:');
    const duck = await instance.connect();
    const read = await duck.runAndReadAll(
      `SELECT count(*) AS n, sum(count) AS count, count(DISTINCT level) AS levels,
            sum(len(sketch_keys)) > 0 AS bins, typeof(any_value(bucket)) AS bucket_type
     FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`,
    );
    const [figures] = read.getRowObjectsJson();
    duck.disconnectSync();
    t.like(figures, {
      n: String(hours.rows[0]?.n),
      count: String(hours.rows[0]?.count),
      levels: '1',
      bins: true,
      bucket_type: 'TIMESTAMP WITH TIME ZONE',
    });

    // the manifest names the exact numeric sums per series
    const manifest = JSON.parse(
      (await store.get('aggregates/level=hour/month=2026-10/manifest.json')).toString(),
    ) as {
      rows: number;
      series: Record<string, { count: number; sum: string }>;
    };
    t.is(manifest.series['llm_request/latency_ms']?.count, 6 * 24);
  },
);

bothBackends('an hourly month whose days are not final is kept', async (t, db) => {
  await tenDays(db);
  await db.query(
    `UPDATE aggregation_windows SET changed_seq = nextval('window_change_seq') WHERE level = 'day' AND bucket = '2026-10-29'`,
  );
  const store = await localStore(t);
  const summary = await runRetentionSweep(retentionDeps(db, store, { policy: testPolicy(POLICY) }), {
    trigger: 'manual',
  });
  const october = summary.units.find((u) => u.unit === 'hour/2026-10');
  t.is(october?.outcome, 'kept');
  t.regex(october?.reason ?? '', /the day window 2026-10-29T00:00:00.000Z is not final yet/);
  t.is(
    Number(
      (await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM aggregate_state WHERE level = 'hour'`))
        .rows[0]?.n,
    ) > 0,
    true,
  );
});

bothBackends(
  'dead letters, finished runs, idempotency keys of events and requests and Kafka claims expire by their settings',
  async (t, db) => {
    const ago = (days: number) => new Date(NOW.getTime() - days * DAY);
    for (const [days, key] of [
      [12, 'old'],
      [8, 'new'],
    ] as const) {
      await db.query(
        `INSERT INTO dead_letters (received_at, origin, idempotency_key, reason_code, reason, payload)
       VALUES ($1, 'http', $2, 'EVENT_SCHEMA', 'bad', '\\x00')`,
        [ago(days), `dl-${key}`],
      );
      await db.query(
        `INSERT INTO runs (job, trigger, status, started_at, finished_at) VALUES ('aggregate-hour', 'cron', 'succeeded', $1, $1)`,
        [ago(days + 100)],
      );
      await db.query(`INSERT INTO event_keys (idempotency_key, ts, first_seen) VALUES ($1, $2, $2)`, [
        `id:${key}-${randomUUID()}`,
        ago(days + 25),
      ]);
      await db.query(
        `INSERT INTO kafka_record_claims (topic, partition, first_offset, end_offset, claimed_at) VALUES ('t', 0, $1::int8, $1::int8 + 10, $2)`,
        [days * 100, ago(days + 25)],
      );
      await db.query(
        `INSERT INTO push_requests (request_key, fingerprint, answer, received_at) VALUES ($1, '\\x00', '{}', $2)`,
        [`req-${key}`, ago(days + 25)],
      );
    }
    // the newest run of a job is kept however old, so the status page can say when it last ran
    await db.query(
      `INSERT INTO runs (job, trigger, status, started_at, finished_at) VALUES ('aggregate-month', 'cron', 'succeeded', $1, $1)`,
      [ago(400)],
    );
    const policy = testPolicy({
      BATCH_PROCESSING_DEAD_LETTER_RETENTION_DAYS: '10',
      BATCH_PROCESSING_RUNS_RETENTION_DAYS: '100',
      BATCH_PROCESSING_DEDUP_KEYS_RETENTION_DAYS: '35',
      BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '30',
    });
    const deps = retentionDeps(db, await localStore(t), { policy });
    const plan = await runRetentionSweep(deps, { trigger: 'manual', dryRun: true });
    t.deepEqual(
      plan.units.map((u) => [u.kind, u.rows, u.action]),
      [
        ['dead_letters', 1, 'delete'],
        ['runs', 1, 'delete'],
        ['dedup_keys', 1, 'delete'],
        ['request_keys', 1, 'delete'],
        ['kafka_claims', 1, 'delete'],
      ],
    );
    const summary = await runRetentionSweep(deps, { trigger: 'manual' });
    t.is(summary.totals.deletedRows, 5);
    const count = async (sql: string) => Number((await db.query<{ n: number }>(sql)).rows[0]?.n);
    t.is(await count(`SELECT count(*)::int8 AS n FROM dead_letters WHERE idempotency_key = 'dl-new'`), 1);
    t.is(await count(`SELECT count(*)::int8 AS n FROM dead_letters`), 1);
    t.is(await count(`SELECT count(*)::int8 AS n FROM runs WHERE job = 'aggregate-hour'`), 1);
    t.is(await count(`SELECT count(*)::int8 AS n FROM runs WHERE job = 'aggregate-month'`), 1);
    t.is(await count(`SELECT count(*)::int8 AS n FROM event_keys`), 1);
    t.is(await count(`SELECT count(*)::int8 AS n FROM kafka_record_claims`), 1);
    t.is(await count(`SELECT count(*)::int8 AS n FROM push_requests WHERE request_key = 'req-new'`), 1);
    t.is(await count(`SELECT count(*)::int8 AS n FROM push_requests`), 1);

    // unset, the key retention follows the raw retention: 30 days + the skew (under a day) + 1 day = 32
    t.is(testPolicy({ BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '30' }).dedupKeysDays, 32);
  },
);
