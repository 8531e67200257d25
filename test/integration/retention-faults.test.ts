// The retention sweep's safety rules, each against real PostgreSQL (and the S3 gateway where S3 matters):
// hours not final keep their day; S3 unreachable removes nothing and is retried; a corrupted object removes
// nothing and raises an alert; parts uploaded without their manifest remove nothing; rows changed after the export stop the drop; two sweeps at once — one works;
// archival off deletes without a copy; kill -9 at every step of a raw day and of an aggregate month.
import test, { type ExecutionContext } from 'ava';
import type { ObjectStore } from '../../shared/archive/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { BatchError } from '../../shared/errors/index.ts';
import { Registry } from 'prom-client';
import {
  handleRetentionRequest,
  listArchives,
  recordRetentionState,
  retentionStatus,
  runRetentionSweep,
  type RetentionDeps,
  type RetentionHooks,
} from '../../shared/retention/index.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import {
  aggregateAll,
  aggregatesText,
  dayOf,
  loadDemoDays,
  localStore,
  NOW,
  rawRowsText,
  retentionDeps,
  runRetentionChild,
  s3Store,
  s3Target,
  testPolicy,
} from '../fixtures/retention.ts';

const pgTest = serviceTest('postgres');
const s3Test = serviceTest('postgres', 's3');
const THREE_DAYS = { BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '3' };
const PAST = [dayOf(-6), dayOf(-5), dayOf(-4)];

async function sixDays(t: ExecutionContext): Promise<Database> {
  const { db, drop } = await freshPgDatabase();
  t.teardown(drop);
  await loadDemoDays(db, { days: 6, requestsPerHour: 4 });
  await aggregateAll(db);
  return db;
}

function deps(db: Database, store: ObjectStore, extra: Partial<RetentionDeps> = {}): RetentionDeps {
  return retentionDeps(db, store, { policy: testPolicy(THREE_DAYS), ...extra });
}

async function liveDays(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ day: string }>(
    `SELECT DISTINCT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM raw_events ORDER BY 1`,
  );
  return rows.map((r) => r.day);
}

pgTest('an hour not aggregated yet, or re-opened, keeps its whole day; the other days go', async (t) => {
  const db = await sixDays(t);
  // a late event re-opened an hour of the oldest day; the next day lost its finished window of one hour
  await db.query(
    `UPDATE aggregation_windows SET changed_seq = nextval('window_change_seq') WHERE level = 'hour' AND bucket = $1`,
    [`${PAST[0]}T05:00:00Z`],
  );
  await db.query(`DELETE FROM aggregation_windows WHERE level = 'hour' AND bucket = $1`, [
    `${PAST[1]}T07:00:00Z`,
  ]);
  const store = await localStore(t);
  const plan = await runRetentionSweep(deps(db, store), { trigger: 'manual', dryRun: true });
  t.deepEqual(
    plan.units.filter((u) => u.kind === 'raw').map((u) => [u.unit, u.action]),
    [
      [PAST[0], 'keep'],
      [PAST[1], 'keep'],
      [PAST[2], 'archive'],
    ],
  );
  t.regex(
    plan.units[0]?.reason ?? '',
    new RegExp(`1 hour\\(s\\) not aggregated yet or re-opened \\(first ${PAST[0]}T05`),
  );
  const summary = await runRetentionSweep(deps(db, store), { trigger: 'manual' });
  t.is(summary.status, 'succeeded');
  t.deepEqual(
    summary.units.filter((u) => u.kind === 'raw').map((u) => [u.unit, u.outcome]),
    [
      [PAST[0], 'kept'],
      [PAST[1], 'kept'],
      [PAST[2], 'done'],
    ],
  );
  t.deepEqual((await liveDays(db)).slice(0, 2), [PAST[0], PAST[1]]);
  t.false((await liveDays(db)).includes(PAST[2]!));

  // once the hours are final again the days go too
  await aggregateAll(db);
  await db.query(
    `INSERT INTO aggregation_windows (level, bucket, changed_seq, done_seq) VALUES ('hour', $1, 1, 1)`,
    [`${PAST[1]}T07:00:00Z`],
  );
  const later = await runRetentionSweep(deps(db, store), { trigger: 'manual' });
  t.deepEqual(
    later.units.filter((u) => u.kind === 'raw').map((u) => [u.unit, u.outcome]),
    [
      [PAST[0], 'done'],
      [PAST[1], 'done'],
    ],
  );
});

