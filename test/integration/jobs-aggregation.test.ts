// Job semantics of runAggregation: late events re-open every rollup above them, reruns change nothing,
// concurrent invocations, backfill, retries of a failing window, timeouts, the runs ledger and events.
import type { Database } from '../../shared/db/index.ts';
import { listFailedWindows } from '../../shared/aggregate/index.ts';
import { runAggregation, type JobDeps } from '../../shared/jobs/index.ts';
import { listRuns } from '../../shared/status/runs.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { bothBackends, deps, runAllLevels, storeTestEvents, type TestEvent } from './aggregate-fixtures.ts';

const DAY = '2026-11-02T00:00:00.000Z'; // a Monday
const LATER = new Date('2026-12-05T00:00:00Z');

function events(hours: number[], perHour: number, value = 10): TestEvent[] {
  return hours.flatMap((h) =>
    Array.from({ length: perHour }, (_, i) => ({
      ts: new Date(Date.parse(DAY) + h * 3_600_000 + i * 1000),
      source: i % 2 === 0 ? 'api-1' : 'api-2',
      dims: { model: 'llama-3-70b' },
      metrics: { latency_ms: value + i, error: i % 5 === 0 ? 1 : 0 },
    })),
  );
}

/** Everything aggregation writes, in a stable order, for before/after comparisons. */
/** An hourly cron run held inside its pull step until `release()`: `inside` resolves once it holds the lock. */
function heldHourlyRun(d: JobDeps, ingest: { rowsIn: number; lag?: number }) {
  let release: () => void = () => undefined;
  const hold = new Promise<void>((resolve) => (release = resolve));
  let entered: () => void = () => undefined;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const first = runAggregation(d, {
    level: 'hour',
    trigger: 'cron',
    now: LATER,
    beforeAggregate: async () => {
      entered();
      await hold;
      return ingest;
    },
  });
  return { first, inside, release };
}

async function snapshot(db: Database): Promise<string> {
  const tables = {
    state:
      'SELECT * FROM aggregate_state ORDER BY level, bucket, event_type, metric, dimension, dimension_value',
    bins: 'SELECT * FROM aggregate_sketch_bins ORDER BY level, bucket, event_type, metric, dimension, dimension_value',
    windows: 'SELECT * FROM aggregation_windows ORDER BY level, bucket',
  };
  const out: Record<string, unknown> = {};
  for (const [name, sql] of Object.entries(tables)) out[name] = (await db.query(sql)).rows;
  return JSON.stringify(out);
}

async function dirty(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ level: string; bucket: Date }>(
    `SELECT level, bucket FROM aggregation_windows WHERE done_seq IS NULL OR done_seq < changed_seq ORDER BY level, bucket`,
  );
  return rows.map((r) => `${r.level} ${r.bucket.toISOString()}`);
}

async function total(db: Database, view: string, bucket: string): Promise<number | undefined> {
  const { rows } = await db.query<{ count: number }>(
    `SELECT count FROM ${view} WHERE "timestamp" = $1 AND metric = 'latency_ms' AND dimension = 'all'`,
    [bucket],
  );
  return rows[0]?.count;
}

bothBackends(
  'a late event re-opens its hour, day, week and month; each rollup waits for the level below',
  async (t, db) => {
    await storeTestEvents(db, events([1, 2, 3], 10));
    const d = deps(db);
    await runAllLevels(d, LATER);
    t.deepEqual(await dirty(db), []);
    t.is(await total(db, 'monthly_aggregations', DAY.replace('02T', '01T')), 30);

    await storeTestEvents(db, [{ ts: '2026-11-02T05:10:00Z', metrics: { latency_ms: 99 } }]);
    t.deepEqual(await dirty(db), ['hour 2026-11-02T05:00:00.000Z']);
    // The day is not recomputed while an hour below it is still to do.
    t.is((await runAggregation(d, { level: 'day', trigger: 'cron', now: LATER })).windowsDone, 0);
    const hour = await runAggregation(d, { level: 'hour', trigger: 'cron', now: LATER });
    t.deepEqual(
      hour.windows.map((w) => [w.bucket, w.status, w.rowsIn]),
      [['2026-11-02T05:00:00.000Z', 'succeeded', 1]],
    );
    t.deepEqual(await dirty(db), ['day 2026-11-02T00:00:00.000Z']);
    t.is((await runAggregation(d, { level: 'week', trigger: 'cron', now: LATER })).windowsDone, 0);
    t.is((await runAggregation(d, { level: 'day', trigger: 'cron', now: LATER })).windowsDone, 1);
    t.deepEqual(await dirty(db), ['month 2026-11-01T00:00:00.000Z', 'week 2026-11-02T00:00:00.000Z']);
    t.is((await runAggregation(d, { level: 'week', trigger: 'cron', now: LATER })).windowsDone, 1);
    t.is((await runAggregation(d, { level: 'month', trigger: 'cron', now: LATER })).windowsDone, 1);
    t.deepEqual(await dirty(db), []);
    t.is(await total(db, 'daily_aggregations', DAY), 31);
    t.is(await total(db, 'weekly_aggregations', DAY), 31);
    t.is(await total(db, 'monthly_aggregations', '2026-11-01T00:00:00.000Z'), 31);
  },
);

