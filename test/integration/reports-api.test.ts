// The /reports API on the embedded database and the local archive folder (what `npm start` runs): the
// original's three commands, downloads, bad requests naming the field, the API token, refusals, the event and
// cron triggers (a duplicate event makes one report; downtime is caught up; late data regenerates), and the
// settings that shape reports (formats, scheduled types, catch-up days, templates, switches).
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import test from 'ava';
import type { Database } from '../../shared/db/index.ts';
import { ingestPayload } from '../../shared/ingest/index.ts';
import { smtpFailure } from '../../shared/reports/deliver/mailer.ts';
import { aggregateAll, FIXTURE_NOW, loadReportFixture, rawMetric } from '../fixtures/report-data.ts';
import { reportHarness, type ReportHarness } from '../fixtures/report-deps.ts';
import { freshEmbeddedDatabase } from '../helpers/db.ts';

interface View {
  id: number;
  report_type: string;
  format: string;
  period: string;
  status: string;
  sha256: string;
  size_bytes: number | null;
  download_url: string | null;
  error: { code: string } | null;
}

async function fixture(
  t: { teardown(fn: () => unknown): void },
  env: Record<string, string> = {},
): Promise<{ db: Database; h: ReportHarness }> {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  await loadReportFixture(db);
  const h = reportHarness(db, { env, now: FIXTURE_NOW });
  t.teardown(() => h.cleanup());
  return { db, h };
}

async function bytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const KAFKA = { 'x-topic': 'hxp.batch.events', 'x-kafka-partition': '0', 'x-kafka-offset': '7' };

test('next_check is the next fire of reports.cron in UTC, where the cron-connector fires it, whatever the zone', async (t) => {
  const { h } = await fixture(t, { BATCH_PROCESSING_TIMEZONE: 'Asia/Kolkata' });
  const status = (await h.call('GET', '/reports/status')).body as { next_check: string };
  // minute 15 of a UTC hour, not of a Kolkata (+05:30) one (which would be 00:45 UTC)
  t.is(status.next_check, '2026-11-29T01:15:00.000Z');
});

test('the original three commands: generate (202, then stored), list, status; the report downloads', async (t) => {
  const { h } = await fixture(t);
  const generated = await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', format: 'json' },
  });
  t.is(generated.status, 202);
  const body = generated.body as { id: number; status: string; status_url: string };
  t.is(body.status, 'generating');
  t.is(body.status_url, `/reports/status?id=${body.id}`);
  await h.settle();

  const one = (await h.call('GET', '/reports/status', { query: { id: String(body.id) } })).body as View;
  t.like(one, {
    id: body.id,
    report_type: 'daily_summary',
    format: 'json',
    period: '2026-11-28',
    status: 'stored',
    error: null,
  });

  const list = (await h.call('GET', '/reports/list')).body as { reports: View[]; next_cursor: string | null };
  t.is(list.reports.length, 1);
  t.is(list.reports[0]!.download_url, `/reports/${body.id}/download`);

  const status = (await h.call('GET', '/reports/status')).body as {
    next_check: string;
    types: Record<
      string,
      { last_success: { id: number } | null; scheduled: boolean; next_scheduled: unknown }
    >;
  };
  t.is(status.next_check, '2026-11-29T01:15:00.000Z', 'the next fire of reports.cron (15 * * * *)');
  t.is(status.types.daily_summary!.last_success!.id, body.id);
  t.true(status.types.daily_summary!.scheduled);
  t.deepEqual(status.types.daily_summary!.next_scheduled, {
    period: '2026-11-29',
    after: '2026-11-30T00:00:00.000Z',
  });

  const download = await h.call('GET', `/reports/${body.id}/download`);
  t.is(download.status, 200);
  const file = await bytes(download.body as Readable);
  t.is(createHash('sha256').update(file).digest('hex'), one.sha256);
  t.is(download.headers?.['content-disposition'], 'attachment; filename="daily_summary-2026-11-28.json"');
  t.is((JSON.parse(file.toString('utf8')) as { period: { label: string } }).period.label, '2026-11-28');
  const stored = await h.deps.store.head('reports/daily_summary/2026-11-28/daily_summary-2026-11-28.json');
  t.is(stored?.sha256, one.sha256);

  const metrics = await h.deps.metrics.registry.metrics();
  t.regex(
    metrics,
    /^report_generation_total\{report_type="daily_summary",format="json",result="success"\} 1$/m,
  );
  t.regex(
    metrics,
    /^report_generation_duration_seconds_count\{report_type="daily_summary",format="json"\} 1$/m,
  );
  t.regex(metrics, /^report_distribution_total\{channel="s3",result="success"\} 1$/m);
  t.regex(metrics, /^batch_processing_success_rate 1$/m, 'the generation is reported as a run');
});

