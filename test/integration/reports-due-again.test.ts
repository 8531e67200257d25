// When a report is due again (the catch-up, shared/reports/store/reports-sql.ts duePeriods/dueReportRetries):
// a wait for aggregation (409 REPORT_PERIOD_NOT_READY) is no failure and spends no retry, however often a user
// asks, so a re-opened period is regenerated once aggregation catches up (it once stayed stale for good after
// more requests than retries); a report that really fails stops after its retries, and new data makes it due
// again with its retries afresh.
import type { Readable } from 'node:stream';
import test from 'ava';
import type { ObjectStore } from '../../shared/archive/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { BatchError } from '../../shared/errors/index.ts';
import { ingestPayload } from '../../shared/ingest/index.ts';
import { aggregateAll, FIXTURE_NOW, loadReportFixture } from '../fixtures/report-data.ts';
import { reportHarness, type ReportHarness } from '../fixtures/report-deps.ts';
import { freshEmbeddedDatabase } from '../helpers/db.ts';

const CRON = { 'x-connector': 'cron-connector' };
const MINUTE = 60_000;

interface Row {
  format: string;
  status: string;
  attempts: number;
  retry_at: Date | null;
  error_code: string | null;
}

async function rows(db: Database): Promise<Row[]> {
  return (
    await db.query<Row>(
      `SELECT format, status, attempts, retry_at, error_code FROM reports
       WHERE report_type = 'daily_summary' AND period_label = '2026-11-28' ORDER BY format`,
    )
  ).rows;
}

async function tick(h: ReportHarness): Promise<Array<{ period: string; stored: number; failed: number }>> {
  const answer = await h.call('POST', '/', { headers: CRON });
  return (answer.body as { generated: Array<{ period: string; stored: number; failed: number }> }).generated;
}

/** A late event of 2026-11-28: it re-opens the day until aggregation runs again. */
async function lateEvent(db: Database, id: string): Promise<void> {
  const late = {
    event_type: 'llm_request',
    timestamp: '2026-11-28T12:00:00Z',
    id,
    source: 'api-1',
    data: { model: 'llama-3-8b', latency_ms: 100, tokens_in: 10, tokens_out: 5, cost_usd: 1, error: false },
  };
  await ingestPayload({ db, now: () => FIXTURE_NOW.getTime() }, { body: JSON.stringify(late), headers: {} });
}

async function storedRequests(db: Database, h: ReportHarness): Promise<number> {
  const { rows: ids } = await db.query<{ id: number }>(
    `SELECT id::int AS id FROM reports WHERE report_type = 'daily_summary' AND period_label = '2026-11-28'
       AND format = 'json'`,
  );
  const chunks: Buffer[] = [];
  for await (const c of (await h.call('GET', `/reports/${ids[0]!.id}/download`)).body as Readable) {
    chunks.push(c as Buffer);
  }
  const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    data: { headline: { requests: { value: number } } };
  };
  return doc.data.headline.requests.value;
}