bothBackends(
  'open windows wait; a rerun on unchanged data changes nothing; a backfill rebuilds the same state',
  async (t, db) => {
    await storeTestEvents(db, events([0, 7, 23], 20));
    const d = deps(db);
    // At 07:30 only hour 00 is closed; the day is not.
    const early = await runAllLevels(d, new Date('2026-11-02T07:30:00Z'));
    t.deepEqual(
      early.hour.windows.map((w) => w.bucket),
      ['2026-11-02T00:00:00.000Z'],
    );
    t.is(early.day.windowsDone, 0);
    await runAllLevels(d, LATER);
    t.deepEqual(await dirty(db), []);

    const before = await snapshot(db);
    const again = await runAllLevels(d, LATER);
    for (const s of Object.values(again)) {
      t.is(s.status, 'succeeded');
      t.is(s.windowsDone, 0);
    }
    t.is(await snapshot(db), before);

    // Recomputing the same data gives the same state (only computed_at and the sequence numbers move).
    const stable = async () =>
      JSON.stringify(
        (
          await db.query(
            `SELECT level, bucket, event_type, metric, dimension, dimension_value, count, sum::text, sum_squares::text,
                  min, max, p50, p95, p99 FROM aggregate_state ORDER BY 1, 2, 3, 4, 5, 6`,
          )
        ).rows,
      ) +
      JSON.stringify((await db.query('SELECT * FROM aggregate_sketch_bins ORDER BY 1, 2, 3, 4, 5, 6')).rows);
    const stateBefore = await stable();
    const backfill = await runAggregation(d, {
      level: 'hour',
      trigger: 'backfill',
      from: DAY,
      to: '2026-11-03T00:00:00Z',
      now: LATER,
    });
    t.is(backfill.windowsMarked, 3);
    t.is(backfill.windowsDone, 3);
    await runAllLevels(d, LATER);
    t.deepEqual(await dirty(db), []);
    t.is(await stable(), stateBefore);
  },
);

bothBackends(
  'two invocations at once: one works, the other answers already_running and does nothing',
  async (t, db) => {
    await storeTestEvents(db, events([1, 2], 5));
    const d = deps(db);
    const { first, inside, release } = heldHourlyRun(d, { rowsIn: 7, lag: 0 });
    await inside;
    const second = await runAggregation(d, { level: 'hour', trigger: 'http', now: LATER });
    release();
    const done = await first;
    t.is(second.status, 'already_running');
    t.is(second.windowsDone, 0);
    t.is(done.status, 'succeeded');
    t.is(done.windowsDone, 2);
    t.deepEqual(done.ingest, { rowsIn: 7, lag: 0 });
    const { rows } = await db.query<{ trigger: string; status: string; reason: string | null }>(
      `SELECT trigger, status, details->>'reason' AS reason FROM runs WHERE window_start IS NULL ORDER BY id`,
    );
    t.deepEqual(rows, [
      { trigger: 'cron', status: 'succeeded', reason: null },
      { trigger: 'http', status: 'skipped', reason: 'already_running' },
    ]);

    // Two started in the same tick: exactly one does the work.
    await storeTestEvents(db, events([4], 3));
    const slow = {
      level: 'hour' as const,
      trigger: 'cron' as const,
      now: LATER,
      beforeAggregate: () => new Promise<{ rowsIn: number }>((r) => setTimeout(() => r({ rowsIn: 0 }), 300)),
    };
    const both = await Promise.all([runAggregation(d, slow), runAggregation(d, slow)]);
    t.deepEqual(both.map((s) => s.status).sort(), ['already_running', 'succeeded']);
    t.is(
      both.reduce((n, s) => n + s.windowsDone, 0),
      1,
    );
  },
);