s3Test(
  'S3 unreachable: nothing is deleted, the run fails after its retries, and the next sweep finishes',
  async (t) => {
    const db = await sixDays(t);
    const before = await rawRowsText(db, new Date(`${PAST[0]}T00:00:00Z`), new Date(`${PAST[2]}T23:59:59Z`));
    const events: object[] = [];
    // nothing listens on port 9 (discard) of loopback: every call is refused
    const down = s3Store(t, 'http://127.0.0.1:9');
    const failed = await runRetentionSweep(
      deps(db, down, {
        options: { retries: 2 },
        publish: async (_topic, _key, value) => {
          events.push(value);
        },
      }),
      { trigger: 'manual' },
    );
    t.is(failed.status, 'failed');
    t.is(failed.error?.code, 'S3_UNAVAILABLE');
    const raw = failed.units.filter((u) => u.kind === 'raw');
    t.deepEqual(
      raw.map((u) => [u.unit, u.outcome, u.attempts]),
      PAST.map((d) => [d, 'failed', 3]),
    );
    t.true(raw.every((u) => u.error?.code === 'S3_UNAVAILABLE'));
    t.deepEqual(
      await rawRowsText(db, new Date(`${PAST[0]}T00:00:00Z`), new Date(`${PAST[2]}T23:59:59Z`)),
      before,
    );
    t.deepEqual(
      (await listArchives(db)).map((a) => [a.unit, a.status, a.attempts, a.errorCode]),
      PAST.map((d) => [d, 'failed', 3, 'S3_UNAVAILABLE']),
    );
    const run = await db.query<{ status: string; error_code: string }>(
      `SELECT status, error_code FROM runs WHERE id = $1`,
      [failed.runId],
    );
    t.deepEqual(run.rows[0], { status: 'failed', error_code: 'S3_UNAVAILABLE' });
    t.like(
      events.find((e) => (e as { type: string }).type === 'retention.completed'),
      { status: 'failed', failed: 3 },
    );
    t.is(events.filter((e) => (e as { type: string }).type === 'run.failed').length, 3);

    // S3 is back: the next sweep archives and drops the three days
    const store = s3Store(t);
    const retried = await runRetentionSweep(deps(db, store), { trigger: 'manual' });
    t.is(retried.status, 'succeeded');
    t.deepEqual(
      retried.units.filter((u) => u.kind === 'raw').map((u) => [u.unit, u.outcome, u.attempts]),
      PAST.map((d) => [d, 'done', 4]),
    );
    t.false((await liveDays(db)).some((d) => PAST.includes(d)));
    t.deepEqual(
      (await listArchives(db)).map((a) => a.status),
      ['archived', 'archived', 'archived'],
    );
  },
);

