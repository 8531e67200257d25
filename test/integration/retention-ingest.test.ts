// What the rest of the pipeline does about a day the sweep removed: an event for it becomes a dead letter
// whose reason says the day is archived (HTTP and Kafka-connector pushes; and the partition guard for the
// race with the sweep) — restored or not —, and a backfill over it is refused until the day is restored.
import type { ExecutionContext } from 'ava';
import type { Database } from '../../shared/db/index.ts';
import { ingestPayload } from '../../shared/ingest/index.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import { restoreArchivedDays, runRetentionSweep } from '../../shared/retention/index.ts';
import { bothBackends } from './aggregate-fixtures.ts';
import {
  DAY,
  NOW,
  aggregateAll,
  dayOf,
  loadDemoDays,
  localStore,
  retentionDeps,
  testPolicy,
} from '../fixtures/retention.ts';

const THREE_DAYS = { BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '3' };
const ARCHIVED = dayOf(-5);
const jobOptions = {
  timeZone: 'UTC',
  weekStart: 'monday' as const,
  retries: 3,
  retryDelayMs: 1,
  timeoutMs: 600_000,
};

async function archived(t: ExecutionContext, db: Database): Promise<void> {
  await loadDemoDays(db, { days: 6, requestsPerHour: 2 });
  await aggregateAll(db);
  const store = await localStore(t);
  const sweep = await runRetentionSweep(retentionDeps(db, store, { policy: testPolicy(THREE_DAYS) }), {
    trigger: 'manual',
  });
  if (sweep.totals.droppedPartitions !== 3) throw new Error('setup: three days should be archived');
  t.context = store;
}

async function partitionExists(db: Database, day: string): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    `raw_events_${day.replaceAll('-', '')}`,
  ]);
  return rows[0]?.found === true;
}

const event = (id: string, day: string) =>
  JSON.stringify({
    id,
    event_type: 'llm_request',
    timestamp: `${day}T10:15:00Z`,
    source: 'api-1',
    data: { model: 'llama-3-70b', latency_ms: 812, cost_usd: 0.0042 },
  });

bothBackends(
  'an event for an archived day is a dead letter saying the day is archived; the day stays gone',
  async (t, db) => {
    await archived(t, db);
    // a raw retention long enough that age alone would let the event in (say it was raised after the sweep)
    const limits = { rawRetentionDays: 3650 };
    const now = () => NOW.getTime();
    const http = await ingestPayload(
      { db, limits, now },
      { body: `${event('late-1', ARCHIVED)}\n${event('fresh-1', dayOf(-1))}`, headers: {} },
    );
    t.like(http, { stored: 1, rejected: 1 });
    t.is(http.rejections[0]?.code, 'EVENT_DAY_ARCHIVED');
    t.regex(
      http.rejections[0]?.reason ?? '',
      new RegExp(
        `falls on ${ARCHIVED}, a day whose raw events are archived \\(raw/date=${ARCHIVED}/\\).*events for it are no longer stored`,
      ),
    );
    // the same for a record the Kafka connector pushes, and with the default retention (it is too old, too;
    // the archive is what the reason names)
    const connector = await ingestPayload(
      { db, now },
      {
        body: event('late-2', ARCHIVED),
        headers: { 'x-topic': 'hxp.events.raw', 'x-kafka-partition': '0', 'x-kafka-offset': '41' },
      },
    );
    t.like(connector, { stored: 0, rejected: 1 });
    t.is(connector.rejections[0]?.code, 'EVENT_DAY_ARCHIVED');
    const letters = await db.query<{ reason_code: string; reason: string }>(
      `SELECT reason_code, reason FROM dead_letters ORDER BY id`,
    );
    t.deepEqual(
      letters.rows.map((r) => r.reason_code),
      ['EVENT_DAY_ARCHIVED', 'EVENT_DAY_ARCHIVED'],
    );
    t.true(letters.rows.every((r) => r.reason.includes('raw events are archived')));
    t.false(await partitionExists(db, ARCHIVED), 'no partition was created for the archived day');

    // the guard under it: creating the partition is refused (a serialization failure: the batch is retried)
    const err = await t.throwsAsync(db.query('SELECT ensure_raw_partition($1::date)', [ARCHIVED]));
    t.is((err as { code?: string }).code, '40001');
    t.regex(err?.message ?? '', new RegExp(`raw events of ${ARCHIVED} are archived`));
    // its hint no longer offers a restore as the way to store events (migration 000016)
    const hint = (err as { hint?: string }).hint ?? '';
    t.regex(hint, /no longer stored/);
    t.notRegex(hint, /to store events/);

    // restored, the day is there to be read and recomputed, not to take events: the keys that would catch a
    // resent event already in it have expired, so it would be stored twice
    const store = t.context as Awaited<ReturnType<typeof localStore>>;
    await restoreArchivedDays(retentionDeps(db, store, { policy: testPolicy(THREE_DAYS) }), {
      from: ARCHIVED,
      to: ARCHIVED,
      trigger: 'manual',
    });
    const after = await ingestPayload({ db, limits, now }, { body: event('late-3', ARCHIVED), headers: {} });
    t.like(after, { stored: 0, rejected: 1 });
    t.is(after.rejections[0]?.code, 'EVENT_DAY_ARCHIVED');
    t.regex(after.rejections[0]?.reason ?? '', /restored for reading until it is dropped again/);
  },
);

bothBackends(
  'a backfill over archived raw days is refused and names them; after a restore it runs',
  async (t, db) => {
    await archived(t, db);
    const from = new Date(`${dayOf(-6)}T00:00:00Z`);
    const to = new Date(from.getTime() + 4 * DAY);
    const err = await t.throwsAsync(
      runAggregation({ db, options: jobOptions }, { level: 'hour', trigger: 'backfill', from, to, now: NOW }),
    );
    t.is((err as { code?: string }).code, 'REQUEST_INVALID');
    t.regex(
      err?.message ?? '',
      new RegExp(
        `archived and removed \\(${dayOf(-6)}, ${dayOf(-5)}, ${dayOf(-4)}\\); restore those days first`,
      ),
    );
    // nothing was marked: the hours keep their aggregates
    const dirty = await db.query(
      `SELECT 1 FROM aggregation_windows WHERE level = 'hour' AND (done_seq IS NULL OR done_seq < changed_seq)`,
    );
    t.is(dirty.rowCount, 0);
    // a range after the archived days is fine
    const later = await runAggregation(
      { db, options: jobOptions },
      {
        level: 'hour',
        trigger: 'backfill',
        from: new Date(`${dayOf(-3)}T00:00:00Z`),
        to: new Date(`${dayOf(-2)}T00:00:00Z`),
        now: NOW,
      },
    );
    t.is(later.status, 'succeeded');
    t.is(later.windowsDone, 24);
    const store = t.context as Awaited<ReturnType<typeof localStore>>;
    await restoreArchivedDays(retentionDeps(db, store, { policy: testPolicy(THREE_DAYS) }), {
      from: dayOf(-6),
      to: dayOf(-4),
      trigger: 'manual',
    });
    const restored = await runAggregation(
      { db, options: jobOptions },
      { level: 'hour', trigger: 'backfill', from, to, now: NOW },
    );
    t.is(restored.status, 'succeeded');
    t.is(restored.windowsDone, 96);
  },
);