test('wait: true answers the finished reports of every format asked for; list filters and pages', async (t) => {
  const { h } = await fixture(t);
  const answer = await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', formats: ['pdf', 'csv'], period: '2026-11-27', wait: true },
  });
  t.is(answer.status, 200);
  const { reports } = answer.body as { reports: View[] };
  t.deepEqual(
    reports.map((r) => [r.format, r.status, r.period]),
    [
      ['pdf', 'stored', '2026-11-27'],
      ['csv', 'stored', '2026-11-27'],
    ],
  );
  await h.call('POST', '/reports/generate', { body: { report_type: 'test', format: 'json', wait: true } });
  const pdfs = (await h.call('GET', '/reports/list', { query: { format: 'pdf' } })).body as {
    reports: View[];
  };
  t.deepEqual(
    pdfs.reports.map((r) => r.format),
    ['pdf'],
  );
  const page1 = (await h.call('GET', '/reports/list', { query: { limit: '2' } })).body as {
    reports: View[];
    next_cursor: string;
  };
  t.deepEqual(
    page1.reports.map((r) => r.report_type),
    ['test', 'daily_summary'],
  );
  const page2 = (await h.call('GET', '/reports/list', { query: { limit: '2', cursor: page1.next_cursor } }))
    .body as { reports: View[]; next_cursor: null };
  t.deepEqual(
    page2.reports.map((r) => r.format),
    ['pdf'],
  );
  t.is(page2.next_cursor, null);
  const dated = (
    await h.call('GET', '/reports/list', { query: { type: 'daily_summary', from: '2026-11-28' } })
  ).body as { reports: View[] };
  t.is(dated.reports.length, 0);
});

test('list: a page that ends exactly at the last report gives no next_cursor (it once led to an empty page)', async (t) => {
  const { h } = await fixture(t);
  await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', formats: ['json', 'csv', 'pdf'], period: '2026-11-27', wait: true },
  });
  type Page = { reports: View[]; next_cursor: string | null };
  const all = (await h.call('GET', '/reports/list', { query: { status: 'stored', limit: '3' } }))
    .body as Page;
  t.is(all.reports.length, 3);
  t.is(all.next_cursor, null);
  const first = (await h.call('GET', '/reports/list', { query: { status: 'stored', limit: '2' } }))
    .body as Page;
  t.is(first.reports.length, 2);
  t.truthy(first.next_cursor);
  const last = (
    await h.call('GET', '/reports/list', {
      query: { status: 'stored', limit: '1', cursor: first.next_cursor! },
    })
  ).body as Page;
  t.deepEqual(
    last.reports.map((r) => r.format),
    ['json'],
  );
  t.is(last.next_cursor, null);
});

test('e-mail off (no SMTP_HOST): deliver and generate with recipients are refused up front, naming the field and the setting', async (t) => {
  const { db, h } = await fixture(t);
  const stored = await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', format: 'json', wait: true },
  });
  const id = (stored.body as { id: number }).id;
  t.like((await h.call('GET', '/reports/status')).body as object, {
    email: 'off',
    email_distribution: 'off',
  });
  for (const body of [{ recipients: ['ops@example.com'] }, {}]) {
    const err = await t.throwsAsync(h.call('POST', `/reports/${id}/deliver`, { body }));
    t.like(err, { code: 'EMAIL_DISABLED', status: 409, retriable: false } as object);
    t.is((err as unknown as { context: { field: string } }).context.field, 'recipients');
    t.regex(err!.message, /no SMTP server is configured.*SMTP_HOST/);
  }
  const generate = await t.throwsAsync(
    h.call('POST', '/reports/generate', {
      body: { report_type: 'daily_summary', format: 'csv', wait: true, recipients: ['ops@example.com'] },
    }),
  );
  t.like(generate, { code: 'EMAIL_DISABLED' } as object);
  t.is((generate as unknown as { context: { field: string } }).context.field, 'recipients');
  const counts = await db.query<{ reports: number; deliveries: number }>(
    `SELECT (SELECT count(*)::int FROM reports) AS reports, (SELECT count(*)::int FROM report_deliveries) AS deliveries`,
  );
  t.deepEqual(counts.rows[0], { reports: 1, deliveries: 0 }, 'nothing generated or queued');
});

