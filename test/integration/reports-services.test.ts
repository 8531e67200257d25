// Reports on the real services: PostgreSQL, S3 (versitygw) and SMTP (mailpit). The object in S3 carries the
// row's SHA-256; the e-mail arrives with the attachments and the template's subject, or with presigned links
// above the size limit; and the faults: SMTP down → the report stays stored, the delivery fails and is sent
// on a later retry; S3 down → the run fails, no report is listed as stored, and the retry stores it.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { S3ObjectStore } from '../../shared/archive/index.ts';
import { createMailer } from '../../shared/reports/index.ts';
import { freePort } from '../../runtime/free-port.ts';
import { loadReportFixture } from '../fixtures/report-data.ts';
import { reportHarness, type ReportHarness } from '../fixtures/report-deps.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { ownS3Prefix } from '../helpers/s3-prefix.ts';
import { requireService, s3Env, serviceTest } from '../helpers/services.ts';

const test = serviceTest('postgres', 's3', 'smtp');

interface Mail {
  ID: string;
  Subject: string;
  From: { Address: string; Name: string };
  To: Array<{ Address: string }>;
  Attachments: number;
}

interface View {
  id: number;
  format: string;
  status: string;
  sha256: string;
  size_bytes: number | null;
  error: { code: string; attempts: number; retry_at: string | null } | null;
}

function smtpEnv(port?: number): Record<string, string> {
  const url = new URL(requireService('smtp')!.url);
  return { SMTP_HOST: url.hostname, SMTP_PORT: String(port ?? url.port) };
}

/**
 * A day for each test's fixture. Days may repeat (between tests, and between runs against the same bucket):
 * each test's keys live under a prefix of its own (setup), so no two tests ever write or delete the same key.
 */
function ownDay(): Date {
  const d = new Date(Date.UTC(2024, 0, 1) + randomInt(0, 900) * 86_400_000);
  // Both fixture days (this one and the one before) in one month, which stays open at the fixture's clock:
  // not the last day of a month, and not the first (the day before would close the previous month, whose
  // scheduled monthly report a tick would then make).
  const date = d.getUTCDate();
  if (date >= 28) return new Date(d.getTime() - 5 * 86_400_000);
  return date === 1 ? new Date(d.getTime() + 2 * 86_400_000) : d;
}

async function mailsTo(address: string): Promise<Mail[]> {
  const api = requireService('smtp')!.apiUrl;
  const res = await fetch(`${api}/api/v1/search?query=${encodeURIComponent(`to:${address}`)}`);
  return ((await res.json()) as { messages: Mail[] }).messages;
}

async function mailDetail(id: string): Promise<{
  Text: string;
  Attachments: Array<{ FileName: string; ContentType: string; Size: number; PartID: string }>;
}> {
  const api = requireService('smtp')!.apiUrl;
  return (await (await fetch(`${api}/api/v1/message/${id}`)).json()) as never;
}

async function attachment(id: string, part: string): Promise<Buffer> {
  const api = requireService('smtp')!.apiUrl;
  return Buffer.from(await (await fetch(`${api}/api/v1/message/${id}/part/${part}`)).arrayBuffer());
}

async function setup(
  t: ExecutionContext,
  env: Record<string, string>,
  day = ownDay(),
): Promise<{ h: ReportHarness; day: string; rcpt: string; prefix: string }> {
  const { db, drop } = await freshPgDatabase();
  t.teardown(drop);
  const end = new Date(day.getTime() + 86_400_000);
  const fx = await loadReportFixture(db, { end, days: 2, requestsPerHour: 8 });
  const rcpt = `ops-${randomBytes(5).toString('hex')}@example.com`;
  const prefix = ownS3Prefix(t, 'reports-services');
  // only monthly reports are scheduled (the fixture's month is not over), so a tick does nothing but retries
  const h = reportHarness(db, {
    env: {
      ...s3Env(),
      S3_PREFIX: prefix,
      BATCH_PROCESSING_REPORT_RECIPIENTS: rcpt,
      BATCH_PROCESSING_RETRY_DELAY: '60',
      BATCH_PROCESSING_REPORT_SCHEDULED_TYPES: 'monthly_summary',
      ...env,
    },
    now: fx.now,
  });
  const label = day.toISOString().slice(0, 10);
  t.teardown(() => h.cleanup());
  return { h, day: label, rcpt, prefix };
}

