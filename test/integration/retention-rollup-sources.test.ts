// A rollup is never redone from a source the retention sweep removed. With raw data kept 3 days and aggregates
// 5, the sweep of 2026-12-07 removes November's day state while the week of 2026-11-30 (Mon), which runs into
// December, stays; redoing that week from its days would drop 2026-11-30. A backfill that would redo it is
// refused, and a week re-opened some other way (a late event, a restore with recompute) is kept as it is and
// fails with AGGREGATE_SOURCE_REMOVED until the day is rebuilt by restoring its raw events with recompute. A
// window whose own state the sweep removed too (November's month) and whose days are not all back is left
// removed instead: nothing to keep there, and no alert for following the restore advice.
import type { ExecutionContext } from 'ava';
import type { Database } from '../../shared/db/index.ts';
import { BatchError } from '../../shared/errors/index.ts';
import { runAggregation, type JobDeps } from '../../shared/jobs/index.ts';
import { aggregationStatus } from '../../shared/status/index.ts';
import { listArchives, restoreArchivedDays, runRetentionSweep } from '../../shared/retention/index.ts';
import { bothBackends, deps as jobDeps, storeTestEvents } from './aggregate-fixtures.ts';
import { loadDemoDays, localStore, retentionDeps, testPolicy } from '../fixtures/retention.ts';
import type { ObjectStore } from '../../shared/archive/index.ts';
import type { Level } from '../../shared/aggregate/index.ts';

const NOW = new Date('2026-12-07T00:30:00Z');
const WEEK = new Date('2026-11-30T00:00:00Z');
const POLICY = {
  BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '3',
  BATCH_PROCESSING_AGGREGATED_DATA_RETENTION_DAYS: '5',
  BATCH_PROCESSING_DAILY_AGGREGATES_RETENTION_DAYS: '5',
  BATCH_PROCESSING_WEEKLY_AGGREGATES_RETENTION_DAYS: '5',
  BATCH_PROCESSING_MONTHLY_AGGREGATES_RETENTION_DAYS: '5',
};

const MONTH = new Date('2026-11-01T00:00:00Z');

async function run(db: Database | JobDeps, level: Level, now = NOW, range?: { from: string; to: string }) {
  const d = 'options' in db ? db : jobDeps(db);
  return runAggregation(d, { level, trigger: 'manual', now, ...range });
}

async function stateCount(db: Database, level: Level, bucket: Date): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `SELECT count FROM aggregate_state
     WHERE level = $1 AND bucket = $2 AND event_type = 'llm_request' AND metric = 'latency_ms' AND dimension = 'all'`,
    [level, bucket],
  );
  return Number(rows[0]?.count ?? 0);
}

const weekCount = (db: Database): Promise<number> => stateCount(db, 'week', WEEK);

async function stateRemoved(db: Database, level: Level, bucket: Date): Promise<boolean | undefined> {
  const { rows } = await db.query<{ state_removed: boolean }>(
    'SELECT state_removed FROM aggregation_windows WHERE level = $1 AND bucket = $2',
    [level, bucket],
  );
  return rows[0]?.state_removed;
}

/** Two weeks of demo events to 2026-12-07, aggregated, then swept: November's hours, days and month removed. */
async function sweptNovember(
  t: ExecutionContext,
  db: Database,
): Promise<{ store: ObjectStore; count: number; monthCount: number }> {
  await loadDemoDays(db, { days: 14, requestsPerHour: 4, end: new Date('2026-12-07T00:00:00Z') });
  for (const level of ['hour', 'day', 'week', 'month'] as const) await run(db, level);
  const count = await weekCount(db);
  const monthCount = await stateCount(db, 'month', MONTH);
  const store = await localStore(t);
  const sweep = await runRetentionSweep(
    retentionDeps(db, store, { policy: testPolicy(POLICY), clock: () => NOW }),
    { trigger: 'manual' },
  );
  t.is(sweep.status, 'succeeded', JSON.stringify(sweep.error));
  const removed = (await listArchives(db, { kind: 'aggregate' }))
    .filter((a) => a.status === 'archived')
    .map((a) => a.unit);
  t.true(removed.includes('day/2026-11'), removed.join(', '));
  t.false(removed.includes('week/2026-11'), 'the week of 2026-11-30 runs into December and stays');
  t.true(count > 0);
  t.is(await weekCount(db), count);
  return { store, count, monthCount };
}

bothBackends(
  'a backfill of a day whose week would be redone without a removed day is refused; the week keeps its count',
  async (t, db) => {
    const { count } = await sweptNovember(t, db);
    const err = await t.throwsAsync(run(db, 'day', NOW, { from: '2026-12-01', to: '2026-12-02' }), {
      instanceOf: BatchError,
    });
    t.is(err?.code, 'REQUEST_INVALID');
    t.regex(
      err?.message ?? '',
      /the week window 2026-11-30T00:00:00\.000Z \(day state 2026-11-30T00:00:00\.000Z\)/,
    );
    t.regex(err?.message ?? '', /npm run restore -- --from 2026-11-30 --to 2026-11-30 --recompute/);
    const week = await run(db, 'week');
    t.is(week.windowsDue, 0, 'nothing was re-opened');
    t.is(await weekCount(db), count);
  },
);