// Regression: "email" followed reports.distribution, so with an SMTP server and the default distribution (s3)
// it said "off" while a request's recipients were e-mailed.
test('status: "email" says whether an SMTP server is configured, "email_distribution" whether finished reports go to the recipients unasked', async (t) => {
  const status = async (h: ReportHarness) => (await h.call('GET', '/reports/status')).body as object;
  const { h } = await fixture(t, { SMTP_HOST: '127.0.0.1' });
  t.truthy(h.deps.mailer, 'SMTP_HOST gives a mailer');
  t.like(await status(h), { email: 'on', email_distribution: 'off' });
  // What "on" promises: a report is e-mailed to the recipients a request names.
  const sent: string[] = [];
  h.deps.mailer = {
    send: (message) => {
      sent.push(message.to);
      return Promise.resolve({ messageId: 'm1', response: '250 2.0.0 Ok' });
    },
    close: () => undefined,
  };
  const stored = await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', format: 'json', wait: true },
  });
  const id = (stored.body as { id: number }).id;
  const delivered = await h.call('POST', `/reports/${id}/deliver`, {
    body: { recipients: ['ops@example.com'] },
  });
  t.is(delivered.status, 200);
  t.deepEqual(sent, ['ops@example.com']);

  const distributed = await fixture(t, {
    SMTP_HOST: '127.0.0.1',
    BATCH_PROCESSING_REPORT_DISTRIBUTION: 's3,email',
    BATCH_PROCESSING_REPORT_RECIPIENTS: 'ops@example.com',
  });
  t.like(await status(distributed.h), { email: 'on', email_distribution: 'on' });
});

test('SMTP configured but down: deliver answers 503 SMTP_UNAVAILABLE with the error object, and the delivery is retried', async (t) => {
  const { db, h } = await fixture(t, { BATCH_PROCESSING_RETRY_DELAY: '60' });
  const stored = await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', format: 'json', wait: true },
  });
  const id = (stored.body as { id: number }).id;
  let up = false;
  const sent: string[] = [];
  h.deps.mailer = {
    send: (message) => {
      if (!up) {
        const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2525'), { code: 'ESOCKET' });
        return Promise.reject(smtpFailure(refused, '127.0.0.1'));
      }
      sent.push(message.to);
      return Promise.resolve({ messageId: 'm1', response: '250 2.0.0 Ok' });
    },
    close: () => undefined,
  };
  const answer = await h.call('POST', `/reports/${id}/deliver`, {
    body: { recipients: ['ops@example.com'] },
  });
  t.is(answer.status, 503);
  const body = answer.body as {
    deliveries: Array<{ status: string; error_code: string; retry_at: string | null }>;
    error: { code: string; message: string };
  };
  t.is(body.error.code, 'SMTP_UNAVAILABLE');
  t.regex(body.error.message, /ECONNREFUSED.*retried by the catch-up/);
  t.like(body.deliveries[0], { status: 'failed', error_code: 'SMTP_UNAVAILABLE' });
  t.truthy(body.deliveries[0]!.retry_at);
  up = true;
  h.setNow(new Date(FIXTURE_NOW.getTime() + 61_000));
  const tick = await h.call('POST', '/', { headers: { 'x-connector': 'cron-connector' } });
  t.like((tick.body as { emails: object }).emails, { sent: 1, failed: 0 });
  t.deepEqual(sent, ['ops@example.com']);
  const { rows } = await db.query<{ status: string }>('SELECT status FROM report_deliveries');
  t.deepEqual(rows, [{ status: 'sent' }]);
});

