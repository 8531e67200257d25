// One generation of a (type, period): claim its format rows, build the document once, render and store each
// format (the object is written whole before its row points at it), record the run, announce it, e-mail it.
// And the catch-up step every trigger runs: the periods that are due, the retries that are due.
import { performance } from 'node:perf_hooks';
import type { ObjectStore } from '../archive/index.ts';
import type { CalendarOptions } from '../aggregate/index.ts';
import type { BatchProcessingConfig } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { BatchError, isErrorCode, isRetriable } from '../errors/index.ts';
import {
  BATCH_EVENTS_TOPIC,
  expireAbandonedRuns,
  finishRun,
  jobLeaseMs,
  newLockOwner,
  reportRun,
  startRun,
  type Publish,
  type Trigger,
} from '../jobs/index.ts';
import { chainHeaders, type EventCause, type ReportGeneratedEvent } from '../jobs/events.ts';
import { buildReportDocument, type BuildContext } from './builders/document.ts';
import {
  backoff,
  emailReports,
  retryDueDeliveries,
  type DeliveryDeps,
  type MessageView,
} from './deliver/deliver.ts';
import type { DeliveryRow } from './deliver/deliveries-sql.ts';
import type { Mailer } from './deliver/mailer.ts';
import { ReportDocument } from './model.ts';
import type { ReportMetrics } from './metrics.ts';
import { periodContaining, type Period } from './period.ts';
import { formatValue } from './render/format.ts';
import { renderReport } from './render/index.ts';
import {
  claimReports,
  dueReportRetries,
  getReports,
  heldReportIds,
  duePeriods,
  markReportFailed,
  markReportStored,
  storedReportOf,
  windowDoneSeq,
  type ReportRow,
} from './store/reports-sql.ts';
import { fill, loadTemplate, type ReportTemplate } from './templates.ts';
import { CONTENT_TYPES, PERIOD_LEVEL, type ReportFormat, type ReportType } from './types.ts';

export const REPORT_JOB = 'generate-report';
const DAY_MS = 86_400_000;
const OTHERS_WAIT_MS = 60_000;
const OTHERS_POLL_MS = 250;

export interface ReportLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the report library takes from the configuration. */
export interface ReportSettings {
  enabled: boolean;
  formats: ReportFormat[];
  scheduled: ReportType[];
  catchUpDays: number;
  emailEnabled: boolean;
  recipients: string[];
  templatesDir: string | undefined;
  calendar: CalendarOptions;
  retries: number;
  retryDelayMs: number;
  /** A claim not released within this long belongs to a dead run (jobs.timeoutSeconds + 60 s). */
  leaseMs: number;
  /**
   * How long a generation asked with its own recipients waits for another run that holds some of its formats,
   * to e-mail them once stored (a generation takes seconds; not a configuration key).
   */
  othersWaitMs: number;
  attachLimitBytes: number;
  linkTtlSeconds: number;
  /** Base of download links in e-mails when the store cannot presign (the gateway's function URL). */
  downloadBase: string;
  businessIntelligence: BuildContext['businessIntelligence'];
}

export function reportSettingsFrom(config: BatchProcessingConfig): ReportSettings {
  const r = config.reports;
  return {
    enabled: r.enabled,
    formats: [...r.formats],
    scheduled: [...r.scheduled],
    catchUpDays: r.catchUpDays,
    emailEnabled: r.distribution.includes('email'),
    recipients: [...r.email.recipients],
    templatesDir: r.templatesDir,
    calendar: { timeZone: config.time.zone, weekStart: config.time.weekStart },
    retries: config.jobs.retries,
    retryDelayMs: config.jobs.retryDelaySeconds * 1000,
    leaseMs: jobLeaseMs(config.jobs.timeoutSeconds * 1000),
    othersWaitMs: OTHERS_WAIT_MS,
    attachLimitBytes: r.email.attachLimitBytes,
    linkTtlSeconds: r.email.linkTtlSeconds,
    downloadBase: `${config.openfaas.gatewayUrl.replace(/\/+$/, '')}/function/${REPORT_JOB}`,
    businessIntelligence: {
      enabled: config.businessIntelligence.enabled,
      metrics: [...config.businessIntelligence.metrics],
      lookbackDays: config.businessIntelligence.lookbackDays,
      anomalyThreshold: config.businessIntelligence.anomalyThreshold,
    },
  };
}

