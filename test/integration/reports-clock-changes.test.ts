// Reports in America/Havana around 2026-11-01, whose midnight the clocks repeat (01:00 CDT back to 00:00 CST):
// that day starts at the first 00:00 (04:00Z) and lasts 25 hours. One request at :20 of every UTC hour, so
// every local day has data. Regressions: business_intelligence for the Sunday week of 2026-11-01 reached back
// 28 × 24 hours, an hour past the local midnight of 2026-10-11, and showed 27 of its 28 days; the daily
// summary's per-hour table began "2026-11-01 00:00 | 24:00".
import type { Database } from '../../shared/db/index.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { buildReportDocument } from '../../shared/reports/builders/document.ts';
import { reportSettingsFrom } from '../../shared/reports/generate.ts';
import type { ReportDocument } from '../../shared/reports/model.ts';
import type { ReportType } from '../../shared/reports/types.ts';
import { parsePeriod } from '../../shared/reports/period.ts';
import { renderReport } from '../../shared/reports/render/index.ts';
import { layout } from '../../shared/reports/render/layout.ts';
import { loadTemplate } from '../../shared/reports/templates.ts';
import { pdfText } from '../helpers/report-files.ts';
import { bothBackends, deps, runAllLevels, storeTestEvents, type TestEvent } from './aggregate-fixtures.ts';

const ZONE = 'America/Havana';
const HOUR_MS = 3_600_000;
const NOW = new Date('2026-12-01T00:00:00Z');

async function havanaHours(db: Database): Promise<void> {
  const events: TestEvent[] = [];
  for (let h = Date.parse('2026-10-03T00:00:00Z'); h < Date.parse('2026-11-10T00:00:00Z'); h += HOUR_MS) {
    events.push({
      ts: new Date(h + 20 * 60_000),
      dims: { model: 'm1' },
      metrics: { latency_ms: 100, tokens_in: 10, tokens_out: 5, cost_usd: 0.01, error: 0 },
    });
  }
  await storeTestEvents(db, events);
  await runAllLevels(deps(db, { timeZone: ZONE, weekStart: 'sunday' }), NOW);
}

async function report(db: Database, type: ReportType, level: 'day' | 'week', text: string) {
  const settings = reportSettingsFrom(
    loadConfig({
      env: { BATCH_PROCESSING_TIMEZONE: ZONE, BATCH_PROCESSING_WEEK_START: 'sunday' },
      secretsDir: '/nonexistent',
      file: null,
    }),
  );
  const { document } = await buildReportDocument(
    {
      db,
      calendar: settings.calendar,
      businessIntelligence: settings.businessIntelligence,
      storeLocation: 'test',
    },
    {
      type,
      period: parsePeriod(text, level, settings.calendar),
      template: loadTemplate(type, undefined),
      now: NOW,
    },
  );
  return document;
}

const tableTitle = (doc: ReportDocument, id: string): string | undefined =>
  layout(doc)
    .flatMap((b) => b.tables)
    .find((x) => x.id === id)?.title;

bothBackends(
  'America/Havana around its repeated midnight: BI trends over 28 local days, the per-hour table read apart',
  async (t, db) => {
    t.timeout(240_000, 'five weeks of hours aggregated, two reports rendered');
    await havanaHours(db);

    const bi = await report(db, 'business_intelligence', 'week', '2026-11-01');
    t.is(bi.period.start, '2026-11-01T04:00:00.000Z');
    t.is(bi.period.end, '2026-11-08T05:00:00.000Z');
    const trends = bi.data.trends!;
    const days = trends.points.filter((p) => p.metric === 'cost_usd').map((p) => p.day);
    t.is(days.length, 28);
    t.is(days[0], '2026-10-11', 'from the local midnight 28 dates before the end');
    t.is(days.at(-1), '2026-11-07');
    t.true(
      trends.rows.filter((r) => r.metric !== 'rating').every((r) => r.points === 28),
      'a point for each day of the lookback',
    );
    t.is(tableTitle(bi, 'trends'), 'Daily trends over the 28 days to 2026-11-07: 28 days with data');
    t.is(bi.data.anomalies!.baseline_weeks, 4, 'four whole weeks before the period, by local dates');

    const day = await report(db, 'daily_summary', 'day', '2026-11-01');
    t.is(day.data.hourly!.length, 25);
    const text = await pdfText(await renderReport(day, 'pdf'));
    t.regex(text, /2026-11-01 00:00 \u221204\s+00:00 \u221205\s+1\b/, 'the first 00:00 ends at the second');
    t.regex(text, /2026-11-01 00:00 \u221205\s+01:00\s+1\b/);
    t.regex(text, /2026-11-01 23:00\s+24:00\s+1\b/, 'the day ends at 24:00');
    t.notRegex(text, /00:00\s+24:00/);
  },
);
