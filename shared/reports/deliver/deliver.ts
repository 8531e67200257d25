// E-mailing stored reports: one message per recipient, recorded per recipient (sent/failed with the SMTP
// answer), retried with exponential backoff. Files are attached up to reports.email.attachLimitBytes in total,
// linked above it (a presigned S3 URL, or the download route when the store is a local folder). A delivery
// never changes the reports it carries: a failed e-mail leaves them stored.
import type { Database } from '../../db/index.ts';
import type { ObjectStore } from '../../archive/index.ts';
import { BatchError, isErrorCode, isRetriable, retryRetriable } from '../../errors/index.ts';
import type { ReportMetrics } from '../metrics.ts';
import { getReports, type ReportRow } from '../store/reports-sql.ts';
import { fill, type ReportTemplate } from '../templates.ts';
import {
  claimDelivery,
  createDeliveries,
  dueDeliveries,
  getDeliveries,
  markDeliveryFailed,
  markDeliverySent,
  type DeliveryRow,
} from './deliveries-sql.ts';
import type { Mailer, MailResult } from './mailer.ts';

export interface DeliveryLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DeliveryDeps {
  db: Database;
  store: ObjectStore;
  mailer: Mailer | undefined;
  metrics: ReportMetrics;
  log?: DeliveryLogger;
  clock: () => Date;
  /** Retries after the first attempt (jobs.retries). */
  retries: number;
  /** The first retry's delay; each next one doubles it (jobs.retryDelaySeconds). */
  retryDelayMs: number;
  attachLimitBytes: number;
  linkTtlSeconds: number;
  /** Absolute URL of a report's download route (for links when the store cannot presign). */
  downloadUrl: (id: number) => string;
}

/** The n-th retry's time: delay · 2^(attempts − 1), at most a day later. */
export function backoff(now: Date, delayMs: number, attempts: number): Date {
  return new Date(now.getTime() + Math.min(delayMs * 2 ** Math.max(0, attempts - 1), 86_400_000));
}

export function fileName(row: Pick<ReportRow, 'location'>): string {
  return (row.location ?? '').split('/').at(-1) ?? 'report';
}

function size(bytes: number | null): string {
  const b = bytes ?? 0;
  return b < 1024
    ? `${b} B`
    : b < 2 ** 20
      ? `${(b / 1024).toFixed(0)} KiB`
      : `${(b / 2 ** 20).toFixed(1)} MiB`;
}

export interface MessageView {
  title: string;
  report_type: string;
  period: { label: string; start: string; end: string; time_zone: string };
  generated_at: string;
  headline?: Record<string, string> | undefined;
}

/** Subject and body of one report e-mail from the type's template, and whether files are attached or linked. */
export async function composeMessage(
  deps: Pick<DeliveryDeps, 'store' | 'attachLimitBytes' | 'linkTtlSeconds' | 'downloadUrl'>,
  reports: readonly ReportRow[],
  template: ReportTemplate,
  view: MessageView,
): Promise<{ subject: string; body: string; mode: 'attached' | 'linked' }> {
  const total = reports.reduce((n, r) => n + (r.size_bytes ?? 0), 0);
  const mode = total <= deps.attachLimitBytes ? 'attached' : 'linked';
  const files = [];
  for (const r of reports) {
    const link =
      mode === 'linked'
        ? ((await deps.store.presign(r.location!, deps.linkTtlSeconds)) ?? deps.downloadUrl(r.id))
        : undefined;
    files.push({ name: fileName(r), format: r.format, size: size(r.size_bytes), ...(link ? { link } : {}) });
  }
  const full = { ...view, files, mode };
  return { subject: fill(template.email.subject, full), body: fill(template.email.body, full), mode };
}