export interface ReportDeps {
  db: Database;
  store: ObjectStore;
  settings: ReportSettings;
  metrics: ReportMetrics;
  mailer?: Mailer | undefined;
  log?: ReportLogger | undefined;
  clock?: () => Date;
  publish?: Publish | undefined;
  /** The invocation's request id: the chain id the events this function publishes carry (shared/jobs/events.ts). */
  requestId?: string | undefined;
}

export interface GenerateRequest {
  type: ReportType;
  period: Period;
  formats: readonly ReportFormat[];
  trigger: Trigger;
  /** E-mail these instead of the type's recipients (and even when e-mail is not a scheduled channel). */
  recipients?: readonly string[] | undefined;
  parentRunId?: number | undefined;
  /** The Idempotency-Key of the request that asked: its e-mails are sent once per recipient (emailReports). */
  requestKey?: string | undefined;
}

export interface GenerationResult {
  runId: number | null;
  /**
   * Some formats were still held by another run when this generation ended (after its wait, for a request with
   * recipients of its own): that run generates them, and this one e-mailed nobody for them.
   */
  othersGenerating: boolean;
  reports: ReportRow[];
  deliveries: DeliveryRow[];
  error?: { code: string; message: string };
}

export function objectKey(type: ReportType, period: Period, format: ReportFormat): string {
  return `reports/${type}/${period.startDate}/${type}-${period.label}.${format}`;
}

const now = (deps: ReportDeps): Date => deps.clock?.() ?? new Date();

export function deliveryDeps(deps: ReportDeps): DeliveryDeps {
  const s = deps.settings;
  return {
    db: deps.db,
    store: deps.store,
    mailer: deps.mailer,
    metrics: deps.metrics,
    ...(deps.log ? { log: deps.log } : {}),
    clock: () => now(deps),
    retries: s.retries,
    retryDelayMs: s.retryDelayMs,
    attachLimitBytes: s.attachLimitBytes,
    linkTtlSeconds: s.linkTtlSeconds,
    downloadUrl: (id) => `${s.downloadBase}/reports/${id}/download`,
  };
}

/**
 * Refusals that need no database work: reports off, a type switched off or without its data, a period not
 * over yet. Called before any row is created, so a refused request leaves nothing behind.
 */
export function assertGeneratable(
  settings: ReportSettings,
  type: ReportType,
  period: Period,
  at: Date,
): void {
  if (!settings.enabled) {
    throw new BatchError(
      'REPORT_TYPE_DISABLED',
      'reports are switched off (BATCH_PROCESSING_REPORTS_ENABLED=false)',
      {
        context: { field: 'report_type', report_type: type },
      },
    );
  }
  if (type === 'business_intelligence' && !settings.businessIntelligence.enabled) {
    throw new BatchError(
      'REPORT_TYPE_DISABLED',
      'business_intelligence reports are switched off (BATCH_PROCESSING_BUSINESS_INTELLIGENCE_ENABLED=false)',
      { context: { field: 'report_type', report_type: type } },
    );
  }
  // A capacity analysis is a snapshot of the history up to its run, not an aggregate of the day: a day that has
  // one renders it (the day's newest so far; builders/capacity.ts) before the day ends — what the demo and an
  // analysis asked for by hand leave. The scheduled catch-up only makes days that have ended. The smoke test
  // reports on the period it is in.
  if (type !== 'test' && type !== 'capacity_analysis' && period.end > at) {
    throw new BatchError(
      'REPORT_PERIOD_NOT_READY',
      `${type} ${period.label} ends at ${period.end.toISOString()}; a report is made once its period is over and aggregated — ask for an earlier period, or leave "period" out for the last complete one`,
      { context: { field: 'period', period: period.label, end: period.end.toISOString() }, retriable: false },
    );
  }
}

function errorOf(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown }).code;
  return {
    code: isErrorCode(code) ? code : 'INTERNAL',
    message: err instanceof Error ? err.message : String(err),
  };
}

