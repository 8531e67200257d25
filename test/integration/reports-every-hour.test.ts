// The per-hour rows cover every hour of the period, with or without events: an hour without any is a row of
// zeros (and no p95), in the JSON, CSV, PDF and DOCX, and the chart draws it at zero. Regression:
// weekly_summary 2026-W49 had 157 rows for its 168 hours, and the weekly area chart drew a straight line
// across the missing hours, hiding an outage.
import { buildReportDocument } from '../../shared/reports/builders/document.ts';
import { reportSettingsFrom } from '../../shared/reports/generate.ts';
import type { ReportDocument } from '../../shared/reports/model.ts';
import { parsePeriod } from '../../shared/reports/period.ts';
import { renderReport } from '../../shared/reports/render/index.ts';
import { chartsOf } from '../../shared/reports/render/charts.ts';
import { loadTemplate } from '../../shared/reports/templates.ts';
import { loadConfig } from '../../shared/config/index.ts';
import type { Database } from '../../shared/db/index.ts';
import type { Level } from '../../shared/aggregate/index.ts';
import { loadReportFixture } from '../fixtures/report-data.ts';
import { csvRecords, docxTableRows, pdfText } from '../helpers/report-files.ts';
import { bothBackends } from './aggregate-fixtures.ts';

// the fixture's 3 days (2026-11-26 to 28) less an outage of two hours; the week 2026-W48 runs to 11-30
const NOW = new Date('2026-11-30T00:30:00Z');
const OUTAGE = ['2026-11-27T10:00:00.000Z', '2026-11-27T11:00:00.000Z'];

async function build(db: Database, type: 'daily_summary' | 'weekly_summary', label: string, level: Level) {
  const settings = reportSettingsFrom(loadConfig({ env: {}, secretsDir: '/nonexistent', file: null }));
  const { document } = await buildReportDocument(
    {
      db,
      calendar: settings.calendar,
      businessIntelligence: settings.businessIntelligence,
      storeLocation: 't',
    },
    {
      type,
      period: parsePeriod(label, level, settings.calendar),
      template: loadTemplate(type, undefined),
      now: NOW,
    },
  );
  return document;
}

function hourlyOf(doc: ReportDocument) {
  return doc.data.hourly!;
}

bothBackends(
  'an hour without events is a row of zeros in every format, and zero in the chart',
  async (t, db) => {
    t.timeout(240_000, 'fixture ingest + aggregation + renders on a shared machine');
    await loadReportFixture(db, {
      now: NOW,
      outage: { from: new Date(OUTAGE[0]!), to: new Date('2026-11-27T12:00:00Z') },
    });

    const week = await build(db, 'weekly_summary', '2026-W48', 'week');
    const hourly = hourlyOf(week);
    t.is(week.data.completeness!.hours_expected, 168);
    t.is(hourly.length, 168, 'every hour of the week, not only the 70 with events');
    t.is(hourly[0]!.hour, week.period.start);
    t.is(hourly.at(-1)!.hour_end, week.period.end);
    for (const [i, h] of hourly.entries()) if (i > 0) t.is(h.hour, hourly[i - 1]!.hour_end);
    for (const at of [...OUTAGE, '2026-11-23T00:00:00.000Z', '2026-11-29T23:00:00.000Z']) {
      const row = hourly.find((h) => h.hour === at);
      t.deepEqual(row && { ...row, hour: undefined, hour_end: undefined }, {
        hour: undefined,
        hour_end: undefined,
        requests: 0,
        errors: 0,
        cost_usd: 0,
        latency_p95_ms: null,
      });
    }
    t.is(week.data.completeness!.hours_with_data, 70);
    t.is(
      hourly.reduce((n, h) => n + h.requests, 0),
      week.data.headline!.requests.value!,
      'the rows still add up to the headline',
    );
    // the host's series too: every hour, its mean null where it sent nothing (a gap, not 0 %)
    const cpu = week.data.hosts!.hourly.filter((r) => r.host === 'gpu-node-1' && r.metric === 'cpu_usage');
    t.is(cpu.length, 168);
    t.is(cpu.find((r) => r.hour === OUTAGE[0])!.mean, null);
    // the chart draws the outage at zero, not a line from 09:00 to 12:00
    const chart = chartsOf(week).find((c) => c.id === 'requests_per_hour')!;
    const values = (chart.spec as { data: { values: Array<{ requests: number }> } }).data.values;
    t.is(values.length, 168);
    t.is(values.filter((v) => v.requests === 0).length, 98);

    // the day: 24 rows in every format
    const day = await build(db, 'daily_summary', '2026-11-27', 'day');
    t.is(hourlyOf(day).length, 24);
    const csv = csvRecords(await renderReport(day, 'csv'));
    const csvHours = csv.filter((r) => r.table === 'hourly' && r.column === 'requests');
    t.is(csvHours.length, 24);
    t.is(csvHours[10]!.value, '0');
    t.is(csv.find((r) => r.table === 'hourly' && r.row === '11' && r.column === 'latency_p95_ms')!.value, '');
    const text = await pdfText(await renderReport(day, 'pdf'));
    t.regex(text, /2026-11-27 10:00\s+11:00\s+0\s+0\s+\$0\.0+\s+—/);
    t.regex(text, /2026-11-27 11:00\s+12:00\s+0\s+0\s+\$0\.0+\s+—/);
    const docx = docxTableRows(await renderReport(day, 'docx'));
    const row = docx.find((r) => r[0] === '2026-11-27 10:00');
    t.truthy(row, 'the DOCX table has the hour');
    t.deepEqual(row!.slice(1, 4), ['11:00', '0', '0']);
    t.is(row!.at(-1), '—');
  },
);