s3Test(
  'a corrupted object: nothing is dropped, an alert goes out, and the next sweep writes it again',
  async (t) => {
    const db = await sixDays(t);
    const store = s3Store(t);
    const metrics = new Registry();
    const events: { type: string; unit?: string; errorCode?: string }[] = [];
    const rotten = `raw/date=${PAST[1]}/part-0000.parquet`;
    const summary = await runRetentionSweep(
      deps(db, store, {
        metrics,
        publish: async (_topic, _key, value) => {
          events.push(value as { type: string });
        },
        hooks: {
          // the disk rots between the upload and the read-back: one byte in the middle flips
          afterPut: async (key) => {
            if (key !== rotten) return;
            const body = Buffer.from(await store.get(key));
            const middle = body.length >> 1;
            body.writeUInt8(body.readUInt8(middle) ^ 0xff, middle);
            await store.put(key, body);
          },
        },
      }),
      { trigger: 'manual' },
    );
    t.is(summary.status, 'partial');
    const unit = summary.units.find((u) => u.unit === PAST[1]);
    t.is(unit?.outcome, 'failed');
    t.is(unit?.error?.code, 'ARCHIVE_VERIFICATION_FAILED');
    t.regex(
      unit?.error?.message ?? '',
      /part-0000\.parquet has \d+ bytes with SHA-256 [0-9a-f]{64}, the manifest says/,
    );
    t.is(unit?.attempts, 1, 'a verification failure is not retried in the run');
    t.true((await liveDays(db)).includes(PAST[1]!), 'the day is still in the database');
    t.false((await liveDays(db)).includes(PAST[0]!));
    t.deepEqual(
      events.filter((e) => e.type === 'run.failed').map((e) => [e.unit, e.errorCode]),
      [[PAST[1], 'ARCHIVE_VERIFICATION_FAILED']],
    );
    t.regex(await metrics.metrics(), /hxp_retention_verification_failures_total\{kind="raw"\} 1/);
    const archive = (await listArchives(db)).find((a) => a.unit === PAST[1]);
    t.is(archive?.status, 'failed');
    // the state gauge the alert reads, as the status function's /metrics computes it
    const failedUnits = async (): Promise<string> => {
      const state = new Registry();
      await recordRetentionState(state, db, testPolicy(THREE_DAYS));
      return (await state.metrics())
        .split('\n')
        .filter((line) => line.startsWith('hxp_retention_failed_units_count{'))
        .join('\n');
    };
    t.is(
      await failedUnits(),
      [
        'hxp_retention_failed_units_count{kind="raw"} 1',
        'hxp_retention_failed_units_count{kind="aggregate"} 0',
        'hxp_retention_failed_units_count{kind="reports"} 0',
      ].join('\n'),
    );

    const next = await runRetentionSweep(deps(db, store), { trigger: 'manual' });
    t.is(next.status, 'succeeded');
    t.deepEqual(
      next.units.filter((u) => u.kind === 'raw').map((u) => [u.unit, u.outcome]),
      [[PAST[1], 'done']],
    );
    t.false((await liveDays(db)).includes(PAST[1]!));
    t.regex(await failedUnits(), /\{kind="raw"\} 0\n/);
  },
);

pgTest(
  'rows that change after the export stop the drop: the live partition must equal the manifest',
  async (t) => {
    const db = await sixDays(t);
    const store = await localStore(t);
    const summary = await runRetentionSweep(
      deps(db, store, {
        hooks: {
          step: async (step, unit) => {
            if (step !== 'verified' || unit !== PAST[0]) return;
            // a write that slipped past ingest (a hand-made fix, say) after the archive was read back
            await db.query(
              `INSERT INTO raw_events (ts, event_type, source, idempotency_key, metric_names, metric_values,
                                     dimension_names, dimension_values, data)
             VALUES ($1, 'llm_request', 'api-1', 'late-fix', '{latency_ms}', '{5}', '{}', '{}', '{"latency_ms": 5}')`,
              [`${PAST[0]}T03:00:00Z`],
            );
          },
        },
      }),
      { trigger: 'manual' },
    );
    const unit = summary.units.find((u) => u.unit === PAST[0]);
    t.is(unit?.outcome, 'failed');
    t.regex(unit?.error?.message ?? '', /the live partition has \d+ rows, expected \d+/);
    t.true((await liveDays(db)).includes(PAST[0]!));
    // the next sweep archives the day as it is now, the extra row included
    const next = await runRetentionSweep(deps(db, store), { trigger: 'manual' });
    t.is(next.units.find((u) => u.unit === PAST[0])?.outcome, 'done');
    t.is(next.units.find((u) => u.unit === PAST[0])?.rows, (unit?.rows ?? 0) + 1);
  },
);