function messageView(doc: ReportDocument): MessageView {
  const h = doc.data.headline;
  return {
    title: doc.title,
    report_type: doc.report_type,
    period: {
      label: doc.period.label,
      start: doc.period.start,
      end: doc.period.end,
      time_zone: doc.period.time_zone,
    },
    generated_at: doc.generated_at,
    headline: h && {
      requests: formatValue(h.requests.value, 'count'),
      error_rate: formatValue(h.error_rate.value, 'rate'),
      cost_usd: formatValue(h.cost_usd.value, 'usd'),
      // only when some cost was inferred: the e-mail then says how much
      cost_inferred_usd: h.cost_inferred_usd.value ? formatValue(h.cost_inferred_usd.value, 'usd') : '',
      latency_p95_ms: `${formatValue(h.latency_p95_ms.value, 'ms')} ms`,
    },
  };
}

/**
 * The e-mail view of a stored report for a re-send: its (type, period)'s stored JSON document, so the subject
 * and body read as in the first e-mail (title, headline); without one, the template's title over the period.
 */
export async function storedMessageView(
  deps: Pick<ReportDeps, 'db' | 'store' | 'log'>,
  row: ReportRow,
  template: ReportTemplate,
): Promise<MessageView> {
  const json =
    row.format === 'json' ? row : await storedReportOf(deps.db, row.report_type, row.period_start, 'json');
  if (json?.location) {
    try {
      return messageView(
        ReportDocument.parse(JSON.parse((await deps.store.get(json.location)).toString('utf8'))),
      );
    } catch (err) {
      deps.log?.warn(
        { err, id: json.id },
        'the JSON document of the report could not be read; e-mail without its figures',
      );
    }
  }
  const period = {
    label: row.period_label ?? '',
    start: row.period_start.toISOString(),
    end: row.period_end.toISOString(),
    time_zone: row.time_zone,
  };
  const generatedAt = (row.stored_at ?? row.updated_at).toISOString();
  return {
    title: fill(template.title, { report_type: row.report_type, period }),
    report_type: row.report_type,
    period,
    generated_at: generatedAt,
  };
}

/** The run's summary line and run metrics (a generation inside a catch-up is part of that run's report). */
function reportGeneration(
  deps: ReportDeps,
  req: GenerateRequest,
  runId: number,
  startedMs: number,
  formats: number,
  stored: number,
  error: { code: string; message: string } | undefined,
): void {
  deps.metrics.recorded();
  if (req.parentRunId !== undefined) return;
  reportRun(
    { log: deps.log, metrics: deps.metrics.registry, clock: deps.clock },
    {
      job: REPORT_JOB,
      runId,
      trigger: req.trigger,
      result: stored === formats ? 'succeeded' : stored > 0 ? 'partial' : 'failed',
      durationMs: Math.round(performance.now() - startedMs),
      due: formats,
      attempted: formats,
      succeeded: stored,
      error,
      details: { report_type: req.type, period: req.period.label },
    },
  );
}

/**
 * The formats another run holds, once it lets go of them or `settings.othersWaitMs` has passed: their rows as
 * they are then, and whether any is still held.
 */
async function othersOutcome(
  deps: ReportDeps,
  busy: readonly ReportRow[],
): Promise<{ rows: ReportRow[]; held: boolean }> {
  const ids = busy.map((r) => r.id);
  const deadline = performance.now() + deps.settings.othersWaitMs;
  let held = await heldReportIds(deps.db, ids, deps.settings.leaseMs);
  while (held.length > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, OTHERS_POLL_MS));
    held = await heldReportIds(deps.db, held, deps.settings.leaseMs);
  }
  return { rows: await getReports(deps.db, ids), held: held.length > 0 };
}

const isStored = (r: ReportRow): boolean => r.status === 'stored' && r.error_code === null;

/**
 * E-mails stored reports of the request. A message that cannot even be prepared (a template, the stored
 * document) is logged, never a failed report: the reports are stored.
 */
async function emailSafely(
  deps: ReportDeps,
  req: GenerateRequest,
  reports: readonly ReportRow[],
  recipients: readonly string[],
  message: () =>
    | { template: ReportTemplate; view: MessageView }
    | Promise<{ template: ReportTemplate; view: MessageView }>,
): Promise<DeliveryRow[]> {
  try {
    const { template, view } = await message();
    return await emailReports(deliveryDeps(deps), reports, recipients, template, view, req.requestKey);
  } catch (err) {
    deps.log?.error(
      { err, report_type: req.type, period: req.period.label },
      'report e-mail could not be prepared',
    );
    return [];
  }
}