test("stored in S3 with the row's SHA-256; e-mailed with every format attached and the template's subject", async (t) => {
  t.timeout(180_000);
  const templates = mkdtempSync(join(tmpdir(), 'hxp-templates-'));
  writeFileSync(
    join(templates, 'daily_summary.yml'),
    'email:\n  subject: "Ops report {{period.label}}: {{headline.requests}} requests"\n',
  );
  const { h, day, rcpt } = await setup(t, {
    ...smtpEnv(),
    BATCH_PROCESSING_REPORT_DISTRIBUTION: 's3,email',
    BATCH_PROCESSING_REPORT_TEMPLATES_DIR: templates,
    SMTP_FROM: 'Reports <reports@hxp.example>',
  });
  const answer = await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', period: day, wait: true },
  });
  t.is(answer.status, 200, JSON.stringify(answer.body));
  const body = answer.body as {
    reports: View[];
    deliveries: Array<{ recipient: string; status: string; mode: string; response: string }>;
  };
  t.deepEqual(
    body.reports.map((r) => r.format),
    ['json', 'csv', 'pdf', 'docx'],
  );
  for (const r of body.reports) {
    const key = `reports/daily_summary/${day}/daily_summary-${day}.${r.format}`;
    const object = await h.deps.store.get(key);
    t.is(createHash('sha256').update(object).digest('hex'), r.sha256, `${r.format}: S3 object = row`);
    t.is((await h.deps.store.head(key))?.sha256, r.sha256);
  }
  t.like(body.deliveries[0], { recipient: rcpt, status: 'sent', mode: 'attached' });
  t.regex(body.deliveries[0]!.response, /^250 /);
  const mails = await mailsTo(rcpt);
  t.is(mails.length, 1);
  const json = JSON.parse(
    (await h.deps.store.get(`reports/daily_summary/${day}/daily_summary-${day}.json`)).toString('utf8'),
  ) as { data: { headline: { requests: { value: number } } } };
  t.deepEqual(mails[0]!.From, { Address: 'reports@hxp.example', Name: 'Reports' });
  t.is(mails[0]!.Subject, `Ops report ${day}: ${json.data.headline.requests.value} requests`);
  const detail = await mailDetail(mails[0]!.ID);
  t.deepEqual(
    detail.Attachments.map((a) => a.FileName).sort(),
    ['json', 'csv', 'pdf', 'docx'].map((f) => `daily_summary-${day}.${f}`).sort(),
  );
  const pdfPart = detail.Attachments.find((a) => a.FileName.endsWith('.pdf'))!;
  t.is(
    createHash('sha256')
      .update(await attachment(mails[0]!.ID, pdfPart.PartID))
      .digest('hex'),
    body.reports.find((r) => r.format === 'pdf')!.sha256,
  );
  t.regex(detail.Text, new RegExp(`Period: ${day}`));
  // the fixture's api-3 reports no cost: the e-mail says how much of the cost was inferred from prices
  t.regex(detail.Text, /cost: \$\d+\.\d+ \(inferred from prices: \$\d+\.\d+\) ·/);

  // POST /reports/<id>/deliver sends one format again, to whom it is asked, reading as the first e-mail
  const pdf = body.reports.find((r) => r.format === 'pdf')!;
  const again = `again-${randomBytes(5).toString('hex')}@example.com`;
  const resent = await h.call('POST', `/reports/${pdf.id}/deliver`, { body: { recipients: [again] } });
  t.is(resent.status, 200, JSON.stringify(resent.body));
  t.like((resent.body as { deliveries: object[] }).deliveries[0], { recipient: again, status: 'sent' });
  const [mail] = await mailsTo(again);
  t.is(mail?.Subject, mails[0]!.Subject, 'the same subject, with the figures of the JSON document');
  t.deepEqual(
    (await mailDetail(mail!.ID)).Attachments.map((a) => a.FileName),
    [`daily_summary-${day}.pdf`],
  );
  const status = (await h.call('GET', '/reports/status', { query: { id: String(pdf.id) } })).body as {
    deliveries: Array<{ recipient: string }>;
  };
  t.deepEqual(status.deliveries.map((d) => d.recipient).sort(), [again, rcpt].sort());
});

test('above reports.email.attachLimitBytes the e-mail links the files (presigned S3 URLs that fetch the same bytes)', async (t) => {
  t.timeout(180_000);
  const { h, day, rcpt } = await setup(t, {
    ...smtpEnv(),
    BATCH_PROCESSING_REPORT_DISTRIBUTION: 's3,email',
    BATCH_PROCESSING_REPORT_ATTACH_LIMIT: '1000',
    BATCH_PROCESSING_REPORT_LINK_TTL: '3600',
  });
  const answer = await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', period: day, formats: ['csv'], wait: true },
  });
  const body = answer.body as { reports: View[]; deliveries: Array<{ mode: string; status: string }> };
  t.like(body.deliveries[0], { mode: 'linked', status: 'sent' });
  const mail = (await mailsTo(rcpt))[0]!;
  t.is(mail.Attachments, 0);
  const text = (await mailDetail(mail.ID)).Text;
  const link = /(http\S+X-Amz-Expires=3600\S*)/.exec(text)?.[1];
  t.truthy(link, text);
  const fetched = Buffer.from(await (await fetch(link!)).arrayBuffer());
  t.is(createHash('sha256').update(fetched).digest('hex'), body.reports[0]!.sha256);
});

