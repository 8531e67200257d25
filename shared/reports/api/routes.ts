// The /reports API as one function of (request, deps) → answer, so the generate-report handler stays thin.
// POST /                      the catch-up step (cron tick, a hxp.batch.events message, or a plain call)
// POST /reports/generate      {report_type, format|formats, period?|from+to, recipients?, wait?}  (API token)
// GET  /reports/list          ?type&format&status&from&to&limit&cursor
// GET  /reports/status        per type; ?id= one report
// GET  /reports/:id           one report (the status_url of a generation)
// GET  /reports/:id/download  the file, streamed
// POST /reports/:id/deliver   e-mail it again {recipients?}                                      (API token)
import type { Readable } from 'node:stream';
import { requireApiToken } from '../../auth/index.ts';
import { BatchError, errorCatalogue, isErrorCode } from '../../errors/index.ts';
import { jsonBody, matchRoute, refuseUnknownParams, requestKeyOf, type Route } from '../../http/index.ts';
import { eventCause, TRIGGERS, type EventCause, type Trigger } from '../../jobs/index.ts';
import { CRON_TIME_ZONE, nextCronFire } from '../../status/aggregation-status.ts';
import { deliveriesOf, type DeliveryRow } from '../deliver/deliveries-sql.ts';
import { emailReports, fileName } from '../deliver/deliver.ts';
import {
  assertGeneratable,
  catchUp,
  deliveryDeps,
  generateReport,
  REPORT_JOB,
  storedMessageView,
  type GenerationResult,
  type ReportDeps,
} from '../generate.ts';
import { lastCompletePeriod, parsePeriod, periodContaining, periodsBetween, type Period } from '../period.ts';
import {
  ensureReports,
  getReport,
  listReports,
  reportTypeStatus,
  type ReportRow,
} from '../store/reports-sql.ts';
import { loadTemplate } from '../templates.ts';
import { PERIOD_LEVEL, REPORT_TYPES, type ReportFormat, type ReportType } from '../types.ts';
import { newestAnalysedDay, requireCapacityRun } from '../builders/capacity.ts';
import { DeliverBody, invalid, parseGenerateBody, parseId, parseListQuery } from './requests.ts';
import { answerOnce, type RequestKeyDeps, type RequestOutcome } from './request-keys.ts';

export interface ReportRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface ReportAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface ApiDeps extends ReportDeps {
  apiToken: string | undefined;
  /** cron schedule of generate-report-cron (reports.cron), for "next scheduled". */
  cron: string;
  /** Runs work after the answer (202); the handler waits for it on shutdown. */
  background: (work: () => Promise<unknown>) => void;
}

const MAX_PERIODS = 400;

/** What the list and status routes show of a row. */
export function reportView(row: ReportRow) {
  return {
    id: row.id,
    report_type: row.report_type,
    format: row.format,
    period: row.period_label,
    period_start: row.period_start.toISOString(),
    period_end: row.period_end.toISOString(),
    time_zone: row.time_zone,
    status: row.status,
    size_bytes: row.size_bytes,
    sha256: row.sha256,
    render_ms: row.render_ms,
    created_at: row.created_at.toISOString(),
    stored_at: row.stored_at?.toISOString() ?? null,
    error: row.error_code
      ? {
          code: row.error_code,
          message: row.error,
          attempts: row.attempts,
          retry_at: row.retry_at?.toISOString() ?? null,
        }
      : null,
    status_url: `/reports/status?id=${row.id}`,
    download_url: row.location ? `/reports/${row.id}/download` : null,
  };
}

function deliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    channel: d.channel,
    recipient: d.recipient,
    status: d.status,
    mode: d.mode,
    attempts: d.attempts,
    response: d.response,
    error_code: d.error_code,
    retry_at: d.retry_at?.toISOString() ?? null,
    sent_at: d.sent_at?.toISOString() ?? null,
  };
}