export async function generateReport(deps: ReportDeps, req: GenerateRequest): Promise<GenerationResult> {
  const { db, settings } = deps;
  const owner = newLockOwner();
  const { claimed, busy } = await claimReports(db, {
    type: req.type,
    periodStart: req.period.start,
    periodEnd: req.period.end,
    periodLabel: req.period.label,
    timeZone: req.period.timeZone,
    formats: req.formats,
    owner,
    leaseMs: settings.leaseMs,
  });
  if (claimed.length === 0) {
    deps.log?.info(
      { report_type: req.type, period: req.period.label },
      'another run is generating this report',
    );
    if (!req.recipients?.length)
      return { runId: null, othersGenerating: true, reports: busy, deliveries: [] };
    // that run e-mails its own recipients, not these: they get the report once it is stored
    const others = await othersOutcome(deps, busy);
    const mailed = others.rows.filter(isStored);
    const deliveries =
      others.held || mailed.length === 0
        ? []
        : await emailSafely(deps, req, mailed, req.recipients, async () => {
            const template = loadTemplate(req.type, settings.templatesDir);
            return { template, view: await storedMessageView(deps, mailed[0]!, template) };
          });
    return { runId: null, othersGenerating: others.held, reports: others.rows, deliveries };
  }
  const runId = await startRun(db, {
    job: REPORT_JOB,
    trigger: req.trigger,
    windowStart: req.period.start,
    windowEnd: req.period.end,
    details: {
      report_type: req.type,
      period: req.period.label,
      formats: claimed.map((r) => r.format),
      ...(req.parentRunId ? { parentRunId: req.parentRunId } : {}),
    },
  });
  const started = performance.now();
  // The window's done_seq, read once on the first failure: the data this generation's attempts fail on.
  let failedSeq: Promise<number | null> | undefined;
  /**
   * Records a failed attempt of one format. A wait for aggregation (REPORT_PERIOD_NOT_READY) is no failure of
   * the report: it spends no retry (the count starts afresh, the data is changing) and is tried again after the
   * retry delay, or as soon as the window is final (duePeriods). Any other failure counts against the data it
   * failed on — afresh when late data changed the window since the last failure — and is retried with backoff
   * while retriable and retries are left; then it stops until a request or new data.
   */
  const fail = async (row: ReportRow, err: unknown): Promise<ReportRow> => {
    const e = errorOf(err);
    const seq = await (failedSeq ??= windowDoneSeq(db, PERIOD_LEVEL[req.type], req.period.start));
    const waiting = e.code === 'REPORT_PERIOD_NOT_READY';
    const attempts = waiting ? 0 : (row.failed_seq === seq ? row.attempts : 0) + 1;
    const retryAt = !isRetriable(err)
      ? null
      : waiting
        ? backoff(now(deps), settings.retryDelayMs, 1)
        : attempts <= settings.retries
          ? backoff(now(deps), settings.retryDelayMs, attempts)
          : null;
    deps.metrics.generated.inc({ report_type: req.type, format: row.format, result: 'failure' });
    return (
      (await markReportFailed(db, row.id, owner, { ...e, attempts, failedSeq: seq, retryAt, runId })) ?? row
    );
  };
  const failAll = async (err: unknown): Promise<ReportRow[]> => {
    const out: ReportRow[] = [];
    for (const row of claimed) out.push(await fail(row, err));
    return out;
  };

  let template: ReportTemplate;
  let document: ReportDocument;
  let windowSeq: number | null;
  try {
    template = loadTemplate(req.type, settings.templatesDir);
    ({ document, windowSeq } = await buildReportDocument(
      {
        db,
        calendar: settings.calendar,
        businessIntelligence: settings.businessIntelligence,
        storeLocation: deps.store.location,
      },
      { type: req.type, period: req.period, template, now: now(deps) },
    ));
  } catch (err) {
    const reports = await failAll(err);
    const error = errorOf(err);
    await finishRun(db, runId, { status: 'failed', errorCode: error.code, error: error.message, rowsOut: 0 });
    deps.log?.warn({ err, report_type: req.type, period: req.period.label }, 'report could not be built');
    reportGeneration(deps, req, runId, started, claimed.length, 0, error);
    return {
      runId,
      othersGenerating: busy.length > 0,
      reports: [...reports, ...busy],
      deliveries: [],
      error,
    };
  }
  const buildMs = performance.now() - started;

  const reports: ReportRow[] = [];
  let firstError: { code: string; message: string } | undefined;
  for (const row of claimed) {
    const t0 = performance.now();
    const labels = { report_type: req.type, format: row.format };
    try {
      const body = await renderReport(document, row.format);
      const renderMs = Math.round(performance.now() - t0);
      const key = objectKey(req.type, req.period, row.format);
      const put = await deps.store.put(key, body, { contentType: CONTENT_TYPES[row.format] });
      deps.metrics.distributed.inc({ channel: 's3', result: 'success' });
      const stored = await markReportStored(db, row.id, owner, {
        location: key,
        contentType: CONTENT_TYPES[row.format],
        sizeBytes: put.size,
        sha256: put.sha256,
        renderMs,
        sourceSeq: windowSeq,
        runId,
      });
      reports.push(stored ?? row);
      deps.metrics.generated.inc({ ...labels, result: 'success' });
      deps.metrics.duration.observe(labels, (performance.now() - t0 + buildMs / claimed.length) / 1000);
    } catch (err) {
      const e = errorOf(err);
      firstError ??= e;
      if (e.code === 'S3_UNAVAILABLE') deps.metrics.distributed.inc({ channel: 's3', result: 'failure' });
      const failed = await fail(row, err);
      reports.push(failed);
      deps.log?.warn(
        {
          err,
          report_type: req.type,
          format: row.format,
          period: req.period.label,
          retryAt: failed.retry_at,
        },
        'report format failed',
      );
    }
  }
  const stored = reports.filter(isStored);
  await finishRun(db, runId, {
    status: firstError ? 'failed' : 'succeeded',
    rowsOut: stored.length,
    errorCode: firstError?.code,
    error: firstError?.message,
    details: { durationMs: Math.round(performance.now() - started), ids: reports.map((r) => r.id) },
  });
  reportGeneration(deps, req, runId, started, claimed.length, stored.length, firstError);
  if (stored.length > 0 && deps.publish) {
    const event: ReportGeneratedEvent = {
      type: 'report.generated',
      report_type: req.type,
      period: req.period.label,
      period_start: req.period.start.toISOString(),
      formats: stored.map((r) => r.format),
      ids: stored.map((r) => r.id),
      runId,
      ...(deps.requestId ? { requestId: deps.requestId } : {}),
      at: now(deps).toISOString(),
    };
    await deps
      .publish(BATCH_EVENTS_TOPIC, `${req.type}:${req.period.label}`, event, chainHeaders(event))
      .catch((err: unknown) => deps.log?.warn({ err }, 'could not publish report.generated'));
  }

  // formats another run holds: a request with recipients of its own waits for them, to e-mail them too
  const others =
    busy.length > 0 && req.recipients?.length
      ? await othersOutcome(deps, busy)
      : { rows: busy, held: busy.length > 0 };
  const mailed = [...stored, ...others.rows.filter(isStored)];
  const recipients =
    req.recipients ??
    (settings.emailEnabled ? (template.recipients.length ? template.recipients : settings.recipients) : []);
  const deliveries =
    mailed.length > 0 && recipients.length > 0
      ? await emailSafely(deps, req, mailed, recipients, () => ({ template, view: messageView(document) }))
      : [];
  return {
    runId,
    othersGenerating: others.held,
    reports: [...reports, ...others.rows],
    deliveries,
    ...(firstError ? { error: firstError } : {}),
  };
}

