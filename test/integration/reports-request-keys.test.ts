// POST /reports/generate and POST /reports/{id}/deliver with an Idempotency-Key, on PGlite and PostgreSQL: the
// same request sent again is answered with its first answer and generates and e-mails nothing more; another
// request under the key is refused; a request still running holds its key; one that died unanswered is taken
// over after its lease and e-mails no recipient twice; the same request sent twice at once runs once; a refused
// or failed request leaves no key behind. And, keyed or not, a request with recipients whose report another run
// holds waits for that run and e-mails what it stored.
import { createHash } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import type { Database } from '../../shared/db/index.ts';
import { createDeliveries } from '../../shared/reports/deliver/deliveries-sql.ts';
import { answerOnce } from '../../shared/reports/api/request-keys.ts';
import { claimReports } from '../../shared/reports/store/reports-sql.ts';
import { claimReportRequest } from '../../shared/reports/store/requests-sql.ts';
import { countExpired, deleteExpired } from '../../shared/retention/bookkeeping-sql.ts';
import { FIXTURE_NOW, loadReportFixture } from '../fixtures/report-data.ts';
import { reportHarness, type ReportHarness } from '../fixtures/report-deps.ts';
import { recordingMailer } from '../fixtures/recording-mailer.ts';
import { freshEmbeddedDatabase, freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';

const pgTest = serviceTest('postgres');
const MINUTE_MS = 60_000;

interface Setup {
  db: Database;
  h: ReportHarness;
  mailer: ReturnType<typeof recordingMailer>;
}

async function harness(t: ExecutionContext, db: Database): Promise<Setup> {
  await loadReportFixture(db);
  // recipients in a request are e-mailed whatever the distribution; the mailer records instead of sending
  const h = reportHarness(db, { now: FIXTURE_NOW });
  t.teardown(() => h.cleanup());
  const mailer = recordingMailer();
  h.deps.mailer = mailer;
  return { db, h, mailer };
}

async function embedded(t: ExecutionContext): Promise<Setup> {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  return harness(t, db);
}

async function postgres(t: ExecutionContext): Promise<Setup> {
  const fresh = await freshPgDatabase();
  t.teardown(fresh.drop);
  return harness(t, fresh.db);
}

const keyed = (key: string) => ({ 'idempotency-key': key });
const DAILY = {
  report_type: 'daily_summary',
  format: 'json',
  period: '2026-11-28',
  recipients: ['ops@example.com', 'cfo@example.com'],
  wait: true,
};

const count = async (db: Database, sql: string): Promise<number> =>
  Number((await db.query<{ n: number }>(sql)).rows[0]!.n);
const runs = (db: Database) => count(db, "SELECT count(*) AS n FROM runs WHERE job = 'generate-report'");
const codeOf = (err: unknown) => (err as { code?: string }).code;

for (const [name, setup, register] of [
  ['PGlite', embedded, test],
  ['PostgreSQL', postgres, pgTest],
] as const) {
  register(
    `${name}: a generation sent again with its key gets its first answer; nothing is generated or e-mailed twice`,
    async (t: ExecutionContext) => {
      const { db, h, mailer } = await setup(t);
      const first = await h.call('POST', '/reports/generate', { body: DAILY, headers: keyed('gen-0001') });
      t.is(first.status, 200);
      t.is(first.headers?.['idempotent-replayed'], undefined);
      t.is(mailer.sent.length, 2);
      t.is(await runs(db), 1);

      const again = await h.call('POST', '/reports/generate', { body: DAILY, headers: keyed('"gen-0001"') });
      t.is(again.status, 200);
      t.is(again.headers?.['idempotent-replayed'], 'true');
      t.deepEqual(again.body, JSON.parse(JSON.stringify(first.body)));
      t.is(mailer.sent.length, 2, 'no e-mail sent again');
      t.is(await runs(db), 1, 'no generation run again');

      // without a key the same body is a new request, as before keys existed
      await h.call('POST', '/reports/generate', { body: DAILY });
      t.is(mailer.sent.length, 4);
    },
  );

  register(
    `${name}: the same request sent twice at once runs once: the other is told its key is in use`,
    async (t: ExecutionContext) => {
      const { db, h, mailer } = await setup(t);
      const send = () => h.call('POST', '/reports/generate', { body: DAILY, headers: keyed('twice') });
      const [a, b] = await Promise.allSettled([send(), send()]);
      const answered = [a, b].filter((r) => r.status === 'fulfilled');
      const refused = [a, b].filter((r) => r.status === 'rejected');
      t.is(answered.length, 1);
      t.is(refused.length, 1);
      t.is(codeOf((refused[0] as PromiseRejectedResult).reason), 'IDEMPOTENCY_KEY_IN_USE');
      t.is(mailer.sent.length, 2, 'one e-mail per recipient');
      t.is(await runs(db), 1);
      const replay = await send();
      t.is(replay.headers?.['idempotent-replayed'], 'true');
    },
  );

  register(
    `${name}: a queued generation (202) sent again answers the same reports and queues nothing`,
    async (t: ExecutionContext) => {
      const { db, h } = await setup(t);
      const body = { report_type: 'daily_summary', formats: ['json', 'csv'], period: '2026-11-28' };
      const first = await h.call('POST', '/reports/generate', { body, headers: keyed('queued-1') });
      t.is(first.status, 202);
      const again = await h.call('POST', '/reports/generate', { body, headers: keyed('queued-1') });
      t.is(again.status, 202);
      t.is(again.headers?.['idempotent-replayed'], 'true');
      t.deepEqual(again.body, JSON.parse(JSON.stringify(first.body)));
      await h.settle();
      t.is(await runs(db), 1);
      t.is(await count(db, "SELECT count(*) AS n FROM reports WHERE status = 'stored'"), 2);
    },
  );

  register(
    `${name}: the key with another request is refused (409 IDEMPOTENCY_KEY_REUSED) and does nothing`,
    async (t: ExecutionContext) => {
      const { db, h, mailer } = await setup(t);
      await h.call('POST', '/reports/generate', { body: DAILY, headers: keyed('k-1') });
      for (const body of [
        { ...DAILY, period: '2026-11-27' },
        { ...DAILY, recipients: ['ops@example.com'] },
        { ...DAILY, wait: false },
      ]) {
        const err = await t.throwsAsync(h.call('POST', '/reports/generate', { body, headers: keyed('k-1') }));
        t.is(codeOf(err), 'IDEMPOTENCY_KEY_REUSED', JSON.stringify(body));
        t.regex(err!.message, /Idempotency-Key "k-1" was sent before with another request/);
      }
      // the same key on the other route is another request too
      const report = await count(db, 'SELECT min(id) AS n FROM reports');
      const err = await t.throwsAsync(
        h.call('POST', `/reports/${report}/deliver`, {
          body: { recipients: ['ops@example.com'] },
          headers: keyed('k-1'),
        }),
      );
      t.is(codeOf(err), 'IDEMPOTENCY_KEY_REUSED');
      t.is(await runs(db), 1);
      t.is(mailer.sent.length, 2);
    },
  );

  register(
    `${name}: a refused request keeps no key: corrected, it runs under the same key; a malformed key is a 400`,
    async (t: ExecutionContext) => {
      const { db, h } = await setup(t);
      const early = await t.throwsAsync(
        h.call('POST', '/reports/generate', {
          body: { ...DAILY, period: '2026-11-29' },
          headers: keyed('fix-me'),
        }),
      );
      t.is(codeOf(early), 'REPORT_PERIOD_NOT_READY');
      t.is(await count(db, 'SELECT count(*) AS n FROM report_requests'), 0);
      const fixed = await h.call('POST', '/reports/generate', { body: DAILY, headers: keyed('fix-me') });
      t.is(fixed.status, 200);
      t.is(await count(db, 'SELECT count(*) AS n FROM report_requests WHERE answer IS NOT NULL'), 1);

      for (const bad of ['', '""', 'ключ', 'x'.repeat(256)]) {
        const err = await t.throwsAsync(
          h.call('POST', '/reports/generate', { body: DAILY, headers: keyed(bad) }),
        );
        t.is(codeOf(err), 'REQUEST_INVALID', bad);
        t.is((err as unknown as { context: { field: string } }).context.field, 'Idempotency-Key');
      }
    },
  );

  register(
    `${name}: a generation whose report another run holds is answered, but its key is not kept: sent again, it e-mails`,
    async (t: ExecutionContext) => {
      const { db, h, mailer } = await setup(t);
      const day = { start: new Date('2026-11-28T00:00:00Z'), end: new Date('2026-11-29T00:00:00Z') };
      const { claimed } = await claimReports(db, {
        type: 'daily_summary',
        periodStart: day.start,
        periodEnd: day.end,
        periodLabel: '2026-11-28',
        timeZone: 'UTC',
        formats: ['json'],
        owner: 'the cron run',
        leaseMs: h.deps.settings.leaseMs,
      });
      t.is(claimed.length, 1);
      // the request waits this long for the other run before it answers without e-mail
      h.deps.settings.othersWaitMs = 300;
      const held = await h.call('POST', '/reports/generate', { body: DAILY, headers: keyed('held-1') });
      t.like(held.body, { status: 'generating', deliveries: [] });
      t.is(mailer.sent.length, 0);
      t.is(await count(db, 'SELECT count(*) AS n FROM report_requests'), 0);
      // the other run ends (here: fails and lets go) and the request is sent again under its key
      await db.query("UPDATE reports SET locked_by = NULL, status = 'failed'");
      const again = await h.call('POST', '/reports/generate', { body: DAILY, headers: keyed('held-1') });
      t.is(again.headers?.['idempotent-replayed'], undefined);
      t.like(again.body, { status: 'stored' });
      t.is(mailer.sent.length, 2);
      const replay = await h.call('POST', '/reports/generate', { body: DAILY, headers: keyed('held-1') });
      t.is(replay.headers?.['idempotent-replayed'], 'true');
      t.is(mailer.sent.length, 2);
    },
  );

  register(
    `${name}: a generation with recipients whose report another run holds waits for that run and e-mails what it stored`,
    async (t: ExecutionContext) => {
      const { db, h, mailer } = await setup(t);
      const day = { report_type: 'daily_summary', period: '2026-11-28', wait: true };
      await h.call('POST', '/reports/generate', { body: { ...day, formats: ['json', 'csv'] } });
      // the catch-up regenerates both formats, and finishes them while the request waits
      const { claimed } = await claimReports(db, {
        type: 'daily_summary',
        periodStart: new Date('2026-11-28T00:00:00Z'),
        periodEnd: new Date('2026-11-29T00:00:00Z'),
        periodLabel: '2026-11-28',
        timeZone: 'UTC',
        formats: ['json', 'csv'],
        owner: 'the cron run',
        leaseMs: h.deps.settings.leaseMs,
      });
      t.is(claimed.length, 2);
      const finish = (formats: string[]) =>
        db.query(
          `UPDATE reports SET status = 'stored', locked_by = NULL, locked_at = NULL WHERE format = ANY($1::text[])`,
          [formats],
        );
      const onlyHeld = setTimeout(() => void finish(['json', 'csv']), 600);
      const all = await h.call('POST', '/reports/generate', {
        body: { ...day, formats: ['json', 'csv'], recipients: ['ops@example.com'] },
      });
      clearTimeout(onlyHeld);
      t.like(all.body, { status: 'stored' });
      t.deepEqual(
        mailer.sent.map((m) => [m.to, m.attachments?.map((a) => a.filename).sort()]),
        [['ops@example.com', ['daily_summary-2026-11-28.csv', 'daily_summary-2026-11-28.json']]],
      );

      // one format held, one generated here: the e-mail carries both once the other run has stored its own
      mailer.sent.length = 0;
      await claimReports(db, {
        type: 'daily_summary',
        periodStart: new Date('2026-11-28T00:00:00Z'),
        periodEnd: new Date('2026-11-29T00:00:00Z'),
        periodLabel: '2026-11-28',
        timeZone: 'UTC',
        formats: ['csv'],
        owner: 'the cron run',
        leaseMs: h.deps.settings.leaseMs,
      });
      const partly = setTimeout(() => void finish(['csv']), 600);
      const mixed = await h.call('POST', '/reports/generate', {
        body: { ...day, formats: ['json', 'csv'], recipients: ['cfo@example.com'] },
      });
      clearTimeout(partly);
      t.deepEqual(
        (mixed.body as { reports: Array<{ format: string; status: string }> }).reports.map((r) => [
          r.format,
          r.status,
        ]),
        [
          ['json', 'stored'],
          ['csv', 'stored'],
        ],
      );
      t.deepEqual(
        mailer.sent.map((m) => [m.to, m.attachments?.length]),
        [['cfo@example.com', 2]],
      );
    },
  );

  register(
    `${name}: a key held by its request still running answers 409 IDEMPOTENCY_KEY_IN_USE; after the lease it is taken over and no recipient gets a second e-mail`,
    async (t: ExecutionContext) => {
      const { db, h, mailer } = await setup(t);
      await h.call('POST', '/reports/generate', {
        body: { report_type: 'daily_summary', format: 'json', period: '2026-11-28', wait: true },
      });
      const report = (await db.query<{ id: number }>('SELECT id::int AS id FROM reports')).rows[0]!;
      // the first run of a keyed delivery claimed its key, queued and sent the e-mail to ops@, then died
      // before it answered
      const body = { recipients: ['ops@example.com', 'cfo@example.com'] };
      const request = () =>
        h.call('POST', `/reports/${report.id}/deliver`, { body, headers: keyed('deliver-1') });
      const first = await request();
      t.is(first.status, 200);
      await db.query('DELETE FROM report_requests');
      await db.query("DELETE FROM report_deliveries WHERE recipient = 'cfo@example.com'");
      await claimReportRequest(db, {
        key: 'deliver-1',
        fingerprint: createHash('sha256')
          .update(JSON.stringify(['POST /reports/{id}/deliver', report.id, body]))
          .digest(),
        owner: 'a run that died',
        now: FIXTURE_NOW,
        leaseMs: h.deps.settings.leaseMs,
      });
      mailer.sent.length = 0;

      const busy = await t.throwsAsync(request());
      t.is(codeOf(busy), 'IDEMPOTENCY_KEY_IN_USE');
      t.regex(busy!.message, /still running/);

      h.setNow(new Date(FIXTURE_NOW.getTime() + h.deps.settings.leaseMs + MINUTE_MS));
      const taken = await request();
      t.is(taken.status, 200);
      t.deepEqual(
        mailer.sent.map((m) => m.to),
        ['cfo@example.com'],
        'ops@ had its e-mail from the run that died',
      );
      const deliveries = (taken.body as { deliveries: Array<{ recipient: string; status: string }> })
        .deliveries;
      t.deepEqual(deliveries.map((d) => [d.recipient, d.status]).sort(), [
        ['cfo@example.com', 'sent'],
        ['ops@example.com', 'sent'],
      ]);
      const replay = await request();
      t.is(replay.headers?.['idempotent-replayed'], 'true');
      t.is(mailer.sent.length, 1);
      t.is(await count(db, "SELECT count(*) AS n FROM report_deliveries WHERE request_key = 'deliver-1'"), 2);
    },
  );
}

test('PGlite: a keyed request that fails, or whose work was partly left to another run, frees its key', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  const deps = { db, leaseMs: 10 * MINUTE_MS, now: FIXTURE_NOW };
  await t.throwsAsync(
    answerOnce(deps, 'flaky', ['route', 1], async () => {
      throw new Error('S3 went away');
    }),
    { message: 'S3 went away' },
  );
  t.is(await count(db, 'SELECT count(*) AS n FROM report_requests'), 0);
  let ran = 0;
  const run = (final: boolean) =>
    answerOnce(deps, 'flaky', ['route', 1], async () => ({
      answer: { status: 200, body: { ran: ++ran } },
      final,
    }));
  t.deepEqual(await run(false), { status: 200, body: { ran: 1 } });
  t.is(await count(db, 'SELECT count(*) AS n FROM report_requests'), 0, 'not final: not kept');
  t.deepEqual(await run(true), { status: 200, body: { ran: 2 } });
  t.deepEqual(await run(true), {
    status: 200,
    body: { ran: 2 },
    headers: { 'idempotent-replayed': 'true' },
  });
  t.is(ran, 2);
});

