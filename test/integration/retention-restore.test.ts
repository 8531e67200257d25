// Restore: archived days back into raw_events exactly once, every column equal to what was archived; kept
// for restored_keep_days, then verified against the archive and dropped again without a new export;
// aggregates recomputed on request come out the same; a crash mid-restore restores nothing.
import { spawnSync } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { Registry } from 'prom-client';
import type { ObjectStore } from '../../shared/archive/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import {
  handleRetentionRequest,
  listArchives,
  restoreArchivedDays,
  runRetentionSweep,
  type RetentionDeps,
} from '../../shared/retention/index.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { bothBackends } from './aggregate-fixtures.ts';
import {
  DAY,
  NOW,
  aggregateAll,
  aggregatesText,
  dayOf,
  loadDemoDays,
  localStore,
  rawRowsText,
  retentionDeps,
  runRetentionChild,
  s3Store,
  s3Target,
  testPolicy,
} from '../fixtures/retention.ts';

const s3Test = serviceTest('postgres', 's3');
const THREE_DAYS = { BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '3' };
const PAST = [dayOf(-6), dayOf(-5), dayOf(-4)];
const start = (day: string) => new Date(`${day}T00:00:00Z`);
const end = (day: string) => new Date(start(day).getTime() + DAY);

function deps(db: Database, store: ObjectStore, extra: Partial<RetentionDeps> = {}): RetentionDeps {
  return retentionDeps(db, store, { policy: testPolicy(THREE_DAYS), ...extra });
}

/** Six days stored and aggregated, the oldest three archived and dropped; what they held before. */
async function archivedThreeDays(
  db: Database,
  store: ObjectStore,
  metrics?: Registry,
): Promise<{ rows: string[]; aggregates: string[] }> {
  await loadDemoDays(db, { days: 6, requestsPerHour: 4 });
  await aggregateAll(db);
  const rows = await rawRowsText(db, start(PAST[0]!), end(PAST[2]!));
  const aggregates = await aggregatesText(db);
  const sweep = await runRetentionSweep(deps(db, store, metrics ? { metrics } : {}), { trigger: 'manual' });
  if (sweep.totals.droppedPartitions !== 3) throw new Error(`setup: ${JSON.stringify(sweep.units)}`);
  return { rows, aggregates };
}

/** The raw series of a counter of `registry` (0 when never incremented). */
async function rawCounter(registry: Registry, name: string): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.filter((v) => v.labels.kind === 'raw').reduce((sum, v) => sum + v.value, 0);
}

async function roundTrip(t: ExecutionContext, db: Database, store: ObjectStore): Promise<void> {
  // one process's registry over the whole round trip, as a function's is
  const metrics = new Registry();
  const before = await archivedThreeDays(db, store, metrics);
  t.is(await rawCounter(metrics, 'retention_archived_rows_total'), before.rows.length);
  t.deepEqual(await rawRowsText(db, start(PAST[0]!), end(PAST[2]!)), []);

  const restored = await restoreArchivedDays(deps(db, store), {
    from: PAST[0]!,
    to: PAST[2]!,
    trigger: 'manual',
  });
  t.is(restored.status, 'succeeded');
  t.deepEqual(
    restored.days.map((d) => [d.day, d.outcome]),
    PAST.map((d) => [d, 'restored']),
  );
  const keepUntil = new Date(NOW.getTime() + 7 * DAY).toISOString();
  t.true(restored.days.every((d) => d.keepUntil === keepUntil));
  // every column of every row, ingested_at included, as it was before the archive
  t.deepEqual(await rawRowsText(db, start(PAST[0]!), end(PAST[2]!)), before.rows);
  t.is(restored.rows, before.rows.length);
  t.deepEqual(await aggregatesText(db), before.aggregates);

  // exactly once: a second restore finds the days live and changes nothing
  const again = await restoreArchivedDays(deps(db, store), {
    from: PAST[0]!,
    to: PAST[2]!,
    trigger: 'manual',
  });
  t.deepEqual(
    again.days.map((d) => [d.day, d.outcome, d.rows]),
    PAST.map((d) => [d, 'live', 0]),
  );
  t.deepEqual(await rawRowsText(db, start(PAST[0]!), end(PAST[2]!)), before.rows);

  // kept from the next sweep until keep_until …
  const objects = await store.list('raw/');
  const kept = await runRetentionSweep(deps(db, store), { trigger: 'manual' });
  t.deepEqual(
    kept.units.filter((u) => u.kind === 'raw').map((u) => [u.unit, u.action, u.outcome, u.reason]),
    PAST.map((d) => [d, 'keep', 'kept', `restored; kept until ${keepUntil}`]),
  );
  // … then verified against the archive (not written again) and dropped
  const later = new Date(NOW.getTime() + 8 * DAY);
  const dropped = await runRetentionSweep(deps(db, store, { clock: () => later, metrics }), {
    trigger: 'manual',
  });
  const raw = dropped.units.filter((u) => PAST.includes(u.unit));
  t.deepEqual(
    raw.map((u) => [u.unit, u.action, u.outcome, u.archivedRows]),
    PAST.map((d) => [d, 'reverify', 'done', undefined]),
  );
  // nothing of them was written: their rows count as archived once (when written) and as re-verified apart;
  // the days that passed the cutoff since are archived for the first time by this sweep
  const newlyArchived = dropped.units
    .filter((u) => u.kind === 'raw' && u.action === 'archive' && u.outcome === 'done')
    .reduce((sum, u) => sum + u.rows, 0);
  t.like(dropped.totals, { archivedRows: newlyArchived, reverifiedRows: before.rows.length });
  t.is(await rawCounter(metrics, 'retention_archived_rows_total'), before.rows.length + newlyArchived);
  t.is(await rawCounter(metrics, 'hxp_retention_reverified_rows_total'), before.rows.length);
  const ofPast = (list: { key: string }[]) => list.filter((o) => PAST.some((d) => o.key.includes(d)));
  t.deepEqual(ofPast(await store.list('raw/')), ofPast(objects), 'the archive is the same objects');
  t.deepEqual(
    (await listArchives(db)).filter((a) => PAST.includes(a.unit)).map((a) => a.status),
    ['archived', 'archived', 'archived'],
  );
}

