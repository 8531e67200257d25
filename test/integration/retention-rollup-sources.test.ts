// A rollup is never redone from a source the retention sweep removed. With raw data kept 3 days and aggregates
// 5, the sweep of 2026-12-07 removes November's day state while the week of 2026-11-30 (Mon), which runs into
// December, stays; redoing that week from its days would drop 2026-11-30. A backfill that would redo it is
// refused, and a week re-opened some other way (a late event, a restore with recompute) is kept as it is and
// fails with AGGREGATE_SOURCE_REMOVED until the day is rebuilt by restoring its raw events with recompute.
import type { ExecutionContext } from 'ava';
import type { Database } from '../../shared/db/index.ts';
import { BatchError } from '../../shared/errors/index.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
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

async function run(db: Database, level: Level, now = NOW, range?: { from: string; to: string }) {
  return runAggregation(jobDeps(db), { level, trigger: 'manual', now, ...range });
}

async function weekCount(db: Database): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `SELECT count FROM aggregate_state
     WHERE level = 'week' AND bucket = $1 AND event_type = 'llm_request' AND metric = 'latency_ms' AND dimension = 'all'`,
    [WEEK],
  );
  return Number(rows[0]?.count ?? 0);
}

/** Two weeks of demo events to 2026-12-07, aggregated, then swept: November's hours, days and month removed. */
async function sweptNovember(
  t: ExecutionContext,
  db: Database,
): Promise<{ store: ObjectStore; count: number }> {
  await loadDemoDays(db, { days: 14, requestsPerHour: 4, end: new Date('2026-12-07T00:00:00Z') });
  for (const level of ['hour', 'day', 'week', 'month'] as const) await run(db, level);
  const count = await weekCount(db);
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
  return { store, count };
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

    // November's month, archived, was re-opened by the rebuilt day: it is not redone from one day of thirty
    const month = await run(db, 'month', later);
    t.is(month.windows.find((w) => w.bucket.startsWith('2026-11'))?.error?.code, 'AGGREGATE_SOURCE_REMOVED');
    const live = await db.query<{ n: number }>(
      `SELECT count(*)::int8 AS n FROM aggregate_state WHERE level = 'month' AND bucket < '2026-12-01'`,
    );
    t.is(Number(live.rows[0]?.n), 0);
  },
);
