// The retention sweep end to end: 35 days of events, a 30-day raw retention → the 5 oldest days archived to
// Parquet and dropped; DuckDB reads the files back to the same rows, per-type counts and sums; aggregates are
// the same before and after; a dry run changes nothing. On both backends with the local folder, and on real
// PostgreSQL with the S3 gateway.
import type { ExecutionContext } from 'ava';
import type { ObjectStore } from '../../shared/archive/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { listArchives, runRetentionSweep } from '../../shared/retention/index.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { bothBackends } from '../integration/aggregate-fixtures.ts';
import { downloadParquet, duckFigures, duckRows, duckTypes } from '../fixtures/duckdb-reader.ts';
import {
  aggregateAll,
  aggregatesText,
  dayOf,
  loadDemoDays,
  localStore,
  rawFigures,
  rawRowObjects,
  rawRowsText,
  retentionDeps,
  s3Store,
} from '../fixtures/retention.ts';

const s3Test = serviceTest('postgres', 's3');

async function partitions(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'raw_events'::regclass ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

async function archivesThirtyFiveDays(t: ExecutionContext, db: Database, store: ObjectStore): Promise<void> {
  await loadDemoDays(db, { days: 35 });
  await aggregateAll(db);
  const first = new Date(`${dayOf(-35)}T00:00:00Z`);
  const cut = new Date(`${dayOf(-30)}T00:00:00Z`);
  const before = {
    aggregates: await aggregatesText(db),
    rows: await rawRowsText(db, first, cut),
    objects: await rawRowObjects(db, first, cut),
    figures: await rawFigures(db, first, cut),
    partitions: await partitions(db),
  };
  t.is(before.partitions.length, 35);

  // a dry run plans the five days and changes nothing
  const plan = await runRetentionSweep(retentionDeps(db, store), { trigger: 'manual', dryRun: true });
  t.is(plan.status, 'planned');
  const rawPlan = plan.units.filter((u) => u.kind === 'raw');
  t.deepEqual(
    rawPlan.map((u) => [u.unit, u.action, u.outcome]),
    [-35, -34, -33, -32, -31].map((d) => [dayOf(d), 'archive', 'planned']),
  );
  t.is(
    rawPlan.reduce((s, u) => s + u.rows, 0),
    before.rows.length,
  );
  t.deepEqual(await partitions(db), before.partitions);
  t.deepEqual(await store.list(''), []);
  t.deepEqual(await listArchives(db), []);
  const runs = await db.query(`SELECT 1 FROM runs WHERE job = 'retention-sweep'`);
  t.is(runs.rowCount, 0, 'a dry run is not recorded');

  const summary = await runRetentionSweep(retentionDeps(db, store), { trigger: 'manual' });
  t.is(summary.status, 'succeeded', JSON.stringify(summary.error));
  const raw = summary.units.filter((u) => u.kind === 'raw');
  t.deepEqual(
    raw.map((u) => [u.unit, u.outcome]),
    [-35, -34, -33, -32, -31].map((d) => [dayOf(d), 'done']),
  );
  t.is(summary.totals.droppedPartitions, 5);
  t.is(summary.totals.archivedRows, before.rows.length);
  t.deepEqual(await partitions(db), before.partitions.slice(5));
  t.deepEqual(await rawRowsText(db, first, cut), []);
  // the aggregates did not move
  t.deepEqual(await aggregatesText(db), before.aggregates);

  // the archive as DuckDB reads it: the same rows, counts per type and sums
  const keys = (await store.list('raw/')).map((o) => o.key);
  t.deepEqual(
    keys.filter((k) => k.endsWith('manifest.json')),
    [-35, -34, -33, -32, -31].map((d) => `raw/date=${dayOf(d)}/manifest.json`),
  );
  const { files, cleanup } = await downloadParquet(store, 'raw/');
  t.teardown(cleanup);
  t.true(files.length >= 5);
  const types = await duckTypes(files);
  t.like(types, {
    ts: 'TIMESTAMP WITH TIME ZONE',
    event_type: 'VARCHAR',
    metric_names: 'VARCHAR[]',
    metric_values: 'DOUBLE[]',
    ingested_at: 'TIMESTAMP WITH TIME ZONE',
  });
  const duck = await duckFigures(files);
  t.deepEqual(duck.types, before.figures.types);
  t.deepEqual(Object.keys(duck.sums).sort(), Object.keys(before.figures.sums).sort());
  for (const [key, sum] of Object.entries(before.figures.sums)) {
    t.true(
      Math.abs((duck.sums[key] ?? NaN) - sum) <= 1e-9 * Math.abs(sum),
      `${key}: ${duck.sums[key]} vs ${sum}`,
    );
  }
  // every row, every column: what PostgreSQL held is what DuckDB reads
  t.deepEqual(await duckRows(files), before.objects);

  // nothing more is due: a second sweep archives nothing and drops nothing
  const again = await runRetentionSweep(retentionDeps(db, store), { trigger: 'manual' });
  t.is(again.status, 'succeeded');
  t.deepEqual(
    again.units.filter((u) => u.kind === 'raw'),
    [],
  );
  t.deepEqual(
    (await store.list('raw/')).map((o) => o.key),
    keys,
  );
}

bothBackends(
  '35 days, 30-day retention: 5 days archived to the local folder and dropped; DuckDB reads the same rows',
  async (t, db) => {
    await archivesThirtyFiveDays(t, db, await localStore(t));
  },
);

s3Test(
  '35 days, 30-day retention: 5 days archived to S3 and dropped; DuckDB reads the same rows',
  async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    await archivesThirtyFiveDays(t, db, s3Store(t));
  },
);