pgTest(
  'the parts uploaded but the manifest not: nothing is dropped until a manifest is written and verified',
  async (t) => {
    const db = await sixDays(t);
    const store = await localStore(t);
    const manifestOf = `raw/date=${PAST[0]}/manifest.json`;
    // the first manifest write of the oldest day fails (S3 answered 503), the second a non-retriable way
    let failures = 0;
    const put: ObjectStore['put'] = async (key, body, options) => {
      if (key === manifestOf && failures < 2) {
        failures += 1;
        if (failures === 1) throw new BatchError('S3_UNAVAILABLE', `PUT ${key}: 503 Slow Down`);
        throw new Error(`PUT ${key}: 403 AccessDenied`);
      }
      return (store as ObjectStore).put(key, body, options);
    };
    const flaky = new Proxy(store, {
      get: (target, prop) => {
        if (prop === 'put') return put;
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const first = await runRetentionSweep(
      deps(db, flaky, { options: { retries: 1, retryBaseMs: 1, rowsPerPart: 20, rowsPerGroup: 10 } }),
      { trigger: 'manual' },
    );
    const unit = first.units.find((u) => u.unit === PAST[0]);
    t.like(unit, { outcome: 'failed', attempts: 2, error: { code: 'INTERNAL' } });
    t.is(failures, 2, 'retried once in the run after the retriable failure');
    t.true((await liveDays(db)).includes(PAST[0]!), 'the day is still in the database');
    t.true((await store.list(`raw/date=${PAST[0]}/`)).length > 1, 'its parts were uploaded');
    t.false((await store.list(`raw/date=${PAST[0]}/`)).some((o) => o.key === manifestOf));
    t.like(
      (await listArchives(db)).find((a) => a.unit === PAST[0]),
      { status: 'failed' },
    );

    const next = await runRetentionSweep(deps(db, flaky, { options: { rowsPerPart: 1000 } }), {
      trigger: 'manual',
    });
    t.is(next.units.find((u) => u.unit === PAST[0])?.outcome, 'done');
    t.false((await liveDays(db)).includes(PAST[0]!));
    // the folder holds the manifest and exactly the objects it names: the first attempt's extra parts are gone
    const manifest = JSON.parse((await store.get(manifestOf)).toString()) as { objects: { key: string }[] };
    t.deepEqual(
      (await store.list(`raw/date=${PAST[0]}/`)).map((o) => o.key).sort(),
      [manifestOf, ...manifest.objects.map((o) => o.key)].sort(),
    );
  },
);

/** Hooks that stop a sweep at its first uploaded part until release(); `inside` resolves once it is there. */
function heldAtFirstPart(): { hooks: RetentionHooks; inside: Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let entered: () => void = () => undefined;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const hooks: RetentionHooks = {
    step: async (step) => {
      if (step !== 'part-uploaded') return;
      entered();
      await held;
    },
  };
  return { hooks, inside, release: () => release() };
}

pgTest('two sweeps at once: one works, the other answers already_running and changes nothing', async (t) => {
  const db = await sixDays(t);
  const store = await localStore(t);
  const { hooks, inside, release } = heldAtFirstPart();
  const first = runRetentionSweep(deps(db, store, { hooks }), { trigger: 'manual' });
  await inside;
  // released however the checks end: a failed assertion throws, and the first sweep must not hang on its hook
  try {
    const second = await runRetentionSweep(deps(db, store), { trigger: 'http' });
    t.is(second.status, 'already_running');
    t.is(second.error?.code, 'JOB_ALREADY_RUNNING');
    t.deepEqual(second.units, []);
    const skipped = await db.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [
      second.runId,
    ]);
    t.is(skipped.rows[0]?.status, 'skipped');
    // over HTTP: 409 with the error object every job's lock answers with (as POST /capacity/analysis does)
    const answer = await handleRetentionRequest(
      { method: 'POST', path: '/retention/cleanup', body: {}, headers: {} },
      { ...deps(db, store), apiToken: undefined, schedule: '30 0 * * *' },
    );
    t.is(answer.status, 409);
    t.like(answer.body, { status: 'already_running', error: { code: 'JOB_ALREADY_RUNNING' } });
  } finally {
    release();
  }
  const done = await first;
  t.is(done.status, 'succeeded');
  t.is(done.totals.droppedPartitions, 3);
  const manifests = (await store.list('raw/')).filter((o) => o.key.endsWith('manifest.json'));
  t.is(manifests.length, 3);
});

pgTest(
  'a sweep that could not mark its run finished leaves it running: the next sweep marks it RUN_ABANDONED and works',
  async (t) => {
    const db = await sixDays(t);
    const store = await localStore(t);
    // The database goes away just as the run is to be finished: those statements fail, the lock is released.
    const refusing: Database = {
      ...db,
      query: (text, values) =>
        /^UPDATE runs SET status/.test(text)
          ? Promise.reject(new Error('injected: connection lost'))
          : db.query(text, values),
    };
    await t.throwsAsync(runRetentionSweep(deps(refusing, store), { trigger: 'manual' }), {
      message: /injected/,
    });
    const stuck = await db.query<{ id: string }>(
      `SELECT id FROM runs WHERE job = 'retention-sweep' AND status = 'running'`,
    );
    t.is(stuck.rowCount, 1);
    const stuckId = Number(stuck.rows[0]!.id);

    const next = await runRetentionSweep(deps(db, store), { trigger: 'manual' });
    t.is(next.status, 'succeeded', JSON.stringify(next.error));
    const { rows } = await db.query<{ status: string; error_code: string; error: string }>(
      'SELECT status, error_code, error FROM runs WHERE id = $1',
      [stuckId],
    );
    t.like(rows[0], { status: 'failed', error_code: 'RUN_ABANDONED' });
    t.regex(rows[0]?.error ?? '', new RegExp(`expired by run ${next.runId}$`));
  },
);

pgTest(
  'a unit that outlasts the lock lease keeps the lock: a second sweep then answers already_running',
  async (t) => {
    const db = await sixDays(t);
    const store = await localStore(t);
    // a lease long enough that a loaded machine still refreshes it in time (every 375 ms), short enough to wait out
    const lease = { lockLeaseMs: 1_500 };
    const { hooks, inside, release } = heldAtFirstPart();
    const first = runRetentionSweep(deps(db, store, { options: lease, hooks }), { trigger: 'manual' });
    await inside;
    // three leases inside one unit: without a heartbeat while it runs, the lock looks stale and is taken over
    await new Promise((resolve) => setTimeout(resolve, 3 * lease.lockLeaseMs));
    const secondRun = runRetentionSweep(deps(db, store, { options: lease }), { trigger: 'http' });
    // a sweep that took the lock over would wait on the day the first one holds: give it a bound
    const second = await Promise.race([
      secondRun,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 8_000)),
    ]);
    release();
    t.is(second?.status, 'already_running', 'the lock was taken over while the first sweep held it');
    const done = await first;
    await secondRun.catch(() => undefined);
    t.is(done.status, 'succeeded', JSON.stringify(done.error));
    t.is(done.totals.droppedPartitions, 3);
  },
);