bothBackends('a stale lock is swept; a fresh one is respected', async (t, db) => {
  await storeTestEvents(db, events([1], 3));
  await db.query(
    `INSERT INTO job_locks (job, locked_by, locked_at) VALUES ('aggregate-hour', 'dead-host:1:x', clock_timestamp() - interval '10 minutes')`,
  );
  const d = deps(db, { lockLeaseMs: 60_000 });
  t.is((await runAggregation(d, { level: 'hour', trigger: 'cron', now: LATER })).status, 'succeeded');
  await db.query(
    `UPDATE job_locks SET locked_by = 'other-host:2:y', locked_at = clock_timestamp() WHERE job = 'aggregate-hour'`,
  );
  t.is((await runAggregation(d, { level: 'hour', trigger: 'cron', now: LATER })).status, 'already_running');
});

bothBackends('backfill of a past range redoes exactly the windows with data in it', async (t, db) => {
  await storeTestEvents(db, [
    ...events([3, 4], 2),
    { ts: '2026-10-01T10:00:00Z', metrics: { latency_ms: 1 } },
    { ts: '2026-10-02T11:00:00Z', metrics: { latency_ms: 2 } },
    { ts: '2026-10-03T12:00:00Z', metrics: { latency_ms: 3 } },
  ]);
  // As if those rows were restored without change tracking: no windows at all.
  await db.query('DELETE FROM aggregation_windows');
  const d = deps(db);
  t.is((await runAggregation(d, { level: 'hour', trigger: 'cron', now: LATER })).windowsDone, 0);

  const hours = await runAggregation(d, {
    level: 'hour',
    trigger: 'backfill',
    from: '2026-10-01T00:00:00Z',
    to: '2026-10-03T00:00:00Z',
    now: LATER,
  });
  t.is(hours.status, 'succeeded');
  t.is(hours.windowsMarked, 2);
  t.deepEqual(
    hours.windows.map((w) => w.bucket),
    ['2026-10-01T10:00:00.000Z', '2026-10-02T11:00:00.000Z'],
  );
  const { rows: run } = await db.query(
    `SELECT trigger, window_start, window_end, status FROM runs WHERE id = $1`,
    [hours.runId],
  );
  t.deepEqual(run, [
    {
      trigger: 'backfill',
      window_start: new Date('2026-10-01T00:00:00Z'),
      window_end: new Date('2026-10-03T00:00:00Z'),
      status: 'succeeded',
    },
  ]);
  // Finishing those hours re-opened their days, which a normal run then completes, and so on up.
  await runAllLevels(d, LATER);
  t.is(await total(db, 'daily_aggregations', '2026-10-01T00:00:00.000Z'), 1);
  t.is(await total(db, 'daily_aggregations', '2026-10-02T00:00:00.000Z'), 1);
  t.is(await total(db, 'daily_aggregations', '2026-10-03T00:00:00.000Z'), undefined);
  t.is(await total(db, 'monthly_aggregations', '2026-10-01T00:00:00.000Z'), 2);
  t.is(await total(db, 'hourly_aggregations', '2026-11-02T03:00:00.000Z'), undefined);

  // A rollup backfill reads the state below: the month of October from its days.
  await db.query(`DELETE FROM aggregate_state WHERE level = 'month'`);
  const months = await runAggregation(d, {
    level: 'month',
    trigger: 'backfill',
    from: '2026-10-01T00:00:00Z',
    to: '2026-11-01T00:00:00Z',
    now: LATER,
  });
  t.is(months.windowsMarked, 1);
  t.is(await total(db, 'monthly_aggregations', '2026-10-01T00:00:00.000Z'), 2);

  const bad = await t.throwsAsync(
    runAggregation(d, {
      level: 'hour',
      trigger: 'backfill',
      from: '2026-10-03T00:00:00Z',
      to: '2026-10-01T00:00:00Z',
    }),
  );
  t.is((bad as { code?: string }).code, 'REQUEST_INVALID');
});