/** The catch-up's summary line and run metrics: its units are the report formats it generated. */
function reportCatchUp(
  deps: ReportDeps,
  trigger: Trigger,
  runId: number,
  startedMs: number,
  summary: CatchUpSummary,
  error: { code: string; message: string } | undefined,
  cause: EventCause | undefined,
): void {
  const stored = summary.generated.reduce((n, g) => n + g.stored, 0);
  const attempted = summary.generated.reduce((n, g) => n + g.stored + g.failed, 0);
  reportRun(
    { log: deps.log, metrics: deps.metrics.registry, clock: deps.clock },
    {
      job: REPORT_JOB,
      runId,
      trigger,
      result: error
        ? 'failed'
        : summary.status === 'failed'
          ? stored > 0
            ? 'partial'
            : 'failed'
          : 'succeeded',
      durationMs: Math.round(performance.now() - startedMs),
      due: attempted,
      attempted,
      succeeded: stored,
      error,
      cause,
      details: { step: 'catch-up', generated: summary.generated.length, emails: summary.emails },
    },
  );
}

export interface CatchUpSummary {
  runId: number;
  status: 'succeeded' | 'failed' | 'skipped';
  generated: Array<{ report_type: ReportType; period: string; stored: number; failed: number }>;
  emails: { sent: number; failed: number };
}