pgTest('archival off: past-retention days are deleted without a copy, and recorded as deleted', async (t) => {
  const db = await sixDays(t);
  const store = await localStore(t);
  const aggregates = await aggregatesText(db);
  const summary = await runRetentionSweep(
    deps(db, store, { policy: testPolicy({ ...THREE_DAYS, BATCH_PROCESSING_ARCHIVAL_ENABLED: 'false' }) }),
    { trigger: 'manual' },
  );
  t.is(summary.status, 'succeeded');
  t.false(summary.archival);
  t.deepEqual(
    summary.units.filter((u) => u.kind === 'raw').map((u) => [u.unit, u.action, u.outcome]),
    PAST.map((d) => [d, 'delete', 'done']),
  );
  t.is(summary.totals.archivedRows, 0);
  t.deepEqual(await store.list(''), []);
  t.deepEqual(
    (await listArchives(db)).map((a) => [a.unit, a.status]),
    PAST.map((d) => [d, 'deleted']),
  );
  t.deepEqual(await aggregatesText(db), aggregates);
});

/** Status and error code of every sweep run but `runId`: the killed one must not stay 'running'. */
async function otherSweepRuns(db: Database, runId: number): Promise<[string, string | null][]> {
  const { rows } = await db.query<{ status: string; error_code: string | null }>(
    `SELECT status, error_code FROM runs WHERE job = 'retention-sweep' AND id <> $1 ORDER BY id`,
    [runId],
  );
  return rows.map((r) => [r.status, r.error_code]);
}