test('bad requests answer 400 naming the field and what is allowed; nothing is created', async (t) => {
  const { db, h } = await fixture(t);
  const cases: Array<[unknown, string, RegExp]> = [
    [{ report_type: 'daily', format: 'json' }, 'report_type', /one of hourly_summary, daily_summary/],
    [{ format: 'json' }, 'report_type', /required/],
    [{ report_type: 'daily_summary', format: 'xls' }, 'format', /one of json, csv, pdf, docx/],
    [{ report_type: 'daily_summary', formats: [] }, 'formats', /at least one/],
    [{ report_type: 'daily_summary', period: '2026-11-31' }, 'period', /not a calendar date/],
    [{ report_type: 'weekly_summary', period: '2026-11' }, 'period', /ISO week/],
    [{ report_type: 'daily_summary', recipients: ['nobody'] }, 'recipients.0', /e-mail address/],
    [{ report_type: 'daily_summary', wait: 'yes' }, 'wait', /true or false/],
    [{ report_type: 'daily_summary', colour: 'red' }, 'colour', /unknown field/],
    [{ report_type: 'daily_summary', from: '2026-11-27' }, 'to', /both/],
    ['{not json', 'body', /not JSON/],
  ];
  for (const [body, field, message] of cases) {
    const err = await t.throwsAsync(h.call('POST', '/reports/generate', { body }));
    t.is((err as unknown as { code: string }).code, 'REQUEST_INVALID', JSON.stringify(body));
    t.is((err as unknown as { context: { field: string } }).context.field, field, JSON.stringify(body));
    t.regex(err!.message, message);
  }
  for (const [query, field] of [
    [{ limit: 'x' }, 'limit'],
    [{ status: 'done' }, 'status'],
    [{ sort: 'asc' }, 'sort'],
  ] as const) {
    const err = await t.throwsAsync(h.call('GET', '/reports/list', { query }));
    t.is((err as unknown as { context: { field: string } }).context.field, field);
  }
  const notFound = await t.throwsAsync(h.call('GET', '/reports/999/download'));
  t.is((notFound as unknown as { code: string }).code, 'NOT_FOUND');
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports');
  t.is(rows[0]!.n, 0);
});

test('refusals: a period not over, capacity_analysis without its data, switched-off types; with a token, POST needs it', async (t) => {
  const { db, h } = await fixture(t, {
    BATCH_PROCESSING_API_TOKEN: 's3cret-token',
    BATCH_PROCESSING_BUSINESS_INTELLIGENCE_ENABLED: 'false',
  });
  const bearer = { authorization: 'Bearer s3cret-token' };
  const unauthorized = await t.throwsAsync(
    h.call('POST', '/reports/generate', { body: { report_type: 'daily_summary' } }),
  );
  t.is((unauthorized as unknown as { code: string }).code, 'UNAUTHORIZED');
  t.is((await h.call('GET', '/reports/list')).status, 200, 'reading stays open');
  const future = await t.throwsAsync(
    h.call('POST', '/reports/generate', {
      headers: bearer,
      body: { report_type: 'daily_summary', period: '2026-11-29' },
    }),
  );
  t.is((future as unknown as { code: string }).code, 'REPORT_PERIOD_NOT_READY');
  const capacity = await t.throwsAsync(
    h.call('POST', '/reports/generate', { headers: bearer, body: { report_type: 'capacity_analysis' } }),
  );
  t.is((capacity as unknown as { code: string }).code, 'REPORT_SOURCE_MISSING');
  t.regex(capacity!.message, /analyze-capacity/);
  // a capacity analysis is a snapshot, not a day's aggregate: the day still running is refused only for want of one
  const today = await t.throwsAsync(
    h.call('POST', '/reports/generate', {
      headers: bearer,
      body: { report_type: 'capacity_analysis', period: '2026-11-29' },
    }),
  );
  t.is((today as unknown as { code: string }).code, 'REPORT_SOURCE_MISSING');
  const bi = await t.throwsAsync(
    h.call('POST', '/reports/generate', {
      headers: bearer,
      body: { report_type: 'business_intelligence', period: '2026-W47' },
    }),
  );
  t.is((bi as unknown as { code: string }).code, 'REPORT_TYPE_DISABLED');
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports');
  t.is(rows[0]!.n, 0, 'a refused request leaves no row');
  const ok = await h.call('POST', '/reports/generate', {
    headers: bearer,
    body: { report_type: 'daily_summary', format: 'json', wait: true },
  });
  t.is(ok.status, 200);
});