test('SMTP down: the report is stored, the delivery fails with the reason, and a later tick sends it', async (t) => {
  t.timeout(180_000);
  const dead = await freePort();
  const { h, day, rcpt } = await setup(t, {
    ...smtpEnv(dead),
    BATCH_PROCESSING_REPORT_DISTRIBUTION: 's3,email',
  });
  const answer = await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', period: day, formats: ['pdf'], wait: true },
  });
  t.is(answer.status, 200, 'a failed e-mail does not fail the report');
  const body = answer.body as {
    reports: View[];
    deliveries: Array<{ id: number; status: string; error_code: string; retry_at: string; response: string }>;
  };
  t.like(body.reports[0], { status: 'stored', error: null });
  t.like(body.deliveries[0], { status: 'failed', error_code: 'SMTP_UNAVAILABLE' });
  t.regex(body.deliveries[0]!.response, /ECONNREFUSED|connect/i);
  const retryAt = new Date(body.deliveries[0]!.retry_at);
  t.is(retryAt.getTime() - h.deps.clock!().getTime(), 60_000, 'first retry after jobs.retryDelaySeconds');
  t.is((await mailsTo(rcpt)).length, 0);
  // not due yet: nothing is sent
  const early = await h.call('POST', '/', { headers: { 'x-connector': 'cron-connector' } });
  t.like((early.body as { emails: object }).emails, { sent: 0, failed: 0 });
  // SMTP is back; the retry is due
  h.deps.mailer?.close();
  h.deps.mailer = createMailer({
    ...h.config,
    reports: {
      ...h.config.reports,
      email: {
        ...h.config.reports.email,
        ...{ host: smtpEnv().SMTP_HOST, port: Number(smtpEnv().SMTP_PORT) },
      },
    },
  });
  h.setNow(new Date(retryAt.getTime() + 1000));
  const tick = await h.call('POST', '/', { headers: { 'x-connector': 'cron-connector' } });
  t.like((tick.body as { emails: object }).emails, { sent: 1, failed: 0 });
  t.is((await mailsTo(rcpt)).length, 1);
  const status = (await h.call('GET', '/reports/status', { query: { id: String(body.reports[0]!.id) } }))
    .body as { status: string; deliveries: Array<{ status: string; attempts: number }> };
  t.is(status.status, 'stored');
  t.like(status.deliveries[0], { status: 'sent', attempts: 2 });
});

test('S3 down: the run fails, nothing is listed as stored, and the retry stores the report', async (t) => {
  t.timeout(180_000);
  const dead = await freePort();
  const { h, day, prefix } = await setup(t, { S3_ENDPOINT: `http://127.0.0.1:${dead}` });
  const answer = await h.call('POST', '/reports/generate', {
    body: { report_type: 'daily_summary', period: day, formats: ['json', 'pdf'], wait: true },
  });
  t.is(answer.status, 503);
  const body = answer.body as { reports: View[]; error: { code: string }; run_id: number };
  t.is(body.error.code, 'S3_UNAVAILABLE');
  for (const r of body.reports)
    t.like(r, { status: 'failed', sha256: null, error: { code: 'S3_UNAVAILABLE', attempts: 1 } });
  const stored = (await h.call('GET', '/reports/list', { query: { status: 'stored' } })).body as {
    reports: View[];
  };
  t.is(stored.reports.length, 0, 'no half-written report listed');
  const run = await h.deps.db.query<{ status: string; error_code: string }>(
    'SELECT status, error_code FROM runs WHERE id = $1',
    [body.run_id],
  );
  t.deepEqual(run.rows[0], { status: 'failed', error_code: 'S3_UNAVAILABLE' });
  const download = await t.throwsAsync(h.call('GET', `/reports/${body.reports[0]!.id}/download`));
  t.is((download as unknown as { code: string }).code, 'NOT_FOUND');

  // S3 is back; after the retry delay the cron tick generates the failed formats again (under the test's
  // prefix, where its teardown removes them)
  const good = new S3ObjectStore({ ...requireService('s3')!, prefix });
  t.teardown(() => good.destroy());
  h.deps.store = good;
  h.setNow(new Date(h.deps.clock!().getTime() + 61_000));
  const tick = await h.call('POST', '/', { headers: { 'x-connector': 'cron-connector' } });
  t.deepEqual((tick.body as { generated: unknown[] }).generated, [
    { report_type: 'daily_summary', period: day, stored: 2, failed: 0 },
  ]);
  const after = (await h.call('GET', '/reports/list', { query: { status: 'stored' } })).body as {
    reports: View[];
  };
  t.is(after.reports.length, 2);
  for (const r of after.reports) {
    const object = await good.get(`reports/daily_summary/${day}/daily_summary-${day}.${r.format}`);
    t.is(createHash('sha256').update(object).digest('hex'), r.sha256);
  }
});