// ---- kill -9 ---------------------------------------------------------------------------------------------

const KILL_POINTS = [
  // mid-export: parts of the first day written, no manifest
  { killAt: 'part-uploaded', killAfter: 2 },
  // all parts of the first day written (more of them than the rerun will write), no manifest
  { killAt: 'parts-uploaded', killAfter: 1 },
  { killAt: 'manifest-written', killAfter: 1 },
  { killAt: 'verified', killAfter: 2 },
  // inside the drop transaction, before COMMIT
  { killAt: 'drop-locked', killAfter: 2 },
  // after the second day's drop committed
  { killAt: 'dropped', killAfter: 2 },
] as const;

for (const point of KILL_POINTS) {
  s3Test(
    `kill -9 at ${point.killAt} (#${point.killAfter}): the next sweep finishes with no lost rows and no duplicate objects`,
    async (t) => {
      const { db, drop, url } = await freshPgDatabase();
      t.teardown(drop);
      await loadDemoDays(db, { days: 6, requestsPerHour: 4 });
      await aggregateAll(db);
      const from = new Date(`${PAST[0]}T00:00:00Z`);
      const to = new Date(`${dayOf(-3)}T00:00:00Z`);
      const before = await rawRowsText(db, from, to);
      const { store, settings: s3 } = s3Target(t);
      const killed = await runRetentionChild({
        databaseUrl: url,
        s3,
        env: THREE_DAYS,
        now: NOW.toISOString(),
        killAt: point.killAt,
        killAfter: point.killAfter,
        // small parts: several per day, and more than the rerun below writes
        options: { rowsPerPart: 200, rowsPerGroup: 100, lockLeaseMs: 1_000 },
      });
      t.is(killed.signal, 'SIGKILL', killed.stderr.slice(-2000));

      // the killed sweep's lock is stale after its lease; the next sweep takes over and finishes
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      // meanwhile the status shows it abandoned, though its ledger row says 'running' until that next sweep
      const shown = await retentionStatus(db, deps(db, store).policy, {
        schedule: '30 0 * * *',
        location: store.location,
        now: new Date(),
        runLeaseMs: 1_000,
      });
      t.like(shown.lastSweep, { status: 'failed', error: { code: 'RUN_ABANDONED' } });
      const resumed = await runRetentionSweep(
        deps(db, store, { options: { rowsPerPart: 600, rowsPerGroup: 100, lockLeaseMs: 1_000 } }),
        { trigger: 'manual' },
      );
      t.is(resumed.status, 'succeeded', JSON.stringify(resumed.error));
      t.deepEqual(await otherSweepRuns(db, resumed.runId), [['failed', 'RUN_ABANDONED']], 'the killed run');
      t.false((await liveDays(db)).some((d) => PAST.includes(d)));
      t.deepEqual(
        (await listArchives(db)).map((a) => [a.unit, a.status]),
        PAST.map((d) => [d, 'archived']),
      );

      // exactly the objects the manifests name, and together they hold every row once
      const objects = (await store.list('raw/')).map((o) => o.key);
      const named: string[] = [];
      for (const day of PAST) {
        const manifest = JSON.parse((await store.get(`raw/date=${day}/manifest.json`)).toString()) as {
          objects: { key: string }[];
        };
        named.push(`raw/date=${day}/manifest.json`, ...manifest.objects.map((o) => o.key));
      }
      t.deepEqual(objects.sort(), named.sort());
      const { downloadParquet, duckRows } = await import('../fixtures/duckdb-reader.ts');
      const { files, cleanup } = await downloadParquet(store, 'raw/');
      t.teardown(cleanup);
      const rows = await duckRows(files);
      t.is(rows.length, before.length);
      t.is(new Set(rows.map((r) => r.idempotency_key)).size, before.length);
    },
  );
}

test('the kill points cover every step of a raw day', (t) => {
  t.deepEqual(
    [...new Set(KILL_POINTS.map((p) => p.killAt))],
    ['part-uploaded', 'parts-uploaded', 'manifest-written', 'verified', 'drop-locked', 'dropped'],
  );
});