async function attempt(
  deps: DeliveryDeps,
  row: DeliveryRow,
  mode: 'attached' | 'linked',
): Promise<DeliveryRow['status']> {
  const now = deps.clock();
  let result: MailResult;
  try {
    if (!deps.mailer) {
      throw new BatchError(
        'SMTP_UNAVAILABLE',
        'no SMTP server is configured (SMTP_HOST); set it and the e-mail is retried',
      );
    }
    const attachments = [];
    if (mode === 'attached') {
      for (const r of await getReports(deps.db, row.report_ids)) {
        if (!r.location) continue;
        attachments.push({
          filename: fileName(r),
          content: await deps.store.get(r.location),
          contentType: r.content_type ?? 'application/octet-stream',
        });
      }
    }
    result = await deps.mailer.send({
      to: row.recipient,
      subject: row.subject,
      text: row.body,
      attachments,
    });
  } catch (err) {
    const retriable = isRetriable(err);
    const raw = (err as { code?: unknown }).code;
    const code = isErrorCode(raw) ? raw : 'INTERNAL';
    const attempts = row.attempts + 1;
    const retryAt = retriable && attempts <= deps.retries ? backoff(now, deps.retryDelayMs, attempts) : null;
    await markDeliveryFailed(deps.db, row.id, {
      mode,
      response: err instanceof Error ? err.message : String(err),
      errorCode: code,
      retryAt,
    });
    deps.metrics.distributed.inc({ channel: 'email', result: 'failure' });
    deps.metrics.recorded();
    deps.log?.warn(
      { err, delivery: row.id, recipient: row.recipient, retryAt: retryAt?.toISOString() ?? null },
      retryAt ? 'report e-mail failed; will retry' : 'report e-mail failed for good',
    );
    return 'failed';
  }
  // The message is out. A failure from here on is the database's, not the e-mail's: recording the delivery
  // as failed would schedule it again, and a later tick would send the same e-mail twice.
  await recordSent(deps, row, { mode, response: result.response, messageId: result.messageId });
  deps.metrics.distributed.inc({ channel: 'email', result: 'success' });
  deps.metrics.recorded();
  deps.log?.info({ delivery: row.id, recipient: row.recipient, mode }, 'report e-mail sent');
  return 'sent';
}

const RECORD_RETRY = { attempts: 4, backoffMs: 250 };

/**
 * Marks a sent delivery sent, again while PostgreSQL answers with a retriable error (a lost connection, a
 * restart). If it never does, the row stays pending; the stale-pending sweep of a later tick sends it again
 * (at least once, as after a crash between the send and this record) — logged at error level.
 */
async function recordSent(
  deps: DeliveryDeps,
  row: DeliveryRow,
  sent: { mode: 'attached' | 'linked'; response: string; messageId: string | null },
): Promise<void> {
  try {
    await retryRetriable(() => markDeliverySent(deps.db, row.id, sent), RECORD_RETRY);
  } catch (err) {
    deps.log?.error(
      { err, delivery: row.id, recipient: row.recipient },
      'report e-mail sent but not recorded; a later tick may send it again',
    );
  }
}

/**
 * E-mails `reports` (stored rows of one type and period) to each recipient; returns the delivery rows. With
 * the Idempotency-Key of the request that asked (`requestKey`), a recipient the request already has a
 * delivery for is not sent to again: the request ran before and died, and that delivery is sent, or is
 * retried by the catch-up like any other.
 */
export async function emailReports(
  deps: DeliveryDeps,
  reports: readonly ReportRow[],
  recipients: readonly string[],
  template: ReportTemplate,
  view: MessageView,
  requestKey?: string,
): Promise<DeliveryRow[]> {
  const stored = reports.filter((r) => r.location !== null);
  if (stored.length === 0 || recipients.length === 0) return [];
  const message = await composeMessage(deps, stored, template, view);
  const rows = await createDeliveries(deps.db, {
    reportIds: stored.map((r) => r.id),
    reportType: stored[0]!.report_type,
    periodStart: stored[0]!.period_start,
    recipients,
    subject: message.subject,
    body: message.body,
    mode: message.mode,
    requestKey,
  });
  for (const row of rows) if (row.created) await attempt(deps, row, message.mode);
  return getDeliveries(
    deps.db,
    rows.map((r) => r.id),
  );
}

/** Sends again every failed delivery whose retry is due (and pending ones a crash left behind). */
export async function retryDueDeliveries(deps: DeliveryDeps): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  for (const row of await dueDeliveries(deps.db, deps.clock(), 10 * 60_000)) {
    if (!(await claimDelivery(deps.db, row))) continue;
    const status = await attempt(deps, row, row.mode ?? 'attached');
    if (status === 'sent') sent += 1;
    else failed += 1;
  }
  return { sent, failed };
}