/** Makes every write of the hour state of `bucket` fail, as a test-only trigger. */
async function failHour(db: Database, bucket: string): Promise<void> {
  await db.query(`CREATE FUNCTION test_fail_hour() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.level = 'hour' AND NEW.bucket = '${bucket}'::timestamptz THEN
        RAISE EXCEPTION 'injected failure for %', NEW.bucket USING ERRCODE = 'P0001';
      END IF;
      RETURN NEW;
    END $$`);
  await db.query(
    `CREATE TRIGGER test_fail_hour BEFORE INSERT ON aggregate_state FOR EACH ROW EXECUTE FUNCTION test_fail_hour()`,
  );
}

bothBackends(
  'hours due together share transactions: one ledger row per hour, and a failing batch is redone hour by hour',
  async (t, db) => {
    // 11 hours: batches of HOURS_PER_TRANSACTION (8) then 3; hour 9 fails, so the second batch fails whole
    await storeTestEvents(db, events([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4));
    await failHour(db, '2026-11-02T09:00:00Z');
    const published: string[] = [];
    const d = deps(db, {}, { publish: async (_topic, key) => void published.push(key) });
    const run = await runAggregation(d, { level: 'hour', trigger: 'cron', now: LATER });
    t.deepEqual([run.status, run.windowsDone, run.windowsFailed], ['partial', 10, 1]);
    const hour = (h: number): string => new Date(Date.parse(DAY) + h * 3_600_000).toISOString();
    t.deepEqual(
      run.windows.map((w) => [w.bucket, w.status]),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((h) => [hour(h), h === 9 ? 'failed' : 'succeeded']),
    );
    // each hour's published completion, in order, none for the failed one
    t.deepEqual(
      published,
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 10].map((h) => `hour:${hour(h)}`),
    );
    const { rows } = await db.query<{
      id: string;
      window_start: Date;
      status: string;
      rows_in: string | null;
      batch: { windows: number } | null;
      parent: string | null;
    }>(
      `SELECT id, window_start, status, rows_in, details->'batch' AS batch, details->>'parentRunId' AS parent
       FROM runs WHERE job = 'aggregate-hour' AND window_start IS NOT NULL ORDER BY window_start, id`,
    );
    // one row per hour: the first eight written with their batch's commit; the failed batch left none, and
    // its hours have the rows of their own attempts
    t.deepEqual(
      rows.map((r) => [r.window_start.toISOString(), r.status, Number(r.rows_in), r.batch?.windows ?? null]),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((h) => [
        hour(h),
        h === 9 ? 'failed' : 'succeeded',
        h === 9 ? 0 : 4,
        h < 8 ? 8 : null,
      ]),
    );
    t.true(rows.every((r) => Number(r.parent) === run.runId));
    t.deepEqual(
      run.windows.map((w) => w.runId),
      rows.map((r) => Number(r.id)),
    );
    t.deepEqual(await dirty(db), [`day ${DAY}`, `hour ${hour(9)}`]);
    t.is(await total(db, 'hourly_aggregations', hour(7)), 4);
    t.is(await total(db, 'hourly_aggregations', hour(10)), 4);

    // Retried beside new hours, the failed hour goes alone and does not take their batch down again.
    await storeTestEvents(db, events([11, 12, 13], 2));
    const retry = await runAggregation(d, {
      level: 'hour',
      trigger: 'cron',
      now: new Date(LATER.getTime() + 3_600_000),
    });
    t.deepEqual(
      retry.windows.map((w) => [w.bucket, w.status, w.attempt]),
      [
        [hour(9), 'failed', 2],
        [hour(11), 'succeeded', 1],
        [hour(12), 'succeeded', 1],
        [hour(13), 'succeeded', 1],
      ],
    );
    const { rows: batched } = await db.query<{ batch: { windows: number } | null }>(
      `SELECT details->'batch' AS batch FROM runs
       WHERE job = 'aggregate-hour' AND window_start > $1 ORDER BY window_start`,
      [hour(10)],
    );
    t.deepEqual(
      batched.map((r) => r.batch?.windows),
      [3, 3, 3],
    );
  },
);