test('reports.enabled=false: generate refuses, the catch-up does nothing', async (t) => {
  const { db, h } = await fixture(t, { BATCH_PROCESSING_REPORTS_ENABLED: 'false' });
  const err = await t.throwsAsync(
    h.call('POST', '/reports/generate', { body: { report_type: 'daily_summary' } }),
  );
  t.is((err as unknown as { code: string }).code, 'REPORT_TYPE_DISABLED');
  const tick = await h.call('POST', '/', { headers: { 'x-connector': 'cron-connector' } });
  t.like(tick.body, { status: 'skipped', generated: [] });
  t.is((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports')).rows[0]!.n, 0);
});

test('aggregation.completed twice makes one report per format; other events are acknowledged and ignored', async (t) => {
  const { db, h } = await fixture(t, {
    BATCH_PROCESSING_REPORT_FORMATS: 'json,csv',
    BATCH_PROCESSING_REPORT_CATCH_UP_DAYS: '1',
  });
  const event = JSON.stringify({
    type: 'aggregation.completed',
    level: 'day',
    bucket: '2026-11-28T00:00:00.000Z',
  });
  const [a, b] = await Promise.all([
    h.call('POST', '/', { headers: KAFKA, body: event }),
    h.call('POST', '/', { headers: KAFKA, body: event }),
  ]);
  t.is(a.status, 200);
  t.is(b.status, 200);
  const again = await h.call('POST', '/', { headers: KAFKA, body: event });
  t.deepEqual((again.body as { generated: unknown[] }).generated, []);
  const { rows } = await db.query<{
    report_type: string;
    format: string;
    status: string;
    period_label: string;
  }>('SELECT report_type, format, status, period_label FROM reports ORDER BY format');
  t.deepEqual(rows, [
    { report_type: 'daily_summary', format: 'csv', status: 'stored', period_label: '2026-11-28' },
    { report_type: 'daily_summary', format: 'json', status: 'stored', period_label: '2026-11-28' },
  ]);
  const runs = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runs WHERE job = 'generate-report' AND window_start IS NOT NULL`,
  );
  t.is(runs.rows[0]!.n, 1, 'one generation run');
  const other = await h.call('POST', '/', { headers: KAFKA, body: JSON.stringify({ type: 'run.failed' }) });
  t.like(other.body, { ignored: true });
});

test('after downtime the cron tick catches up every scheduled period within reports.catchUpDays', async (t) => {
  const { db, h } = await fixture(t, {
    BATCH_PROCESSING_REPORT_FORMATS: 'json',
    BATCH_PROCESSING_REPORT_SCHEDULED_TYPES: 'daily_summary,hourly_summary',
    BATCH_PROCESSING_REPORT_CATCH_UP_DAYS: '2',
  });
  const tick = await h.call('POST', '/', { headers: { 'x-connector': 'cron-connector' } });
  const generated = (tick.body as { generated: Array<{ report_type: string; period: string }> }).generated;
  // days ending within 2 days of 2026-11-29T00:30 — 27th and 28th; hours of the last 2 days
  t.deepEqual(
    generated.filter((g) => g.report_type === 'daily_summary').map((g) => g.period),
    ['2026-11-27', '2026-11-28'],
  );
  t.is(generated.filter((g) => g.report_type === 'hourly_summary').length, 48);
  const { rows } = await db.query<{ trigger: string }>(
    `SELECT DISTINCT trigger FROM runs WHERE job = 'generate-report'`,
  );
  t.deepEqual(
    rows.map((r) => r.trigger),
    ['cron'],
  );
  t.deepEqual(
    (
      (await h.call('POST', '/', { headers: { 'x-connector': 'cron-connector' } })).body as {
        generated: unknown[];
      }
    ).generated,
    [],
  );
});

test('a report run left running past its lease is marked failed (RUN_ABANDONED) by the next tick; a younger one stays', async (t) => {
  const { db, h } = await fixture(t, { BATCH_PROCESSING_REPORT_FORMATS: 'json' });
  // What a crash leaves behind: runs nobody will finish. The lease is jobs.timeoutSeconds + 60 s (61 min).
  const { rows: left } = await db.query<{ id: number }>(
    `INSERT INTO runs (job, trigger, status, started_at)
     VALUES ('generate-report', 'cron', 'running', now() - interval '2 hours'),
            ('generate-report', 'http', 'running', now() - interval '5 minutes'),
            ('aggregate-daily', 'cron', 'running', now() - interval '2 hours')
     RETURNING id`,
  );
  const [old, young, otherJob] = left.map((r) => Number(r.id));
  const tick = await h.call('POST', '/', { headers: { 'x-connector': 'cron-connector' } });
  t.is(tick.status, 200);
  const { rows } = await db.query<{
    id: number;
    status: string;
    error_code: string | null;
    error: string | null;
  }>(`SELECT id, status, error_code, error FROM runs WHERE id = ANY($1::bigint[]) ORDER BY id`, [
    [old, young, otherJob],
  ]);
  t.like(rows[0], { status: 'failed', error_code: 'RUN_ABANDONED' });
  t.regex(rows[0]!.error ?? '', /ended without finishing it/);
  t.like(rows[1], { status: 'running', error_code: null }, 'a run within its lease may still be alive');
  t.like(rows[2], { status: 'running' }, "another job's runs are its own job's to expire");
});

test('late data re-aggregates a day: its report is due again and replaced; the first file was served until then', async (t) => {
  const { db, h } = await fixture(t, {
    BATCH_PROCESSING_REPORT_FORMATS: 'json',
    BATCH_PROCESSING_REPORT_CATCH_UP_DAYS: '1',
  });
  await h.call('POST', '/', { headers: KAFKA, body: JSON.stringify({ type: 'aggregation.completed' }) });
  const before = (await h.call('GET', '/reports/list')).body as { reports: View[] };
  const first = before.reports[0]!;
  const late = {
    event_type: 'llm_request',
    timestamp: '2026-11-28T12:00:00Z',
    id: 'late-1',
    source: 'api-1',
    data: { model: 'llama-3-8b', latency_ms: 100, tokens_in: 10, tokens_out: 5, cost_usd: 1, error: false },
  };
  await ingestPayload({ db, now: () => FIXTURE_NOW.getTime() }, { body: JSON.stringify(late), headers: {} });
  const served = await h.call('GET', `/reports/${first.id}/download`);
  t.is(
    createHash('sha256')
      .update(await bytes(served.body as Readable))
      .digest('hex'),
    first.sha256,
    'the old file until the new one is stored',
  );
  await aggregateAll(db, FIXTURE_NOW);
  const tick = await h.call('POST', '/', {
    headers: KAFKA,
    body: JSON.stringify({ type: 'aggregation.completed' }),
  });
  t.deepEqual(
    (tick.body as { generated: Array<{ period: string }> }).generated.map((g) => g.period),
    ['2026-11-28'],
  );
  const after = ((await h.call('GET', '/reports/list')).body as { reports: View[] }).reports[0]!;
  t.is(after.id, first.id, 'the same row, replaced');
  t.not(after.sha256, first.sha256);
  const doc = JSON.parse(
    (await bytes((await h.call('GET', `/reports/${first.id}/download`)).body as Readable)).toString('utf8'),
  ) as {
    data: { headline: { requests: { value: number } } };
  };
  const old = JSON.parse(
    (await h.deps.store.get('reports/daily_summary/2026-11-28/daily_summary-2026-11-28.json')).toString(
      'utf8',
    ),
  ) as typeof doc;
  t.is(doc.data.headline.requests.value, old.data.headline.requests.value);
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM raw_events WHERE event_type = 'llm_request' AND ts >= '2026-11-28' AND ts < '2026-11-29'`,
  );
  t.is(doc.data.headline.requests.value, rows[0]!.n);
});

test('templates under reports.templatesDir choose sections, order, title, footer; a bad one names its file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hxp-templates-'));
  writeFileSync(
    join(dir, 'daily_summary.yml'),
    'title: "Ops day {{period.label}}"\nfooter: "ACME ops — {{report_type}}"\nsections: [models, headline]\n',
  );
  writeFileSync(join(dir, 'hourly_summary.yml'), 'sections: [trends]\n');
  const { h } = await fixture(t, { BATCH_PROCESSING_REPORT_TEMPLATES_DIR: dir });
  await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', format: 'json', wait: true },
  });
  const doc = JSON.parse(
    (await h.deps.store.get('reports/daily_summary/2026-11-28/daily_summary-2026-11-28.json')).toString(
      'utf8',
    ),
  ) as {
    title: string;
    footer: string;
    sections: string[];
    data: Record<string, unknown>;
  };
  t.is(doc.title, 'Ops day 2026-11-28');
  t.is(doc.footer, 'ACME ops — daily_summary');
  t.deepEqual(doc.sections, ['models', 'headline']);
  t.deepEqual(Object.keys(doc.data).sort(), ['headline', 'models']);
  const bad = await h.call('POST', '/reports/generate', {
    body: { report_type: 'hourly_summary', format: 'json', wait: true },
  });
  t.is(bad.status, 500);
  t.like((bad.body as { error: { code: string; message: string } }).error, {
    code: 'REPORT_TEMPLATE_INVALID',
  });
  t.regex(
    (bad.body as { error: { message: string } }).error.message,
    /hourly_summary\.yml: section "trends" is not one of hourly_summary's/,
  );
});