async function rawRequests(db: Database): Promise<number> {
  const { rows: n } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM raw_events WHERE event_type = 'llm_request' AND ts >= '2026-11-28' AND ts < '2026-11-29'`,
  );
  return n[0]!.n;
}

test('requests refused while a re-opened day is not final spend no retries; the tick then replaces every format', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  await loadReportFixture(db);
  const h = reportHarness(db, {
    env: {
      BATCH_PROCESSING_REPORT_FORMATS: 'json,csv',
      BATCH_PROCESSING_REPORT_CATCH_UP_DAYS: '1',
      BATCH_PROCESSING_RETRIES: '3',
    },
    now: FIXTURE_NOW,
  });
  t.teardown(() => h.cleanup());
  t.deepEqual(
    (await tick(h)).map((g) => g.period),
    ['2026-11-28'],
  );
  const first = await storedRequests(db, h);

  await lateEvent(db, 'late-1');
  // more requests than retries, while aggregation has not caught up
  for (let i = 0; i < 7; i++) {
    const answer = await h.call('POST', '/reports/generate', {
      body: { report_type: 'daily_summary', format: 'json', period: '2026-11-28', wait: true },
    });
    t.is(answer.status, 409);
    t.like((answer.body as { error: { code: string; message: string } }).error, {
      code: 'REPORT_PERIOD_NOT_READY',
    });
    t.regex((answer.body as { error: { message: string } }).error.message, /retries by itself/);
  }
  const waiting = (await rows(db)).find((r) => r.format === 'json')!;
  t.like(waiting, { status: 'stored', error_code: 'REPORT_PERIOD_NOT_READY', attempts: 0 });
  t.truthy(waiting.retry_at, 'it waits for a retry, as its message says');
  t.is(await storedRequests(db, h), first, 'the old report is served meanwhile');

  await aggregateAll(db, FIXTURE_NOW);
  const generated = await tick(h);
  t.deepEqual(generated, [{ report_type: 'daily_summary', period: '2026-11-28', stored: 2, failed: 0 }]);
  t.deepEqual(
    (await rows(db)).map((r) => [r.format, r.status, r.error_code, r.attempts]),
    [
      ['csv', 'stored', null, 0],
      ['json', 'stored', null, 0],
    ],
  );
  t.is(await storedRequests(db, h), first + 1);
  t.is(await storedRequests(db, h), await rawRequests(db));
  t.deepEqual(await tick(h), [], 'current now: nothing more to do');
});

test('a waiting report is retried by itself even outside the catch-up days, once its aggregation is final', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  await loadReportFixture(db);
  const h = reportHarness(db, {
    env: { BATCH_PROCESSING_REPORT_FORMATS: 'json', BATCH_PROCESSING_RETRY_DELAY: '60' },
    now: FIXTURE_NOW,
  });
  t.teardown(() => h.cleanup());
  await tick(h);
  const first = await storedRequests(db, h);
  await lateEvent(db, 'late-2');
  for (let i = 0; i < 4; i++) {
    const refused = await h.call('POST', '/reports/generate', {
      body: { report_type: 'daily_summary', format: 'json', period: '2026-11-28', wait: true },
    });
    t.is(refused.status, 409, 'asked more often than BATCH_PROCESSING_RETRIES (3)');
  }
  await aggregateAll(db, FIXTURE_NOW);
  // ten days on: 2026-11-28 ended before the catch-up days, so only its retry makes it
  h.setNow(new Date(FIXTURE_NOW.getTime() + 10 * 86_400_000));
  const generated = await tick(h);
  t.true(generated.some((g) => g.period === '2026-11-28' && g.stored === 1 && g.failed === 0));
  t.is(await storedRequests(db, h), first + 1);
});

/** The archive folder, but csv files cannot be written while `broken.csv` is true (a retriable S3 failure). */
function breakableStore(store: ObjectStore, broken: { csv: boolean }): ObjectStore {
  return {
    kind: store.kind,
    location: store.location,
    put: (key, body, options) =>
      broken.csv && key.endsWith('.csv')
        ? Promise.reject(
            new BatchError('S3_UNAVAILABLE', `test: ${key} cannot be written`, { retriable: true }),
          )
        : store.put(key, body, options),
    get: (key) => store.get(key),
    stream: (key) => store.stream(key),
    head: (key) => store.head(key),
    list: (prefix) => store.list(prefix),
    delete: (keys) => store.delete(keys),
    presign: (key, seconds) => store.presign(key, seconds),
  };
}

const ENV = {
  BATCH_PROCESSING_REPORT_CATCH_UP_DAYS: '1',
  BATCH_PROCESSING_RETRIES: '2',
  BATCH_PROCESSING_RETRY_DELAY: '60',
};

test('a format that keeps failing stops after its retries without holding back its period; new data retries it afresh', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  await loadReportFixture(db);
  const broken = { csv: true };
  const plain = reportHarness(db, { now: FIXTURE_NOW });
  t.teardown(() => plain.cleanup());
  const h = reportHarness(db, {
    env: { ...ENV, BATCH_PROCESSING_REPORT_FORMATS: 'json,csv' },
    now: FIXTURE_NOW,
    store: breakableStore(plain.deps.store, broken),
  });
  t.teardown(() => h.cleanup());
  let at = FIXTURE_NOW.getTime();
  const later = (minutes: number): void => {
    at += minutes * MINUTE;
    h.setNow(new Date(at));
  };

  t.deepEqual(await tick(h), [{ report_type: 'daily_summary', period: '2026-11-28', stored: 1, failed: 1 }]);
  t.deepEqual(await tick(h), [], 'the csv waits for its retry');
  later(1);
  t.like((await tick(h))[0], { stored: 0, failed: 1 });
  later(2);
  t.like((await tick(h))[0], { stored: 0, failed: 1 });
  const csv = (await rows(db)).find((r) => r.format === 'csv')!;
  t.like(csv, { status: 'failed', error_code: 'S3_UNAVAILABLE', attempts: 3, retry_at: null });
  for (const minutes of [5, 60, 120]) {
    later(minutes);
    t.deepEqual(await tick(h), [], 'out of retries on the same data: it stops');
  }
  // a format added to the settings is still made: the failing csv does not hold its period back
  const withPdf = reportHarness(db, {
    env: { ...ENV, BATCH_PROCESSING_REPORT_FORMATS: 'json,csv,pdf' },
    now: new Date(at),
    store: breakableStore(plain.deps.store, broken),
  });
  t.teardown(() => withPdf.cleanup());
  t.deepEqual(await tick(withPdf), [
    { report_type: 'daily_summary', period: '2026-11-28', stored: 2, failed: 0 },
  ]);
  t.like(
    (await rows(db)).find((r) => r.format === 'csv'),
    { attempts: 3, retry_at: null },
  );

  await lateEvent(db, 'late-3');
  await aggregateAll(db, FIXTURE_NOW);
  // the json is made again (the data changed); the csv, failing on new data, has its retries afresh
  t.deepEqual(await tick(h), [{ report_type: 'daily_summary', period: '2026-11-28', stored: 1, failed: 1 }]);
  t.like(
    (await rows(db)).find((r) => r.format === 'csv'),
    { attempts: 1, status: 'failed' },
  );
  t.is(await storedRequests(db, h), await rawRequests(db));
  broken.csv = false;
  later(1);
  t.deepEqual(await tick(h), [{ report_type: 'daily_summary', period: '2026-11-28', stored: 1, failed: 0 }]);
  t.deepEqual(
    (await rows(db)).map((r) => [r.format, r.status, r.error_code]),
    [
      ['csv', 'stored', null],
      ['json', 'stored', null],
      ['pdf', 'stored', null],
    ],
  );
});