bothBackends(
  'a failing window is retried per retries/retryDelay without blocking the others, then stays failed',
  async (t, db) => {
    await storeTestEvents(db, events([1, 2, 3, 4], 3));
    await failHour(db, '2026-11-02T03:00:00Z');
    const published: { topic: string; key: string; value: Record<string, unknown> }[] = [];
    const d: JobDeps = deps(
      db,
      { retries: 2, retryDelayMs: 60_000 },
      {
        publish: async (topic, key, value) => {
          published.push({ topic, key, value: value as Record<string, unknown> });
        },
        clock: () => new Date('2030-01-01T00:00:00Z'), // overridden per run by `now`
      },
    );
    const t0 = Date.parse('2026-11-10T00:00:00Z');
    const at = (ms: number) => new Date(t0 + ms);

    const first = await runAggregation(d, { level: 'hour', trigger: 'cron', now: at(0) });
    t.is(first.status, 'partial');
    t.is(first.windowsDone, 3);
    t.is(first.windowsFailed, 1);
    const failed = first.windows.find((w) => w.status === 'failed');
    t.is(failed?.bucket, '2026-11-02T03:00:00.000Z');
    t.is(failed?.error?.code, 'P0001');
    t.regex(failed?.error?.message ?? '', /injected failure/);
    t.is(failed?.exhausted, false);
    const [w1] = await listFailedWindows(db, 'hour');
    t.is(w1?.attempts, 1);
    t.deepEqual(w1?.retryAt, at(60_000));
    t.regex(w1?.lastError ?? '', /^P0001: injected failure/);
    t.deepEqual(
      published.map((p) => [p.topic, p.key, p.value.type, p.value.level, p.value.bucket]),
      ['01', '02', '04'].map((h) => [
        'hxp.batch.events',
        `hour:2026-11-02T${h}:00:00.000Z`,
        'aggregation.completed',
        'hour',
        `2026-11-02T${h}:00:00.000Z`,
      ]),
    );
    // 2 metrics × (all, source api-1, source api-2, model)
    t.like(published[0]?.value, { rows: 8, runId: first.runId, at: '2030-01-01T00:00:00.000Z' });

    // The day waits while its failing hour still has retries left.
    t.is((await runAggregation(d, { level: 'day', trigger: 'cron', now: at(0) })).windowsDone, 0);
    // Before retry_at: not attempted.
    const waiting = await runAggregation(d, { level: 'hour', trigger: 'cron', now: at(30_000) });
    t.deepEqual([waiting.status, waiting.windows.length], ['succeeded', 0]);
    const second = await runAggregation(d, { level: 'hour', trigger: 'cron', now: at(61_000) });
    t.deepEqual(
      second.windows.map((w) => [w.attempt, w.status, w.exhausted]),
      [[2, 'failed', false]],
    );
    const third = await runAggregation(d, { level: 'hour', trigger: 'cron', now: at(122_000) });
    t.deepEqual(
      third.windows.map((w) => [w.attempt, w.status, w.exhausted]),
      [[3, 'failed', true]],
    );
    t.is(third.status, 'failed');
    const runFailed = published.filter((p) => p.value.type === 'run.failed');
    t.is(runFailed.length, 1);
    t.like(runFailed[0]?.value, {
      job: 'aggregate-hour',
      level: 'hour',
      bucket: '2026-11-02T03:00:00.000Z',
      attempts: 3,
      errorCode: 'P0001',
    });
    // Out of retries: no further attempts, still visible as failed; the day goes ahead without it.
    const after = await runAggregation(d, { level: 'hour', trigger: 'cron', now: at(1_000_000) });
    t.is(after.windows.length, 0);
    t.like((await listFailedWindows(db, 'hour'))[0], { attempts: 3 });
    t.is((await runAggregation(d, { level: 'day', trigger: 'cron', now: at(0) })).windowsDone, 1);
    t.is(await total(db, 'daily_aggregations', DAY), 9);

    // The ledger has one row per window attempt with the error.
    const { rows } = await db.query<{ attempt: number; status: string; error_code: string | null }>(
      `SELECT attempt, status, error_code FROM runs WHERE job = 'aggregate-hour' AND window_start = '2026-11-02T03:00:00Z' ORDER BY id`,
    );
    t.deepEqual(
      rows,
      [1, 2, 3].map((attempt) => ({ attempt, status: 'failed', error_code: 'P0001' })),
    );

    // Fixed and backfilled: attempts reset, the hour succeeds and re-opens its day.
    await db.query('DROP TRIGGER test_fail_hour ON aggregate_state');
    const fixed = await runAggregation(d, {
      level: 'hour',
      trigger: 'backfill',
      from: '2026-11-02T03:00:00Z',
      to: '2026-11-02T04:00:00Z',
      now: at(1_000_000),
    });
    t.deepEqual(
      fixed.windows.map((w) => [w.attempt, w.status]),
      [[1, 'succeeded']],
    );
    t.deepEqual(await listFailedWindows(db), []);
    await runAggregation(d, { level: 'day', trigger: 'cron', now: at(1_000_000) });
    t.is(await total(db, 'daily_aggregations', DAY), 12);
  },
);