test('business_intelligence: trends over lookbackDays, anomalies against the same hour of the week, cost per model, heatmap', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  const end = new Date('2026-11-30T00:00:00Z');
  const fx = await loadReportFixture(db, { end, days: 28, requestsPerHour: 6 });
  const h = reportHarness(db, {
    env: {
      BATCH_PROCESSING_BUSINESS_INTELLIGENCE_LOOKBACK_DAYS: '21',
      BATCH_PROCESSING_BUSINESS_INTELLIGENCE_ANOMALY_THRESHOLD: '2',
    },
    now: fx.now,
  });
  t.teardown(() => h.cleanup());
  const answer = await h.call('POST', '/reports/generate', {
    body: { report_type: 'business_intelligence', period: '2026-W48', format: 'json', wait: true },
  });
  t.is(answer.status, 200, JSON.stringify(answer.body));
  const doc = JSON.parse(
    (
      await h.deps.store.get('reports/business_intelligence/2026-11-23/business_intelligence-2026-W48.json')
    ).toString('utf8'),
  ) as {
    data: {
      trends: { days: number; rows: Array<{ metric: string; points: number; r_squared: number | null }> };
      anomalies: { threshold: number; baseline_weeks: number; hours_checked: number; rows: unknown[] };
      cost_efficiency: Array<{ model: string; cost_share: number; cost_per_request_usd: number }>;
      load_heatmap: Array<{ weekday_name: string; hour: number; requests_avg: number | null }>;
    };
  };
  t.is(doc.data.trends.days, 21);
  t.deepEqual(
    doc.data.trends.rows.map((r) => r.metric),
    ['cost_usd', 'tokens_in', 'tokens_out', 'latency_ms', 'error', 'rating'],
  );
  t.true(
    doc.data.trends.rows.every((r) => r.points === 21),
    'one point per day of the lookback',
  );
  t.is(doc.data.anomalies.threshold, 2);
  t.is(doc.data.anomalies.hours_checked, 168);
  t.true(doc.data.anomalies.baseline_weeks >= 3);
  const share = doc.data.cost_efficiency.reduce((s, r) => s + r.cost_share, 0);
  t.true(Math.abs(share - 1) < 1e-9);
  t.is(doc.data.load_heatmap.length, 168);
  t.is(doc.data.load_heatmap[0]!.weekday_name, 'Mon');
  const { rows } = await db.query<{ cost: number; requests: number }>(
    `SELECT sum(${rawMetric('cost_usd')}::numeric)::float8 AS cost, count(*)::int AS requests FROM raw_events
     WHERE event_type = 'llm_request' AND data->>'model' = 'llama-3-70b' AND ts >= '2026-11-23' AND ts < '2026-11-30'`,
  );
  const model = doc.data.cost_efficiency.find((r) => r.model === 'llama-3-70b')!;
  t.true(Math.abs(model.cost_per_request_usd - rows[0]!.cost / rows[0]!.requests) < 1e-12);
  // a stricter threshold flags no more hours than a looser one
  const strict = reportHarness(db, {
    env: { BATCH_PROCESSING_BUSINESS_INTELLIGENCE_ANOMALY_THRESHOLD: '6' },
    now: fx.now,
  });
  t.teardown(() => strict.cleanup());
  await strict.call('POST', '/reports/generate', {
    body: { report_type: 'business_intelligence', period: '2026-W48', format: 'json', wait: true },
  });
  const strictDoc = JSON.parse(
    (
      await strict.deps.store.get(
        'reports/business_intelligence/2026-11-23/business_intelligence-2026-W48.json',
      )
    ).toString('utf8'),
  ) as typeof doc;
  t.true(
    strictDoc.data.anomalies.rows.length < doc.data.anomalies.rows.length ||
      doc.data.anomalies.rows.length === 0,
  );
  // demo data has no planted anomaly: at 6× the noise, a week of Poisson hours flags next to nothing
  t.true(
    strictDoc.data.anomalies.rows.length <= 5,
    `${strictDoc.data.anomalies.rows.length} anomalies at k = 6`,
  );
  t.is(strictDoc.data.trends.days, 28, 'the default lookback');
});