bothBackends(
  'restore round trip on the local folder: every column equal, exactly once, kept, then dropped again',
  async (t, db) => {
    await roundTrip(t, db, await localStore(t));
  },
);

s3Test(
  'restore round trip from S3: every column equal, exactly once, kept, then dropped again',
  async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    await roundTrip(t, db, s3Store(t));
  },
);

bothBackends(
  'a restored day whose archive no longer verifies is written again, and counted as archived then',
  async (t, db) => {
    const store = await localStore(t);
    await archivedThreeDays(db, store);
    await restoreArchivedDays(deps(db, store), { from: PAST[0]!, to: PAST[0]!, trigger: 'manual' });
    await store.put(`raw/date=${PAST[0]}/part-0000.parquet`, Buffer.from('rotten'));
    const later = new Date(NOW.getTime() + 8 * DAY);
    const metrics = new Registry();
    const sweep = await runRetentionSweep(deps(db, store, { clock: () => later, metrics }), {
      trigger: 'manual',
    });
    const unit = sweep.units.find((u) => u.unit === PAST[0]);
    t.like(unit, { action: 'reverify', outcome: 'done' });
    t.is(unit?.archivedRows, unit?.rows);
    t.true((unit?.rows ?? 0) > 0);
    t.is(sweep.totals.reverifiedRows, 0);
    t.is(await rawCounter(metrics, 'hxp_retention_reverified_rows_total'), 0);
    t.is(await rawCounter(metrics, 'retention_archived_rows_total'), sweep.totals.archivedRows);
  },
);

bothBackends(
  'restore with recompute: the hours are aggregated again from the restored rows, to the same figures',
  async (t, db) => {
    const store = await localStore(t);
    const before = await archivedThreeDays(db, store);
    const restored = await restoreArchivedDays(deps(db, store), {
      from: PAST[1]!,
      to: PAST[1]!,
      recompute: true,
      trigger: 'manual',
    });
    t.is(restored.days[0]?.hoursMarked, 24);
    const options = {
      timeZone: 'UTC',
      weekStart: 'monday' as const,
      retries: 3,
      retryDelayMs: 1,
      timeoutMs: 600_000,
    };
    const hourly = await runAggregation({ db, options }, { level: 'hour', trigger: 'manual', now: NOW });
    t.is(hourly.windowsDone, 24);
    await aggregateAll(db);
    t.deepEqual(await aggregatesText(db), before.aggregates);

    // asked again for a day already live (restored): nothing is read back, but its hours are recomputed,
    // as asked — not answered "succeeded" with the recompute silently left out
    const again = await restoreArchivedDays(deps(db, store), {
      from: PAST[1]!,
      to: PAST[1]!,
      recompute: true,
      trigger: 'manual',
    });
    t.deepEqual(again.days, [{ day: PAST[1], outcome: 'live', rows: 0, hoursMarked: 24 }]);
    const rerun = await runAggregation({ db, options }, { level: 'hour', trigger: 'manual', now: NOW });
    t.is(rerun.windowsDone, 24);
    await aggregateAll(db);
    t.deepEqual(await aggregatesText(db), before.aggregates);
    // without recompute a live day is left as it is
    const plain = await restoreArchivedDays(deps(db, store), {
      from: PAST[1]!,
      to: PAST[1]!,
      trigger: 'manual',
    });
    t.deepEqual(plain.days, [{ day: PAST[1], outcome: 'live', rows: 0 }]);
  },
);

