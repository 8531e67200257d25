// A report e-mail whose send succeeded but whose "sent" record did not (the connection to PostgreSQL lost
// right after the SMTP answer) is recorded as sent once the database answers again — not as a failed delivery
// with a retry, which a later tick would send a second time. A send that fails is still retried, once.
import type { ExecutionContext } from 'ava';
import { Registry } from 'prom-client';
import type { Database } from '../../shared/db/index.ts';
import { BatchError } from '../../shared/errors/index.ts';
import type { DeliveryDeps } from '../../shared/reports/deliver/deliver.ts';
import { emailReports, retryDueDeliveries } from '../../shared/reports/index.ts';
import type { Mailer } from '../../shared/reports/index.ts';
import { reportMetrics } from '../../shared/reports/metrics.ts';
import type { ReportRow } from '../../shared/reports/store/reports-sql.ts';
import { loadTemplate } from '../../shared/reports/templates.ts';
import { recordingMailer } from '../fixtures/recording-mailer.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';

const test = serviceTest('postgres');
const NOW = new Date('2026-11-28T12:00:00Z');
const DAY_MS = 86_400_000;

/** The database, except that the first `failures` statements marking a delivery sent lose the connection. */
function losingSentRecords(db: Database, failures: number): Database & { lost: number } {
  const wrapped = Object.create(db) as Database & { lost: number };
  wrapped.lost = 0;
  wrapped.query = (async (text: string, values?: unknown[]) => {
    if (/SET status = 'sent'/.test(text) && wrapped.lost < failures) {
      wrapped.lost += 1;
      throw new BatchError('DB_CONNECTION_LOST', 'Connection terminated unexpectedly');
    }
    return db.query(text, values);
  }) as Database['query'];
  return wrapped;
}

function deps(db: Database, mailer: Mailer, clock: () => Date): DeliveryDeps {
  return {
    db,
    store: { presign: async () => undefined } as unknown as DeliveryDeps['store'],
    mailer,
    metrics: reportMetrics(new Registry()),
    clock,
    retries: 3,
    retryDelayMs: 60_000,
    attachLimitBytes: 10 * 2 ** 20,
    linkTtlSeconds: 3600,
    downloadUrl: (id) => `http://localhost/reports/${id}/download`,
  };
}

// no row in reports: nothing to attach, which is all this test needs of a report
const report = {
  id: 1,
  report_type: 'daily_summary',
  period_start: new Date('2026-11-27T00:00:00Z'),
  format: 'json',
  location: 'reports/daily_summary/2026-11-27/report.json',
  size_bytes: 100,
  content_type: 'application/json',
} as unknown as ReportRow;

const view = {
  title: 'Daily summary',
  report_type: 'daily_summary',
  period: { label: '2026-11-27', start: '2026-11-27', end: '2026-11-28', time_zone: 'UTC' },
  generated_at: NOW.toISOString(),
};

async function deliveryRows(
  db: Database,
): Promise<{ status: string; attempts: number; retry_at: Date | null }[]> {
  const { rows } = await db.query<{ status: string; attempts: number; retry_at: Date | null }>(
    'SELECT status, attempts, retry_at FROM report_deliveries ORDER BY id',
  );
  return rows;
}

test('sent but not recorded: recorded sent when the database is back, and no tick sends it again', async (t: ExecutionContext) => {
  const { db, drop } = await freshPgDatabase();
  t.teardown(drop);
  const mailer = recordingMailer();
  const losing = losingSentRecords(db, 1);
  let now = NOW;
  const rows = await emailReports(
    deps(losing, mailer, () => now),
    [report],
    ['ops@example.com'],
    loadTemplate('daily_summary', undefined),
    view,
  );
  t.is(losing.lost, 1, 'the "sent" record lost its connection once');
  t.is(mailer.sent.length, 1);
  t.like(rows[0], { status: 'sent', attempts: 1, retry_at: null });
  // every retry time passes: nothing is due, nothing is sent again
  now = new Date(NOW.getTime() + 2 * DAY_MS);
  t.deepEqual(await retryDueDeliveries(deps(db, mailer, () => now)), { sent: 0, failed: 0 });
  t.is(mailer.sent.length, 1, 'one e-mail, not two');
  t.like((await deliveryRows(db))[0], { status: 'sent', attempts: 1 });
});

test('a send that fails is retried by a later tick, and sent once', async (t: ExecutionContext) => {
  const { db, drop } = await freshPgDatabase();
  t.teardown(drop);
  const mailer = recordingMailer(1);
  let now = NOW;
  const [row] = await emailReports(
    deps(db, mailer, () => now),
    [report],
    ['ops@example.com'],
    loadTemplate('daily_summary', undefined),
    view,
  );
  t.like(row, { status: 'failed', error_code: 'SMTP_UNAVAILABLE', attempts: 1 });
  t.is(row?.retry_at?.getTime(), NOW.getTime() + 60_000);
  now = new Date(NOW.getTime() + 61_000);
  t.deepEqual(await retryDueDeliveries(deps(db, mailer, () => now)), { sent: 1, failed: 0 });
  now = new Date(NOW.getTime() + 2 * DAY_MS);
  t.deepEqual(await retryDueDeliveries(deps(db, mailer, () => now)), { sent: 0, failed: 0 });
  t.is(mailer.sent.length, 1);
  t.like((await deliveryRows(db))[0], { status: 'sent', attempts: 2, retry_at: null });
});