bothBackends(
  'a week re-opened by a late event is not redone without its removed day, and is once the day is restored',
  async (t, db) => {
    const { store, count } = await sweptNovember(t, db);
    // a late event on a day still live (raw retention 3 days) re-opens its hour, day and week
    await storeTestEvents(db, [{ ts: '2026-12-05T10:00:00Z', metrics: { latency_ms: 500 } }]);
    for (const level of ['hour', 'day'] as const) t.is((await run(db, level)).status, 'succeeded');
    const week = await run(db, 'week');
    t.is(week.status, 'failed');
    t.is(week.windows[0]?.error?.code, 'AGGREGATE_SOURCE_REMOVED');
    t.regex(week.windows[0]?.error?.message ?? '', /--from 2026-11-30 --to 2026-11-30 --recompute/);
    t.is(await weekCount(db), count, 'the week keeps what it had');

    // the way forward: the day's raw events back, its hours and day redone, then the week with every day
    const restored = await restoreArchivedDays(
      retentionDeps(db, store, { policy: testPolicy(POLICY), clock: () => NOW }),
      { from: '2026-11-30', to: '2026-11-30', recompute: true, trigger: 'manual' },
    );
    t.is(restored.status, 'succeeded', JSON.stringify(restored.days));
    for (const level of ['hour', 'day'] as const) t.is((await run(db, level)).status, 'succeeded');
    const later = new Date(NOW.getTime() + 600_000); // past the failed attempt's retry delay
    const again = await run(db, 'week', later);
    t.is(again.status, 'succeeded', JSON.stringify(again.error));
    t.is(await weekCount(db), count + 1);

    // November's month, archived, was re-opened by the rebuilt day: it is not redone from one day of thirty,
    // and not failed either (its aggregates are in the archive; the test below follows it)
    const month = await run(db, 'month', later);
    t.is(month.windows.find((w) => w.bucket.startsWith('2026-11'))?.status, 'left_removed');
    const live = await db.query<{ n: number }>(
      `SELECT count(*)::int8 AS n FROM aggregate_state WHERE level = 'month' AND bucket < '2026-12-01'`,
    );
    t.is(Number(live.rows[0]?.n), 0);
  },
);

// Regression: doing what AGGREGATE_SOURCE_REMOVED advises (restore one day with --recompute) re-opened November's
// month, whose own state the sweep had archived too; it failed on every run until its retries ran out and fired
// run.failed, though nothing was to be done. It is left removed now, and done once all its days are back.
bothBackends(
  'a removed month re-opened by restoring one of its days is left removed, not failed, until all its days are back',
  async (t, db) => {
    const { store, monthCount } = await sweptNovember(t, db);
    const published: Array<{ type?: string }> = [];
    const d = jobDeps(db, {}, { publish: async (_topic, _key, value) => void published.push(value) });
    const restore = async (from: string, to: string) =>
      restoreArchivedDays(retentionDeps(db, store, { policy: testPolicy(POLICY), clock: () => NOW }), {
        from,
        to,
        recompute: true,
        trigger: 'manual',
      });
    t.is((await restore('2026-11-30', '2026-11-30')).status, 'succeeded');
    for (const level of ['hour', 'day', 'week'] as const) t.is((await run(d, level)).status, 'succeeded');

    // every run past the retry delay, more than the retries allow: never a failure
    for (let i = 0; i <= d.options.retries + 1; i++) {
      const at = new Date(NOW.getTime() + (i + 1) * (d.options.retryDelayMs + 60_000));
      const month = await run(d, 'month', at);
      t.is(month.status, 'succeeded', JSON.stringify(month.windows));
      t.is(month.windowsFailed, 0);
      t.is(month.windowsLeftRemoved, i === 0 ? 1 : 0, 'left once, then nothing is due');
      if (i === 0) t.is(month.windows[0]?.status, 'left_removed');
    }
    t.deepEqual(
      published.filter((e) => e.type === 'run.failed'),
      [],
    );
    t.true(await stateRemoved(db, 'month', MONTH), 'its state is still the archived one');
    t.is(await stateCount(db, 'month', MONTH), 0, 'nothing was written from one day of November');
    const status = await aggregationStatus(db, {
      schedules: { hourly: '5 * * * *', daily: '5 0 * * *', weekly: '10 0 * * *', monthly: '15 0 * * *' },
      timeZone: 'UTC',
      now: new Date(NOW.getTime() + 86_400_000),
    });
    t.is(status.periods.monthly.failingWindows, 0);
    t.not(status.periods.monthly.status, 'failed');
    // nor is a backfill of the restored day refused for it: it would only leave the month as it is
    const backfill = await run(d, 'hour', new Date(NOW.getTime() + 86_400_000), {
      from: '2026-11-30T00:00:00Z',
      to: '2026-12-01T00:00:00Z',
    });
    t.is(backfill.status, 'succeeded');
    t.is(backfill.windowsDone, 24);

    // all its days back with recompute: the month is done again, whole
    t.is((await restore('2026-11-23', '2026-11-29')).status, 'succeeded');
    const later = new Date(NOW.getTime() + 7 * 86_400_000);
    for (const level of ['hour', 'day', 'week'] as const)
      t.is((await run(d, level, later)).status, 'succeeded');
    const month = await run(d, 'month', later);
    t.is(month.status, 'succeeded', JSON.stringify(month.windows));
    t.is(month.windowsLeftRemoved, 0);
    t.false(await stateRemoved(db, 'month', MONTH));
    t.is(await stateCount(db, 'month', MONTH), monthCount);
  },
);