// The aggregate side of "kill -9 at any point": after a month's export (manifest written, nothing deleted)
// and after its delete committed. The next sweep finishes: the hourly state of the month is gone, the
// rollups are as they were, and the folder holds exactly the manifest's objects with every row once.
const AGGREGATE_POLICY = {
  ...THREE_DAYS,
  BATCH_PROCESSING_AGGREGATED_DATA_RETENTION_DAYS: '4',
  BATCH_PROCESSING_DAILY_AGGREGATES_RETENTION_DAYS: '365',
  BATCH_PROCESSING_WEEKLY_AGGREGATES_RETENTION_DAYS: '365',
  BATCH_PROCESSING_MONTHLY_AGGREGATES_RETENTION_DAYS: '365',
};
const OCTOBER_HOURS = `FROM aggregate_state WHERE level = 'hour' AND bucket < '2026-11-01'`;

for (const killAt of ['aggregate-exported', 'aggregate-deleted'] as const) {
  pgTest(
    `kill -9 at ${killAt}: the next sweep finishes the month with no lost rows and no duplicates`,
    async (t) => {
      const { db, drop, url } = await freshPgDatabase();
      t.teardown(drop);
      await loadDemoDays(db, { days: 6, requestsPerHour: 4 });
      await aggregateAll(db);
      const store = await localStore(t);
      const rollups = (await aggregatesText(db)).filter((row) => !row.startsWith('hour|'));
      const hours = Number(
        (await db.query<{ n: number }>(`SELECT count(*)::int8 AS n ${OCTOBER_HOURS}`)).rows[0]?.n,
      );
      t.true(hours > 0);

      const killed = await runRetentionChild({
        databaseUrl: url,
        storeDir: store.root,
        env: AGGREGATE_POLICY,
        now: NOW.toISOString(),
        killAt,
        options: { rowsPerPart: 20, rowsPerGroup: 10, lockLeaseMs: 1_000 },
      });
      t.is(killed.signal, 'SIGKILL', killed.stderr.slice(-2000));

      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const resumed = await runRetentionSweep(
        retentionDeps(db, store, {
          policy: testPolicy(AGGREGATE_POLICY),
          options: { rowsPerPart: 50, rowsPerGroup: 10, lockLeaseMs: 1_000 },
        }),
        { trigger: 'manual' },
      );
      t.is(resumed.status, 'succeeded', JSON.stringify(resumed.error));
      t.deepEqual(await otherSweepRuns(db, resumed.runId), [['failed', 'RUN_ABANDONED']], 'the killed run');
      t.deepEqual(
        (await listArchives(db, { kind: 'aggregate' })).map((a) => [a.unit, a.status, a.rows]),
        [['hour/2026-10', 'archived', hours]],
      );
      t.is(
        Number((await db.query<{ n: number }>(`SELECT count(*)::int8 AS n ${OCTOBER_HOURS}`)).rows[0]?.n),
        0,
      );
      t.deepEqual(
        (await aggregatesText(db)).filter((row) => !row.startsWith('hour|')),
        rollups,
      );

      const folder = 'aggregates/level=hour/month=2026-10/';
      const manifest = JSON.parse((await store.get(`${folder}manifest.json`)).toString()) as {
        rows: number;
        objects: { key: string }[];
      };
      t.is(manifest.rows, hours);
      t.deepEqual(
        (await store.list('aggregates/')).map((o) => o.key).sort(),
        [`${folder}manifest.json`, ...manifest.objects.map((o) => o.key)].sort(),
      );
      const { downloadParquet } = await import('../fixtures/duckdb-reader.ts');
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const { files, cleanup } = await downloadParquet(store, 'aggregates/');
      t.teardown(cleanup);
      const duck = await (await DuckDBInstance.create(':memory:')).connect();
      const read = await duck.runAndReadAll(
        `SELECT count(*) AS n, count(DISTINCT (bucket, event_type, metric, dimension, dimension_value)) AS distinct_rows
       FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`,
      );
      duck.disconnectSync();
      t.like(read.getRowObjectsJson()[0], { n: String(hours), distinct_rows: String(hours) });
    },
  );
}