bothBackends('restore refuses what it cannot do: no archive, a bad range', async (t, db) => {
  const store = await localStore(t);
  await archivedThreeDays(db, store);
  const missing = await restoreArchivedDays(deps(db, store), {
    from: '2020-01-01',
    to: '2020-01-01',
    trigger: 'manual',
  });
  t.is(missing.status, 'failed');
  t.is(missing.days[0]?.error?.code, 'ARCHIVE_MISSING');
  t.regex(missing.days[0]?.error?.message ?? '', /there is no archive of 2020-01-01/);
  // over HTTP: days that were never archived are not found (404, as ARCHIVE_MISSING is catalogued), not a 500
  const answer = await handleRetentionRequest(
    {
      method: 'POST',
      path: '/retention/restore',
      body: { from: '2020-01-01', to: '2020-01-02' },
      headers: {},
    },
    { ...deps(db, store), apiToken: undefined, schedule: '30 0 * * *' },
  );
  t.is(answer.status, 404);
  // a range over an archived day and one still live: the first comes back, the second is left alone
  const mixed = await restoreArchivedDays(deps(db, store), {
    from: PAST[2]!,
    to: dayOf(-3),
    trigger: 'manual',
  });
  t.deepEqual(
    mixed.days.map((d) => [d.day, d.outcome]),
    [
      [PAST[2], 'restored'],
      [dayOf(-3), 'live'],
    ],
  );
  for (const [from, to, message] of [
    ['2026-10-32', '2026-11-01', /"from" is "2026-10-32": not a day/],
    ['2026-10-05', '2026-10-01', /before "from"/],
    ['2024-01-01', '2026-01-01', /restore at most 366/],
  ] as const) {
    const err = await t.throwsAsync(restoreArchivedDays(deps(db, store), { from, to, trigger: 'manual' }));
    t.regex(err?.message ?? '', message);
  }
});

s3Test(
  'kill -9 in the middle of a restore: nothing is restored, and the next restore restores once',
  async (t) => {
    const { db, drop, url } = await freshPgDatabase();
    t.teardown(drop);
    const { store, settings } = s3Target(t);
    const before = await archivedThreeDays(db, store);
    const child = await runRetentionChild({
      databaseUrl: url,
      s3: settings,
      env: THREE_DAYS,
      now: NOW.toISOString(),
      killAt: 'restore-inserted',
      killAfter: 2,
      restore: { from: PAST[0], to: PAST[2] },
    });
    t.is(child.signal, 'SIGKILL', child.stderr.slice(-2000));
    // the first day committed before the kill; the second was rolled back whole
    t.deepEqual(
      (await listArchives(db)).map((a) => [a.unit, a.status]),
      [
        [PAST[0], 'restored'],
        [PAST[1], 'archived'],
        [PAST[2], 'archived'],
      ],
    );
    t.deepEqual(await rawRowsText(db, start(PAST[1]!), end(PAST[1]!)), []);
    const next = await restoreArchivedDays(deps(db, store), {
      from: PAST[0]!,
      to: PAST[2]!,
      trigger: 'manual',
    });
    t.deepEqual(
      next.days.map((d) => d.outcome),
      ['live', 'restored', 'restored'],
    );
    t.deepEqual(await rawRowsText(db, start(PAST[0]!), end(PAST[2]!)), before.rows);
  },
);

serviceTest('postgres')(
  'npm run restore brings archived days back into PostgreSQL from the local archive folder',
  async (t) => {
    const { db, drop, url } = await freshPgDatabase();
    t.teardown(drop);
    const store = await localStore(t);
    const before = await archivedThreeDays(db, store);
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/restore.ts', ...args], {
        cwd: new URL('../../', import.meta.url).pathname,
        encoding: 'utf8',
        env: {
          ...process.env,
          DATABASE_URL: url,
          BATCH_PROCESSING_ARCHIVAL_PATH: store.root,
          S3_BUCKET: '',
          S3_ENDPOINT: '',
        },
      });
    const usage = run(['--to', PAST[0]!]);
    t.is(usage.status, 2);
    t.regex(usage.stderr, /--from is required\nusage: npm run restore -- --from YYYY-MM-DD/);
    const restored = run(['--from', PAST[0]!, '--to', PAST[2]!, '--json']);
    t.is(restored.status, 0, restored.stderr);
    const summary = JSON.parse(restored.stdout) as { status: string; rows: number };
    t.is(summary.status, 'succeeded');
    t.is(summary.rows, before.rows.length);
    t.deepEqual(await rawRowsText(db, start(PAST[0]!), end(PAST[2]!)), before.rows);
    const missing = run(['--from', '2020-01-01']);
    t.is(missing.status, 1);
    t.regex(missing.stdout, /2020-01-01 {2}failed {4}ARCHIVE_MISSING: there is no archive of 2020-01-01/);
  },
);
