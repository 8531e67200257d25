// Day, week and month buckets in the configured zone: DST days of 23 and 25 hours, month ends including a
// leap day, ISO (Monday) and Sunday weeks, and the refusal of unknown zones. Zones whose days start inside a
// UTC hour: aggregate-time-zones.test.ts.
import type { Database } from '../../shared/db/index.ts';
import { isBatchError } from '../../shared/errors/index.ts';
import { runAggregation, type AggregationJobOptions } from '../../shared/jobs/index.ts';
import { bothBackends, deps, runAllLevels, storeTestEvents, type TestEvent } from './aggregate-fixtures.ts';

const HOUR = 3_600_000;

/** One event (metric n = 1) at hh:30 of every UTC hour in [from, to). */
function hourly(from: string, to: string): TestEvent[] {
  const out: TestEvent[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += HOUR)
    out.push({ ts: new Date(t + HOUR / 2), metrics: { n: 1 } });
  return out;
}

async function counts(db: Database, view: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ timestamp: Date; count: number }>(
    `SELECT "timestamp", count FROM ${view} WHERE metric = 'n' AND dimension = 'all' ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.timestamp.toISOString(), r.count]));
}

const BERLIN: Partial<AggregationJobOptions> = { timeZone: 'Europe/Berlin' };

bothBackends('Europe/Berlin DST days get all their 23 and 25 hours', async (t, db) => {
  // Local 2026-03-28 00:00 (+01) to 2026-03-31 00:00 (+02), and local 2026-10-24 00:00 (+02) to 10-27 00:00 (+01).
  await storeTestEvents(db, [
    ...hourly('2026-03-27T23:00:00Z', '2026-03-30T22:00:00Z'),
    ...hourly('2026-10-23T22:00:00Z', '2026-10-26T23:00:00Z'),
  ]);
  const result = await runAllLevels(deps(db, BERLIN), new Date('2026-12-01T00:00:00Z'));
  t.is(result.hour.windowsDone, 71 + 73);
  t.is(result.day.windowsDone, 6);
  t.deepEqual(await counts(db, 'daily_aggregations'), {
    '2026-03-27T23:00:00.000Z': 24,
    '2026-03-28T23:00:00.000Z': 23, // 2026-03-29: clocks go forward
    '2026-03-29T22:00:00.000Z': 24,
    '2026-10-23T22:00:00.000Z': 24,
    '2026-10-24T22:00:00.000Z': 25, // 2026-10-25: clocks go back
    '2026-10-25T23:00:00.000Z': 24,
  });
  // The same days straight from raw events, bucketed by PostgreSQL in the zone.
  const { rows } = await db.query<{ day: Date; n: number }>(
    `SELECT date_trunc('day', ts, 'Europe/Berlin') AS day, count(*)::int AS n FROM raw_events GROUP BY 1 ORDER BY 1`,
  );
  t.deepEqual(
    await counts(db, 'daily_aggregations'),
    Object.fromEntries(rows.map((r) => [r.day.toISOString(), r.n])),
  );
  t.deepEqual(await counts(db, 'weekly_aggregations'), {
    '2026-03-22T23:00:00.000Z': 24 + 23, // ISO week Mon 03-23 .. Sun 03-29 holds Sat 03-28 and Sun 03-29
    '2026-03-29T22:00:00.000Z': 24, // Mon 03-30, already at +02
    '2026-10-18T22:00:00.000Z': 24 + 25, // Mon 10-19 .. Sun 10-25
    '2026-10-25T23:00:00.000Z': 24, // Mon 10-26, back at +01
  });
  t.deepEqual(await counts(db, 'monthly_aggregations'), {
    '2026-02-28T23:00:00.000Z': 71, // March, local
    '2026-09-30T22:00:00.000Z': 73, // October, local
  });
});

bothBackends('month ends, a leap day and a year end fall in the right days and months', async (t, db) => {
  await storeTestEvents(
    db,
    [
      '2027-12-31T23:59:59.999Z',
      '2028-01-01T00:00:00.000Z',
      '2028-02-28T23:30:00.000Z',
      '2028-02-29T00:00:00.000Z',
      '2028-02-29T23:59:59.999Z',
      '2028-03-01T00:00:00.000Z',
    ].map((ts) => ({ ts, metrics: { n: 1 } })),
  );
  await runAllLevels(deps(db), new Date('2028-04-01T00:00:00Z'));
  t.deepEqual(await counts(db, 'daily_aggregations'), {
    '2027-12-31T00:00:00.000Z': 1,
    '2028-01-01T00:00:00.000Z': 1,
    '2028-02-28T00:00:00.000Z': 1,
    '2028-02-29T00:00:00.000Z': 2,
    '2028-03-01T00:00:00.000Z': 1,
  });
  t.deepEqual(await counts(db, 'monthly_aggregations'), {
    '2027-12-01T00:00:00.000Z': 1,
    '2028-01-01T00:00:00.000Z': 1,
    '2028-02-01T00:00:00.000Z': 3,
    '2028-03-01T00:00:00.000Z': 1,
  });
  // ISO weeks: 2027-12-27 (Mon) holds Dec 31 and Jan 1; 2028-02-28 (Mon) holds Feb 28, 29 and Mar 1.
  t.deepEqual(await counts(db, 'weekly_aggregations'), {
    '2027-12-27T00:00:00.000Z': 2,
    '2028-02-28T00:00:00.000Z': 4,
  });

  // In Europe/Berlin (+01) every event lands an hour later on the wall clock: the year's last UTC second is
  // January and the leap day's last UTC hour is 1 March. Rollups are rebuilt from the same hours by backfill.
  await db.query('DELETE FROM aggregate_state WHERE level <> $1', ['hour']);
  await db.query('DELETE FROM aggregate_sketch_bins WHERE level <> $1', ['hour']);
  await db.query('DELETE FROM aggregation_windows WHERE level <> $1', ['hour']);
  const berlin = deps(db, BERLIN);
  const now = new Date('2028-04-01T00:00:00Z');
  for (const level of ['day', 'month'] as const) {
    const s = await runAggregation(berlin, {
      level,
      trigger: 'backfill',
      from: '2027-12-01T00:00:00Z',
      to: '2028-04-01T00:00:00Z',
      now,
    });
    t.is(s.status, 'succeeded', level);
  }
  // Local times (+01): Jan 1 00:59 and 01:00; Feb 29 00:30 and 01:00; Mar 1 00:59 and 01:00.
  t.deepEqual(await counts(db, 'monthly_aggregations'), {
    '2027-12-31T23:00:00.000Z': 2,
    '2028-01-31T23:00:00.000Z': 2,
    '2028-02-29T23:00:00.000Z': 2,
  });
});

bothBackends('ISO weeks start on Monday; Sunday weeks when configured', async (t, db) => {
  // Sat 2026-11-07, Sun 11-08, Mon 11-09.
  await storeTestEvents(
    db,
    ['2026-11-07T12:00:00Z', '2026-11-08T12:00:00Z', '2026-11-09T12:00:00Z'].map((ts) => ({
      ts,
      metrics: { n: 1 },
    })),
  );
  const now = new Date('2026-11-20T00:00:00Z');
  await runAllLevels(deps(db), now);
  t.deepEqual(await counts(db, 'weekly_aggregations'), {
    '2026-11-02T00:00:00.000Z': 2, // Mon 11-02 .. Sun 11-08
    '2026-11-09T00:00:00.000Z': 1,
  });

  await db.query(`DELETE FROM aggregate_state WHERE level = 'week'`);
  await db.query(`DELETE FROM aggregate_sketch_bins WHERE level = 'week'`);
  await db.query(`DELETE FROM aggregation_windows WHERE level = 'week'`);
  const sunday = await runAggregation(deps(db, { weekStart: 'sunday' }), {
    level: 'week',
    trigger: 'backfill',
    from: '2026-10-25T00:00:00Z',
    to: '2026-11-20T00:00:00Z',
    now,
  });
  t.is(sunday.windowsDone, 2);
  t.deepEqual(await counts(db, 'weekly_aggregations'), {
    '2026-11-01T00:00:00.000Z': 1, // Sun 11-01 .. Sat 11-07
    '2026-11-08T00:00:00.000Z': 2, // Sun 11-08 .. Sat 11-14
  });
});

bothBackends(
  'an unknown zone is refused with TIMEZONE_UNSUPPORTED and the run is recorded as failed',
  async (t, db) => {
    await storeTestEvents(db, [{ ts: '2026-11-02T10:00:00Z', metrics: { n: 1 } }]);
    const err = await t.throwsAsync(
      runAggregation(deps(db, { timeZone: 'Asia/Calcutta_Typo' }), {
        level: 'day',
        trigger: 'cron',
        now: new Date('2026-11-05T00:00:00Z'),
      }),
    );
    t.true(isBatchError(err, 'TIMEZONE_UNSUPPORTED'), String(err));
    t.regex(err?.message ?? '', /"Asia\/Calcutta_Typo" is not a known IANA zone; use a name such as "UTC"/);
    const { rows } = await db.query<{ status: string; error_code: string }>(
      `SELECT status, error_code FROM runs WHERE job = 'aggregate-day'`,
    );
    t.deepEqual(rows, [{ status: 'failed', error_code: 'TIMEZONE_UNSUPPORTED' }]);
    // Nothing was aggregated and the lock was released: a run with a known zone goes ahead.
    const ok = await runAggregation(deps(db, { timeZone: 'Asia/Kolkata' }), {
      level: 'hour',
      trigger: 'cron',
      now: new Date('2026-11-05T00:00:00Z'),
    });
    t.is(ok.windowsDone, 1);
    const again = await runAggregation(deps(db, { timeZone: 'Asia/Kolkata' }), {
      level: 'day',
      trigger: 'cron',
      now: new Date('2026-11-05T00:00:00Z'),
    });
    t.is(again.status, 'succeeded');
    t.deepEqual(
      again.windows.map((w) => w.bucket),
      ['2026-11-01T18:30:00.000Z'], // Mon 11-02 in India
    );
  },
);
