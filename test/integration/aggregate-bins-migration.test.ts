// Migration 000005 turns one row per sketch bin into one row per series with sorted bin arrays. A database
// aggregated before it must keep working: its bins keep their counts, land in value order, and rollups over
// them give the quantiles the TypeScript sketch gives for the same bins.
import type { ExecutionContext } from 'ava';
import { loadMigrations, migrate, type Database } from '../../shared/db/index.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import { QuantileSketch } from '../../shared/sketch/index.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { deps } from './aggregate-fixtures.ts';

const HOURS = ['2026-11-02T01:00:00Z', '2026-11-02T02:00:00Z'];
const SERIES = ['llm_request', 'latency_ms', 'all', '*'] as const;
// Negatives, values in the zero bin, positives below and above 1: every sign and key order is exercised.
const VALUES = [
  [-40, -3.5, -3.5, 0, 1e-12, 0.25, 0.5, 1, 2, 17, 17.5, 900],
  [-1000, -0.01, 0, 0.125, 3, 3, 3, 42, 43, 44, 10_000],
];

async function insertOldLayout(
  db: Database,
  bucket: string,
  values: readonly number[],
): Promise<QuantileSketch> {
  const sketch = new QuantileSketch();
  for (const v of values) sketch.add(v);
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  await db.query(
    `INSERT INTO aggregate_state (level, bucket, event_type, metric, dimension, dimension_value, count, sum,
       sum_squares, min, max, p50, p95, p99)
     VALUES ('hour', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, NULL)`,
    [bucket, ...SERIES, values.length, sum, squares, sketch.min, sketch.max],
  );
  // Stored in reverse value order on purpose: the migration must sort, not keep insertion order.
  for (const bin of sketch.toBins().reverse()) {
    await db.query(
      `INSERT INTO aggregate_sketch_bins (level, bucket, event_type, metric, dimension, dimension_value, sign, key, count)
       VALUES ('hour', $1, $2, $3, $4, $5, $6, $7, $8)`,
      [bucket, ...SERIES, bin.sign, bin.key, bin.count],
    );
  }
  return sketch;
}

serviceTest('postgres')(
  'migration 000005 keeps existing sketch bins, in value order, for rollups',
  async (t: ExecutionContext) => {
    const { db, drop } = await freshPgDatabase({ migrate: false });
    t.teardown(drop);
    const all = await loadMigrations();
    await migrate(db, { migrations: all.filter((m) => m.version < 5) });
    const sketches = [];
    for (const [i, bucket] of HOURS.entries())
      sketches.push(await insertOldLayout(db, bucket, VALUES[i] ?? []));
    const viewColumns = async () =>
      (await db.query('SELECT * FROM daily_aggregations LIMIT 0')).fields.map((f) => f.name).join(',');
    const columnsBefore = await viewColumns();

    t.deepEqual(
      await migrate(db),
      all.filter((m) => m.version >= 5).map((m) => m.version),
    );

    const { rows } = await db.query<{ bucket: Date; signs: number[]; keys: number[]; counts: number[] }>(
      `SELECT bucket, signs, keys, counts FROM aggregate_sketch_bins WHERE level = 'hour' ORDER BY bucket`,
    );
    t.is(rows.length, HOURS.length);
    for (const [i, row] of rows.entries()) {
      const bins = (sketches[i] as QuantileSketch).toBins();
      t.deepEqual(
        row.signs,
        bins.map((b) => b.sign),
      );
      t.deepEqual(
        row.keys,
        bins.map((b) => b.key),
      );
      t.deepEqual(
        row.counts.map(Number),
        bins.map((b) => b.count),
      );
    }
    t.is(await viewColumns(), columnsBefore);

    // The day above the migrated hours, rolled up from their bins, matches the merged TypeScript sketch exactly.
    const summary = await runAggregation(deps(db), {
      level: 'day',
      trigger: 'backfill',
      from: '2026-11-02T00:00:00Z',
      to: '2026-11-03T00:00:00Z',
      now: new Date('2026-11-04T00:00:00Z'),
    });
    t.is(summary.status, 'succeeded');
    const merged = new QuantileSketch();
    for (const s of sketches) merged.merge(s);
    const { rows: day } = await db.query<{ count: number; p50: number; p95: number; p99: number }>(
      `SELECT count, p50, p95, p99 FROM daily_aggregations WHERE dimension = 'all'`,
    );
    t.deepEqual(day, [
      {
        count: merged.count,
        p50: merged.quantile(0.5),
        p95: merged.quantile(0.95),
        p99: merged.quantile(0.99),
      },
    ]);
    const { rows: dayBins } = await db.query<{ n: number }>(
      `SELECT sum(cardinality(keys))::int AS n FROM aggregate_sketch_bins WHERE level = 'day'`,
    );
    t.is(dayBins[0]?.n, merged.toBins().length);
  },
);