bothBackends('a run that passes its timeout stops taking windows and reports timed_out', async (t, db) => {
  // ten hours: the first batch (HOURS_PER_TRANSACTION, 8) is always taken and finishes, the rest wait
  await storeTestEvents(db, events([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2));
  await db.query(`CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$`);
  await db.query(
    `CREATE TRIGGER test_slow AFTER INSERT ON aggregate_state FOR EACH STATEMENT EXECUTE FUNCTION test_slow()`,
  );
  const slow = await runAggregation(deps(db, { timeoutMs: 200 }), {
    level: 'hour',
    trigger: 'cron',
    now: LATER,
  });
  t.is(slow.status, 'timed_out');
  t.is(slow.windowsDone, 8);
  t.is(slow.error?.code, 'JOB_TIMEOUT');
  t.is((await dirty(db)).filter((w) => w.startsWith('hour')).length, 2);
  const { rows } = await db.query(`SELECT status, error_code FROM runs WHERE id = $1`, [slow.runId]);
  t.deepEqual(rows, [{ status: 'failed', error_code: 'JOB_TIMEOUT' }]);
  const rest = await runAggregation(deps(db), { level: 'hour', trigger: 'cron', now: LATER });
  t.deepEqual([rest.status, rest.windowsDone], ['succeeded', 2]);
});

bothBackends('a failing ingestion hook is reported but stored data is still aggregated', async (t, db) => {
  await storeTestEvents(db, events([1], 2));
  const hook = async (): Promise<{ rowsIn: number }> => {
    throw Object.assign(new Error('brokers unreachable'), { code: 'KAFKA_UNAVAILABLE' });
  };
  const s = await runAggregation(deps(db), {
    level: 'hour',
    trigger: 'cron',
    now: LATER,
    beforeAggregate: hook,
  });
  t.is(s.status, 'partial');
  t.is(s.windowsDone, 1);
  t.deepEqual(s.error, { code: 'KAFKA_UNAVAILABLE', message: 'brokers unreachable' });
  const none = await runAggregation(deps(db), {
    level: 'hour',
    trigger: 'cron',
    now: LATER,
    beforeAggregate: hook,
  });
  t.is(none.status, 'failed');
});

// Real PostgreSQL only: needs a second connection to hold a lock while an event is ingested mid-recompute.
serviceTest('postgres')(
  'an event ingested while its hour is recomputed waits for it, then leaves the hour dirty',
  async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    await storeTestEvents(db, events([1], 2));
    let resume: () => void = () => undefined;
    const resumed = new Promise<void>((r) => (resume = r));
    const holding = db.withClient(async (c) => {
      await c.query('BEGIN');
      await c.query('LOCK TABLE aggregate_sketch_bins IN EXCLUSIVE MODE');
      await resumed;
      await c.query('COMMIT');
    });
    // Wait until the blocker holds its lock, then start the run: it reads changed_seq and blocks on DELETE.
    await waitFor(
      db,
      `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'aggregate_sketch_bins' AND l.granted AND l.mode = 'ExclusiveLock'`,
    );
    const run = runAggregation(deps(db), { level: 'hour', trigger: 'cron', now: LATER });
    await waitFor(
      db,
      `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'aggregate_sketch_bins' AND NOT l.granted`,
    );
    // The run holds the hour's window: the batch writes its rows and partials, then waits to mark the hour.
    let stored = false;
    const late = storeTestEvents(db, [{ ts: '2026-11-02T01:30:00Z', metrics: { latency_ms: 5 } }]).then(
      () => {
        stored = true;
      },
    );
    await waitFor(
      db,
      `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO aggregation_windows%'`,
    );
    t.false(stored);
    resume();
    await holding;
    const first = await run;
    await late;
    t.is(first.windowsDone, 1);
    t.is(first.rowsIn, 2, 'the run read the hour as it was before the batch');
    // done_seq is the changed_seq read before the event arrived: the hour stays dirty (its day was re-opened too).
    t.deepEqual(await dirty(db), ['day 2026-11-02T00:00:00.000Z', 'hour 2026-11-02T01:00:00.000Z']);
    const second = await runAggregation(deps(db), { level: 'hour', trigger: 'cron', now: LATER });
    t.is(second.windowsDone, 1);
    t.is(await total(db, 'hourly_aggregations', '2026-11-02T01:00:00.000Z'), 3);
    t.deepEqual(await dirty(db), ['day 2026-11-02T00:00:00.000Z']);
  },
);