test('PGlite: keyed deliveries are one per key, type, period and recipient; unkeyed ones are not limited', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  const delivery = (recipients: string[], requestKey?: string) =>
    createDeliveries(db, {
      reportIds: [1],
      reportType: 'daily_summary',
      periodStart: new Date('2026-11-28T00:00:00Z'),
      recipients,
      subject: 's',
      body: 'b',
      mode: 'attached',
      requestKey,
    });
  const first = await delivery(['a@example.com'], 'k');
  t.deepEqual(
    first.map((d) => [d.recipient, d.created]),
    [['a@example.com', true]],
  );
  const second = await delivery(['a@example.com', 'b@example.com'], 'k');
  t.deepEqual(
    second.map((d) => [d.recipient, d.created]),
    [
      ['a@example.com', false],
      ['b@example.com', true],
    ],
  );
  t.is(second[0]!.id, first[0]!.id, "the key's row, not a new one");
  t.is((await delivery(['a@example.com'], 'other')).length, 1);
  t.true((await delivery(['a@example.com'])).every((d) => d.created));
  t.true((await delivery(['a@example.com'])).every((d) => d.created));
  t.is(await count(db, "SELECT count(*) AS n FROM report_deliveries WHERE recipient = 'a@example.com'"), 4);
});

test('PGlite: the retention sweep deletes report request keys older than the cutoff with the push ones', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  const old = new Date('2026-11-01T00:00:00Z');
  await db.query(
    `INSERT INTO report_requests (request_key, fingerprint, owner, claimed_until, status, answer, received_at)
     SELECT 'r' || g, '\\x00', 'o', $1, 200, '{}', $1 FROM generate_series(1, 5) g`,
    [old],
  );
  await db.query(
    `INSERT INTO push_requests (request_key, fingerprint, answer, received_at)
     SELECT 'p' || g, '\\x00', '{}', $1 FROM generate_series(1, 3) g`,
    [old],
  );
  await db.query(
    `INSERT INTO report_requests (request_key, fingerprint, owner, claimed_until, received_at)
     VALUES ('recent', '\\x00', 'o', now(), now())`,
  );
  const cutoff = new Date('2026-11-15T00:00:00Z');
  t.is(await countExpired(db, 'request_keys', cutoff), 8);
  t.is(await deleteExpired(db, 'request_keys', cutoff, 2), 8);
  t.is(await count(db, 'SELECT count(*) AS n FROM report_requests'), 1);
  t.is(await count(db, 'SELECT count(*) AS n FROM push_requests'), 0);
});
