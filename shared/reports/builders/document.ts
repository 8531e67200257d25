// Builds the report document of one (type, period): checks the period is over and its aggregation final,
// reads the sections from the aggregate views, and lays the type's template over it (title, footer, sections).
import { edgeHourParts, type CalendarOptions } from '../../aggregate/index.ts';
import type { Queryable } from '../../db/index.ts';
import { BatchError } from '../../errors/index.ts';
import { ReportDocument, type SectionData } from '../model.ts';
import { previousPeriod, type Period } from '../period.ts';
import { zonedTimeText } from '../render/format.ts';
import { fill, type ReportTemplate } from '../templates.ts';
import { isSummaryType, type ReportType } from '../types.ts';
import { buildBusinessIntelligence, type BiSettings } from './business-intelligence.ts';
import { buildSummary } from './summary.ts';
import { buildCapacity } from './capacity.ts';
import { periodReadiness, VIEW_OF } from './summary-sql.ts';

export interface BuildRequest {
  type: ReportType;
  period: Period;
  template: ReportTemplate;
  now: Date;
}

export interface BuildContext {
  db: Queryable;
  calendar: CalendarOptions;
  businessIntelligence: BiSettings & { enabled: boolean };
  /** What the test report says about the store it goes to. */
  storeLocation: string;
}

export interface BuiltReport {
  document: ReportDocument;
  /** done_seq of the period's aggregation window (null for types not built from one). */
  windowSeq: number | null;
}

/** Throws unless the period has ended and no window inside it still waits for aggregation. */
async function assertFinal(
  db: Queryable,
  type: ReportType,
  period: Period,
  now: Date,
): Promise<number | null> {
  if (period.end > now) {
    throw new BatchError(
      'REPORT_PERIOD_NOT_READY',
      `${type} ${period.label} ends at ${period.end.toISOString()}; a report is made once its period is over and aggregated — ask for an earlier period, or leave "period" out for the last complete one`,
      { context: { field: 'period', period: period.label, end: period.end.toISOString() } },
    );
  }
  const ready = await periodReadiness(db, period.level, period.start, period.end);
  if (ready.pending > 0) {
    throw new BatchError(
      'REPORT_PERIOD_NOT_READY',
      `${type} ${period.label}: ${ready.pending} aggregation window(s) of the period are not final yet (new or late data); the report is made when aggregation has caught up — it retries by itself`,
      { context: { period: period.label, pending: ready.pending }, retriable: true },
    );
  }
  return ready.windowSeq;
}

async function testChecks(ctx: BuildContext, now: Date): Promise<SectionData> {
  const { rows } = await ctx.db.query<{ version: string; windows: string }>(
    `SELECT current_setting('server_version') AS version, (SELECT count(*) FROM aggregation_windows) AS windows`,
  );
  return {
    checks: [
      { check: 'database', result: `reachable (PostgreSQL ${rows[0]?.version ?? '?'})` },
      { check: 'aggregation windows tracked', result: String(rows[0]?.windows ?? 0) },
      { check: 'report store', result: ctx.storeLocation },
      { check: 'rendered at', result: now.toISOString() },
    ],
  };
}

/** The views and tables a report's numbers come from (its subtitle says so). */
function sourcesOf(type: ReportType, period: Period): string[] {
  if (type === 'test') return [];
  if (type === 'capacity_analysis') return ['capacity_analyses', 'capacity_forecast_points'];
  if (period.level === 'hour') return [VIEW_OF.hour];
  // a summary's per-hour rows at the edges of a period that starts inside a UTC hour (Asia/Kolkata)
  const parts = isSummaryType(type) && edgeHourParts(period.start, period.end).length > 0;
  return [VIEW_OF[period.level], 'hourly_aggregations', ...(parts ? ['aggregate_quarter_state'] : [])];
}

export async function buildReportDocument(ctx: BuildContext, req: BuildRequest): Promise<BuiltReport> {
  const { type, period, template, now } = req;
  let data: SectionData;
  let windowSeq: number | null = null;
  const previous = previousPeriod(period, ctx.calendar);
  if (isSummaryType(type)) {
    windowSeq = await assertFinal(ctx.db, type, period, now);
    data = await buildSummary(ctx.db, { period, previous, until: now });
  } else if (type === 'business_intelligence') {
    if (!ctx.businessIntelligence.enabled) {
      throw new BatchError(
        'REPORT_TYPE_DISABLED',
        'business_intelligence reports are switched off (BATCH_PROCESSING_BUSINESS_INTELLIGENCE_ENABLED=false)',
        { context: { field: 'report_type', report_type: type } },
      );
    }
    windowSeq = await assertFinal(ctx.db, type, period, now);
    data = await buildBusinessIntelligence(ctx.db, period, ctx.calendar, ctx.businessIntelligence);
  } else if (type === 'capacity_analysis') {
    data = await buildCapacity(ctx.db, period);
  } else {
    data = await testChecks(ctx, now);
  }
  const view = {
    report_type: type,
    period: {
      label: period.label,
      start: period.start.toISOString(),
      end: period.end.toISOString(),
      time_zone: period.timeZone,
    },
    // as the PDF and DOCX subtitle writes it: local time of the report's zone, named
    generated_at: zonedTimeText(now.toISOString(), period.timeZone),
  };
  const sections = template.sections.filter((s) => data[s] !== undefined);
  const shown: SectionData = {};
  for (const s of sections) (shown as Record<string, unknown>)[s] = data[s];
  const document = ReportDocument.parse({
    schema_version: 1,
    report_type: type,
    title: fill(template.title, view),
    footer: fill(template.footer, view),
    period: { ...view.period, level: period.level },
    previous_period:
      type === 'test' || type === 'capacity_analysis'
        ? null
        : { label: previous.label, start: previous.start.toISOString(), end: previous.end.toISOString() },
    generated_at: now.toISOString(),
    source: {
      views: sourcesOf(type, period),
      window_seq: windowSeq,
    },
    sections,
    data: shown,
  });
  return { document, windowSeq };
}