async function waitFor(db: Database, sql: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await db.query(sql)).rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for: ${sql}`);
}

bothBackends(
  'a backfill redoes its range and nothing else; other due windows wait for the next tick',
  async (t, db) => {
    // A new user's backfill of 1–27 November also processed 28 November, which was merely due.
    await storeTestEvents(db, [
      { ts: '2026-10-31T23:30:00Z', metrics: { latency_ms: 1 } },
      { ts: '2026-11-01T10:00:00Z', metrics: { latency_ms: 2 } },
      { ts: '2026-11-27T23:59:00Z', metrics: { latency_ms: 3 } },
      { ts: '2026-11-28T00:00:00Z', metrics: { latency_ms: 4 } },
    ]);
    const d = deps(db);
    const hours = await runAggregation(d, {
      level: 'hour',
      trigger: 'backfill',
      from: '2026-11-01T00:00:00Z',
      to: '2026-11-28T00:00:00Z',
      now: LATER,
    });
    t.deepEqual(
      hours.windows.map((w) => w.bucket),
      ['2026-11-01T10:00:00.000Z', '2026-11-27T23:00:00.000Z'],
    );
    t.deepEqual(await dirty(db), [
      'day 2026-11-01T00:00:00.000Z',
      'day 2026-11-27T00:00:00.000Z',
      'hour 2026-10-31T23:00:00.000Z',
      'hour 2026-11-28T00:00:00.000Z',
    ]);
    const tick = await runAggregation(d, { level: 'hour', trigger: 'cron', now: LATER });
    t.deepEqual(
      tick.windows.map((w) => w.bucket),
      ['2026-10-31T23:00:00.000Z', '2026-11-28T00:00:00.000Z'],
    );
  },
);

bothBackends(
  'a backfill while the job runs is refused with 409 JOB_ALREADY_RUNNING and recorded; a tick is not',
  async (t, db) => {
    await storeTestEvents(db, events([1], 2));
    const d = deps(db);
    const { first, inside, release } = heldHourlyRun(d, { rowsIn: 0 });
    await inside;
    const tick = await runAggregation(d, { level: 'hour', trigger: 'cron', now: LATER });
    t.is(tick.status, 'already_running', 'a tick has nothing to add: the running one does every due window');
    const refused = await t.throwsAsync(
      runAggregation(d, {
        level: 'hour',
        trigger: 'backfill',
        from: '2026-10-01T00:00:00Z',
        to: '2026-10-02T00:00:00Z',
        now: LATER,
      }),
    );
    release();
    await first;
    t.is((refused as { code?: string }).code, 'JOB_ALREADY_RUNNING');
    t.regex(refused.message, /was not started: send it again when the running invocation has finished/);
    const { rows } = await db.query<{ trigger: string; status: string }>(
      `SELECT trigger, status FROM runs WHERE details->>'reason' = 'already_running' ORDER BY id`,
    );
    t.deepEqual(rows, [
      { trigger: 'cron', status: 'skipped' },
      { trigger: 'backfill', status: 'skipped' },
    ]);
  },
);

bothBackends(
  'a switched-off level records a skipped run and processes nothing (the pull still runs); a backfill of it is refused',
  async (t, db) => {
    await storeTestEvents(db, events([1, 2], 2));
    const d = deps(db);
    let pulled = 0;
    const off = await runAggregation(d, {
      level: 'hour',
      trigger: 'cron',
      now: LATER,
      enabled: false,
      beforeAggregate: async () => {
        pulled += 1;
        return { rowsIn: 4 };
      },
    });
    t.is(off.status, 'disabled');
    t.is(off.windowsDone, 0);
    t.is(pulled, 1, 'ingestion goes on, so Kafka does not back up while aggregation is off');
    t.deepEqual(await dirty(db), ['hour 2026-11-02T01:00:00.000Z', 'hour 2026-11-02T02:00:00.000Z']);
    const { rows } = await db.query<{ status: string; reason: string }>(
      `SELECT status, details->>'reason' AS reason FROM runs WHERE id = $1`,
      [off.runId],
    );
    t.deepEqual(rows, [{ status: 'skipped', reason: 'disabled' }]);
    const refused = await t.throwsAsync(
      runAggregation(d, {
        level: 'hour',
        trigger: 'backfill',
        from: '2026-11-02T00:00:00Z',
        to: '2026-11-03T00:00:00Z',
        now: LATER,
        enabled: false,
      }),
    );
    t.is((refused as { code?: string }).code, 'AGGREGATION_DISABLED');
    // Switched on again, the windows that came due meanwhile are caught up.
    t.is((await runAggregation(d, { level: 'hour', trigger: 'cron', now: LATER })).windowsDone, 2);
  },
);

bothBackends(
  'a run its invocation could not mark failed is expired as RUN_ABANDONED by the next invocation',
  async (t, db) => {
    // The database goes away just as the run is to be marked failed: that one statement fails.
    const refusing: Database = {
      ...db,
      query: (text, values) =>
        /^UPDATE runs SET status/.test(text) && values?.[1] === 'failed'
          ? Promise.reject(new Error('injected: connection lost'))
          : db.query(text, values),
    };
    const logged: string[] = [];
    const log = {
      info: () => undefined,
      warn: (_o: object, msg?: string) => void logged.push(`warn ${msg}`),
      error: (_o: object, msg?: string) => void logged.push(`error ${msg}`),
    };
    const broken = deps(refusing, { timeZone: 'Mars/Olympus_Mons' }, { log }); // an unknown zone: the run throws
    const err = await t.throwsAsync(runAggregation(broken, { level: 'day', trigger: 'cron', now: LATER }));
    t.is((err as { code?: string }).code, 'TIMEZONE_UNSUPPORTED');
    t.true(logged.includes('error could not mark the run failed; it is expired later'));
    const stuck = await db.query<{ id: number; status: string }>(`SELECT id, status FROM runs`);
    t.deepEqual(
      stuck.rows.map((r) => r.status),
      ['running'],
    );

    const next = await runAggregation(deps(db, {}, { log }), { level: 'day', trigger: 'cron', now: LATER });
    t.is(next.status, 'succeeded');
    t.true(logged.includes('warn runs left running by an earlier invocation marked failed'));
    const { rows } = await db.query<{ status: string; error_code: string; error: string }>(
      `SELECT status, error_code, error FROM runs WHERE id = $1`,
      [stuck.rows[0]!.id],
    );
    t.is(rows[0]?.status, 'failed');
    t.is(rows[0]?.error_code, 'RUN_ABANDONED');
    t.regex(rows[0]?.error ?? '', new RegExp(`expired by run ${next.runId}$`));
    // Shown where failures are looked for: GET /runs?status=failed.
    const failed = await listRuns(db, { status: 'failed' });
    t.deepEqual(
      failed.runs.map((r) => [r.id, r.error?.code]),
      [[stuck.rows[0]!.id, 'RUN_ABANDONED']],
    );
  },
);