function header(headers: ReportRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function triggerOf(headers: ReportRequest['headers']): Trigger {
  if (header(headers, 'x-connector') === 'cron-connector') return 'cron';
  if (header(headers, 'x-topic') !== undefined) return 'kafka';
  return 'http';
}

const GENERATE_EXAMPLE = 'send e.g. {"report_type":"daily_summary","format":"json"}';

function bodyJson(body: unknown): unknown {
  return jsonBody(body, GENERATE_EXAMPLE);
}

function periodsOf(
  deps: ApiDeps,
  type: ReportType,
  body: ReturnType<typeof parseGenerateBody>,
  at: Date,
  newestAnalysed: Period | undefined,
): Period[] {
  const level = PERIOD_LEVEL[type];
  const calendar = deps.settings.calendar;
  if (body.from !== undefined && body.to !== undefined) {
    const from = parsePeriod(body.from, level, calendar);
    const to = parsePeriod(body.to, level, calendar);
    if (to.start < from.start) {
      throw new BatchError('REQUEST_INVALID', `"to" (${to.label}) is before "from" (${from.label})`, {
        context: { field: 'to' },
      });
    }
    const periods = periodsBetween(level, from.start, to.end, calendar);
    if (periods.length > MAX_PERIODS) {
      throw new BatchError(
        'REQUEST_INVALID',
        `"from"–"to" spans ${periods.length} periods; at most ${MAX_PERIODS} per request`,
        {
          context: { field: 'to' },
        },
      );
    }
    return periods;
  }
  if (body.period !== undefined) return [parsePeriod(body.period, level, calendar)];
  if (type === 'capacity_analysis' && newestAnalysed) return [newestAnalysed];
  return [type === 'test' ? periodContaining(level, at, calendar) : lastCompletePeriod(level, at, calendar)];
}

function answerOfResult(result: GenerationResult, wait: boolean): ReportAnswer {
  const reports = result.reports.map(reportView);
  const first = reports[0]!;
  const body = {
    id: first.id,
    status: first.status,
    status_url: first.status_url,
    run_id: result.runId,
    reports,
    ...(wait ? { deliveries: result.deliveries.map(deliveryView) } : {}),
  };
  if (wait && result.error) {
    const code = result.error.code;
    const status = isErrorCode(code) ? errorCatalogue[code].status : 500;
    return { status, body: { ...body, error: result.error } };
  }
  return { status: wait ? 200 : 202, body };
}

function keyDeps(deps: ApiDeps, at: Date): RequestKeyDeps {
  return { db: deps.db, leaseMs: deps.settings.leaseMs, now: at, log: deps.log };
}

/**
 * Refuses e-mail without an SMTP server (SMTP_HOST unset): a delivery queued then could never be sent, however
 * often it were retried. Before any row or delivery exists, so nothing is left behind.
 */
function requireEmail(deps: ApiDeps, asked: string): void {
  if (deps.mailer) return;
  throw new BatchError(
    'EMAIL_DISABLED',
    `${asked}, but e-mail is off: no SMTP server is configured. Set SMTP_HOST (reports.email.host; with SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM as needed — docs/configuration.md) to e-mail reports, or download them from /reports/<id>/download`,
    { context: { field: 'recipients', setting: 'SMTP_HOST' } },
  );
}

async function generate(req: ReportRequest, deps: ApiDeps): Promise<ReportAnswer> {
  requireApiToken(req.headers, deps.apiToken, 'POST /reports/generate');
  const key = requestKeyOf(header(req.headers, 'idempotency-key'));
  const body = parseGenerateBody(bodyJson(req.body));
  if (body.recipients?.length) requireEmail(deps, '"recipients" asks for the reports to be e-mailed');
  const at = deps.clock?.() ?? new Date();
  const newestAnalysed =
    body.type === 'capacity_analysis' ? await newestAnalysedDay(deps.db, deps.settings.calendar) : undefined;
  const periods = periodsOf(deps, body.type, body, at, newestAnalysed);
  for (const p of periods) assertGeneratable(deps.settings, body.type, p, at);
  // refused before any row exists: a capacity report of a day analyze-capacity has not analysed
  if (body.type === 'capacity_analysis') for (const p of periods) await requireCapacityRun(deps.db, p);
  const formats = body.formats ?? deps.settings.formats;
  return answerOnce(keyDeps(deps, at), key, ['POST /reports/generate', body], (requestKey) =>
    generatePeriods(deps, body.type, periods, formats, body, requestKey),
  );
}

/**
 * Generates `periods` (the checks passed): waited for, or queued and answered 202. A waited-for answer is not
 * final when another run held some of the reports: that run generates them, but does not e-mail this request's
 * recipients.
 */
async function generatePeriods(
  deps: ApiDeps,
  type: ReportType,
  periods: readonly Period[],
  formats: readonly ReportFormat[],
  body: ReturnType<typeof parseGenerateBody>,
  requestKey: string | undefined,
): Promise<RequestOutcome> {
  const one = (period: Period) =>
    generateReport(deps, {
      type,
      period,
      formats,
      trigger: 'http',
      recipients: body.recipients,
      requestKey,
    });
  if (body.wait) {
    const results: GenerationResult[] = [];
    for (const period of periods) results.push(await one(period));
    const final = results.every((r) => !r.othersGenerating);
    if (results.length === 1) return { answer: answerOfResult(results[0]!, true), final };
    return {
      answer: {
        status: 200,
        body: { periods: results.length, reports: results.flatMap((r) => r.reports.map(reportView)) },
      },
      final,
    };
  }
  const queued: ReportRow[] = [];
  for (const period of periods) {
    queued.push(
      ...(await ensureReports(deps.db, {
        type,
        periodStart: period.start,
        periodEnd: period.end,
        periodLabel: period.label,
        timeZone: period.timeZone,
        formats,
      })),
    );
  }
  deps.background(async () => {
    for (const period of periods) await one(period);
  });
  const reports = queued.map(reportView);
  return {
    answer: {
      status: 202,
      body: { id: reports[0]!.id, status: reports[0]!.status, status_url: reports[0]!.status_url, reports },
    },
    final: true,
  };
}

async function existingReport(deps: ApiDeps, id: number): Promise<ReportRow> {
  const row = await getReport(deps.db, id);
  if (!row) {
    throw new BatchError('NOT_FOUND', `no report ${id}; GET /reports/list shows the reports there are`, {
      context: { id },
    });
  }
  return row;
}

async function oneReport(deps: ApiDeps, id: number): Promise<ReportAnswer> {
  const row = await existingReport(deps, id);
  return {
    status: 200,
    body: { ...reportView(row), deliveries: (await deliveriesOf(deps.db, id)).map(deliveryView) },
  };
}

async function status(req: ReportRequest, deps: ApiDeps): Promise<ReportAnswer> {
  refuseUnknownParams(req.query, ['id']);
  if (req.query.id !== undefined) return oneReport(deps, parseId(req.query.id, 'id'));
  const at = deps.clock?.() ?? new Date();
  const rows = new Map((await reportTypeStatus(deps.db)).map((r) => [r.report_type, r]));
  const nextCheck = nextCronFire(deps.cron, CRON_TIME_ZONE, at).toISOString();
  const types: Record<string, unknown> = {};
  for (const type of REPORT_TYPES) {
    const r = rows.get(type);
    const scheduled = deps.settings.scheduled.includes(type as never);
    const current = periodContaining(PERIOD_LEVEL[type], at, deps.settings.calendar);
    types[type] = {
      scheduled,
      last_success: r?.last_success_at
        ? { id: r.last_success_id, at: r.last_success_at.toISOString() }
        : null,
      last_failure: r?.last_failure_at
        ? { id: r.last_failure_id, at: r.last_failure_at.toISOString(), error: r.last_failure_error }
        : null,
      running: r?.generating ?? 0,
      waiting_for_retry: r?.retrying ?? 0,
      next_scheduled: scheduled ? { period: current.label, after: current.end.toISOString() } : null,
    };
  }
  return {
    status: 200,
    body: {
      enabled: deps.settings.enabled,
      formats: deps.settings.formats,
      store: deps.store.location,
      // Whether a report can be e-mailed at all (an SMTP server is configured; else EMAIL_DISABLED), and
      // apart from it whether finished reports go to the configured recipients (reports.distribution).
      email: deps.mailer ? 'on' : 'off',
      email_distribution: deps.settings.emailEnabled ? 'on' : 'off',
      next_check: nextCheck,
      types,
    },
  };
}

async function download(deps: ApiDeps, id: number): Promise<ReportAnswer & { stream?: Readable }> {
  const row = await existingReport(deps, id);
  if (!row.location) {
    throw new BatchError(
      'NOT_FOUND',
      `report ${id} has no file yet (status ${row.status}${row.error_code ? `: ${row.error_code}` : ''}); see /reports/status?id=${id}`,
      { context: { id, status: row.status } },
    );
  }
  const stream = await deps.store.stream(row.location);
  return {
    status: 200,
    body: stream,
    headers: {
      'content-type': row.content_type ?? 'application/octet-stream',
      'content-disposition': `attachment; filename="${fileName(row)}"`,
      ...(row.size_bytes !== null ? { 'content-length': String(row.size_bytes) } : {}),
      ...(row.sha256 ? { 'x-content-sha256': row.sha256, etag: `"${row.sha256}"` } : {}),
    },
  };
}

async function deliver(req: ReportRequest, deps: ApiDeps, id: number): Promise<ReportAnswer> {
  requireApiToken(req.headers, deps.apiToken, `POST /reports/${id}/deliver`);
  const key = requestKeyOf(header(req.headers, 'idempotency-key'));
  const raw = bodyJson(req.body) ?? {};
  const parsed = DeliverBody.safeParse(raw);
  if (!parsed.success) throw invalid('body', parsed.error, raw, Object.keys(DeliverBody.shape));
  // a report that does not exist is 404 whatever else is wrong with sending it
  const row = await existingReport(deps, id);
  requireEmail(deps, `POST /reports/${id}/deliver e-mails the report to "recipients"`);
  if (!row.location) {
    throw new BatchError(
      'REPORT_PERIOD_NOT_READY',
      `report ${id} has no stored file to send (status ${row.status})`,
      {
        context: { id },
        retriable: false,
      },
    );
  }
  const template = loadTemplate(row.report_type, deps.settings.templatesDir);
  const recipients =
    parsed.data.recipients ?? (template.recipients.length ? template.recipients : deps.settings.recipients);
  if (recipients.length === 0) {
    throw new BatchError(
      'REQUEST_INVALID',
      'no recipients: give "recipients" or configure BATCH_PROCESSING_REPORT_RECIPIENTS',
      {
        context: { field: 'recipients' },
      },
    );
  }
  const at = deps.clock?.() ?? new Date();
  return answerOnce(
    keyDeps(deps, at),
    key,
    ['POST /reports/{id}/deliver', id, parsed.data],
    async (requestKey) => {
      const deliveries = await emailReports(
        deliveryDeps(deps),
        [row],
        recipients,
        template,
        await storedMessageView(deps, row, template),
        requestKey,
      );
      const body = { id, deliveries: deliveries.map(deliveryView) };
      const failed = deliveries.filter((d) => d.status === 'failed');
      if (failed.length === 0) return { answer: { status: 200, body }, final: true };
      return { answer: deliveryFailure(body, failed), final: true };
    },
  );
}

/**
 * The answer of a delivery that failed: the catalogue's status of its code (SMTP_UNAVAILABLE 503, retried;
 * EMAIL_REJECTED 502, not) and the error object every error answer has, beside the deliveries.
 */
function deliveryFailure(
  body: { id: number; deliveries: Array<ReturnType<typeof deliveryView>> },
  failed: readonly DeliveryRow[],
): ReportAnswer {
  const first = failed[0]!;
  const code = isErrorCode(first.error_code) ? first.error_code : 'INTERNAL';
  const retry = first.retry_at
    ? `retried by the catch-up from ${first.retry_at.toISOString()}`
    : 'not retried';
  const message = `${failed.length} of ${body.deliveries.length} e-mail(s) failed (${code}: ${first.response ?? 'no answer'}); ${retry} — GET /reports/status?id=${body.id} shows each delivery`;
  return { status: errorCatalogue[code].status, body: { ...body, error: { code, message } } };
}

async function catchUpRoute(req: ReportRequest, deps: ApiDeps): Promise<ReportAnswer> {
  const trigger = triggerOf(req.headers);
  let cause: EventCause | undefined;
  if (trigger === 'kafka') {
    // a hxp.batch.events message: only a finished aggregation can make a report due; the rest is acknowledged
    let event: unknown;
    try {
      event = bodyJson(req.body);
    } catch {
      event = undefined;
    }
    cause = eventCause(event);
    const type = cause?.type;
    if (type !== 'aggregation.completed') {
      return {
        status: 200,
        body: { ignored: true, reason: `event type ${JSON.stringify(type)} makes no report due` },
      };
    }
  }
  if (!TRIGGERS.includes(trigger)) throw new BatchError('INTERNAL', `unknown trigger ${trigger}`);
  const summary = await catchUp(deps, trigger, cause);
  return { status: 200, body: { job: REPORT_JOB, ...summary } };
}

type Handler = (req: ReportRequest, deps: ApiDeps, params: Record<string, string>) => Promise<ReportAnswer>;

export const REPORT_ROUTES: ReadonlyArray<Route<Handler>> = [
  { method: 'POST', pattern: '/', handler: catchUpRoute },
  { method: 'POST', pattern: '/reports/generate', handler: generate },
  { method: 'GET', pattern: '/reports/list', handler: (req, deps) => list(req, deps) },
  { method: 'GET', pattern: '/reports/status', handler: status },
  { method: 'GET', pattern: '/reports/:id', handler: (_req, deps, p) => oneReport(deps, parseId(p.id)) },
  {
    method: 'GET',
    pattern: '/reports/:id/download',
    handler: (_req, deps, p) => download(deps, parseId(p.id)),
  },
  {
    method: 'POST',
    pattern: '/reports/:id/deliver',
    handler: (req, deps, p) => deliver(req, deps, parseId(p.id)),
  },
];

async function list(req: ReportRequest, deps: ApiDeps): Promise<ReportAnswer> {
  const q = parseListQuery(req.query);
  const limit = q.limit ?? 50;
  // one row more than the page: a cursor only when a next page has a row (a full last page has none)
  const rows = await listReports(deps.db, {
    type: q.type,
    format: q.format,
    status: q.status,
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
    limit: limit + 1,
    before: q.cursor,
  });
  const page = rows.slice(0, limit);
  return {
    status: 200,
    body: {
      reports: page.map(reportView),
      next_cursor: rows.length > limit ? String(page.at(-1)!.id) : null,
    },
  };
}

export async function handleReportRequest(req: ReportRequest, deps: ApiDeps): Promise<ReportAnswer> {
  const path = req.path.split('?')[0]!.replace(/\/+$/, '') || '/';
  const { route, params } = matchRoute(REPORT_ROUTES, req.method, path);
  return route.handler(req, deps, params);
}