/** The step every trigger runs (event, cron, HTTP): scheduled periods due, failed reports and e-mails due. */
/** `cause`: the hxp.batch.events message that made this catch-up run, kept in its ledger row and summary line. */
export async function catchUp(
  deps: ReportDeps,
  trigger: Trigger,
  cause?: EventCause,
): Promise<CatchUpSummary> {
  const { db, settings } = deps;
  const at = now(deps);
  if (!settings.enabled) {
    const runId = await startRun(db, {
      job: REPORT_JOB,
      trigger,
      status: 'skipped',
      details: { reason: 'reports.enabled is false' },
    });
    return { runId, status: 'skipped', generated: [], emails: { sent: 0, failed: 0 } };
  }
  const started = performance.now();
  const runId = await startRun(db, {
    job: REPORT_JOB,
    trigger,
    details: { step: 'catch-up', now: at.toISOString(), ...(cause ? { cause } : {}) },
  });
  // Report runs of several invocations may overlap, so no lock proves an older one dead; one started longer
  // ago than the lease was abandoned (its process crashed, or it could not mark itself finished).
  const abandoned = await expireAbandonedRuns(db, REPORT_JOB, runId, settings.leaseMs);
  if (abandoned.length > 0) {
    deps.log?.warn(
      { job: REPORT_JOB, runIds: abandoned },
      'report runs left running past their lease marked failed',
    );
  }
  const summary: CatchUpSummary = {
    runId,
    status: 'succeeded',
    generated: [],
    emails: { sent: 0, failed: 0 },
  };
  const record = (type: ReportType, period: Period, result: GenerationResult): void => {
    summary.generated.push({
      report_type: type,
      period: period.label,
      stored: result.reports.filter((r) => r.status === 'stored' && r.error_code === null).length,
      failed: result.reports.filter((r) => r.error_code !== null).length,
    });
  };
  try {
    const since = new Date(at.getTime() - settings.catchUpDays * DAY_MS);
    for (const type of settings.scheduled) {
      if (type === 'business_intelligence' && !settings.businessIntelligence.enabled) continue;
      const level = PERIOD_LEVEL[type];
      const due = await duePeriods(db, {
        type,
        level,
        formats: settings.formats,
        since,
        now: at,
        timeZone: settings.calendar.timeZone,
      });
      for (const window of due) {
        const period = periodContaining(level, window.bucket, settings.calendar);
        record(
          type,
          period,
          await generateReport(deps, {
            type,
            period,
            formats: window.formats,
            trigger,
            parentRunId: runId,
          }),
        );
      }
    }
    for (const retry of await dueReportRetries(db, at, settings.retries, settings.leaseMs)) {
      const period = periodContaining(PERIOD_LEVEL[retry.report_type], retry.period_start, settings.calendar);
      record(
        retry.report_type,
        period,
        await generateReport(deps, {
          type: retry.report_type,
          period,
          formats: retry.formats,
          trigger,
          parentRunId: runId,
        }),
      );
    }
    summary.emails = await retryDueDeliveries(deliveryDeps(deps));
    const failed = summary.generated.reduce((n, g) => n + g.failed, 0);
    summary.status = failed > 0 ? 'failed' : 'succeeded';
    await finishRun(db, runId, {
      status: summary.status,
      rowsOut: summary.generated.reduce((n, g) => n + g.stored, 0),
      details: { generated: summary.generated, emails: summary.emails },
    });
    reportCatchUp(deps, trigger, runId, started, summary, undefined, cause);
    return summary;
  } catch (err) {
    const e = errorOf(err);
    await finishRun(db, runId, {
      status: 'failed',
      errorCode: e.code,
      error: e.message,
      details: { generated: summary.generated },
    });
    reportCatchUp(deps, trigger, runId, started, summary, e, cause);
    throw err;
  }
}
