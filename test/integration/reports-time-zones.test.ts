// Reports in a zone whose days start inside a UTC hour (Asia/Kolkata, +05:30: midnight is 18:30 UTC). The
// per-hour rows cover the day exactly — its first half hour and its last, from the edge hours' quarter-hour
// state, then the whole UTC hours between (00:30–01:30 local …) — so they add up to the headline, which the
// day's rollup takes from the same quarters; every format names the zone as configured, not ICU's older link
// (Asia/Calcutta). Regression: the rows were the whole UTC hours starting in the day (00:30–23:30 local),
// missing the first half hour and counting the next day's first half hour (922 requests beside 913).
import type { ExecutionContext } from 'ava';
import { loadConfig } from '../../shared/config/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { buildReportDocument } from '../../shared/reports/builders/document.ts';
import { reportSettingsFrom } from '../../shared/reports/generate.ts';
import type { ReportDocument } from '../../shared/reports/model.ts';
import { parsePeriod } from '../../shared/reports/period.ts';
import { renderReport } from '../../shared/reports/render/index.ts';
import { loadTemplate } from '../../shared/reports/templates.ts';
import { dailySummary } from '../../runtime/demo/run-demo.ts';
import { loadReportFixture, rawMetric } from '../fixtures/report-data.ts';
import { csvRecords, pdfText } from '../helpers/report-files.ts';
import { bothBackends } from './aggregate-fixtures.ts';

const ZONE = 'Asia/Kolkata';
const HOUR_MS = 3_600_000;

async function kolkataDay(db: Database, now: Date, day: string): Promise<ReportDocument> {
  // as a user configures it: the zone's current name, which Node's ICU resolves to Asia/Calcutta
  const settings = reportSettingsFrom(
    loadConfig({ env: { BATCH_PROCESSING_TIMEZONE: ZONE }, secretsDir: '/nonexistent', file: null }),
  );
  const { document } = await buildReportDocument(
    {
      db,
      calendar: settings.calendar,
      businessIntelligence: settings.businessIntelligence,
      storeLocation: 'test',
    },
    {
      type: 'daily_summary',
      period: parsePeriod(day, 'day', settings.calendar),
      template: loadTemplate('daily_summary', undefined),
      now,
    },
  );
  return document;
}

async function rawRequests(db: Database, from: string, to: string) {
  const { rows } = await db.query<{ requests: number; errors: number; cost_usd: number }>(
    `SELECT count(*)::int AS requests,
            count(*) FILTER (WHERE (data->>'error')::boolean)::int AS errors,
            coalesce(sum(${rawMetric('cost_usd')}::numeric), 0)::float8 AS cost_usd
     FROM raw_events WHERE event_type = 'llm_request' AND ts >= $1 AND ts < $2`,
    [from, to],
  );
  return rows[0]!;
}

function checkSpans(
  t: ExecutionContext,
  doc: ReportDocument,
  spans: ReadonlyArray<{ hour: string; hour_end: string }>,
) {
  t.is(spans[0]!.hour, doc.period.start, 'the first row starts with the day');
  t.is(spans.at(-1)!.hour_end, doc.period.end, 'the last row ends with the day');
  for (const [i, s] of spans.entries()) {
    t.true(Date.parse(s.hour) < Date.parse(s.hour_end), `row ${i} is a span`);
    t.true(Date.parse(s.hour_end) - Date.parse(s.hour) <= HOUR_MS, `row ${i} is an hour at most`);
    if (i > 0)
      t.true(Date.parse(spans[i - 1]!.hour_end) <= Date.parse(s.hour), `row ${i} follows row ${i - 1}`);
  }
}

bothBackends(
  'Asia/Kolkata daily summary: the per-hour rows cover the local day and add up to its headline',
  async (t, db) => {
    t.timeout(240_000, 'fixture ingest + aggregation + renders on a shared machine');
    const fx = await loadReportFixture(db, { timeZone: ZONE });
    const doc = await kolkataDay(db, fx.now, '2026-11-28');
    t.is(doc.period.time_zone, ZONE, 'the zone as configured');
    t.is(doc.period.start, '2026-11-27T18:30:00.000Z');
    t.is(doc.period.end, '2026-11-28T18:30:00.000Z');
    t.deepEqual(doc.source.views, ['daily_aggregations', 'hourly_aggregations', 'aggregate_quarter_state']);

    const hourly = doc.data.hourly!;
    const h = doc.data.headline!;
    const raw = await rawRequests(db, doc.period.start, doc.period.end);
    t.is(h.requests.value, raw.requests);
    // 23 whole UTC hours and the two half hours at the day's edges
    t.is(hourly.length, 25);
    checkSpans(t, doc, hourly);
    t.deepEqual(
      [hourly[0]!.hour_end, hourly.at(-1)!.hour],
      ['2026-11-27T19:00:00.000Z', '2026-11-28T18:00:00.000Z'],
    );
    const sum = (key: 'requests' | 'errors' | 'cost_usd') => hourly.reduce((n, r) => n + r[key], 0);
    t.is(sum('requests'), h.requests.value!);
    t.is(sum('errors'), h.errors.value!);
    t.true(Math.abs(sum('cost_usd') - h.cost_usd.value!) < 1e-9, `${sum('cost_usd')} vs ${h.cost_usd.value}`);
    // each row is what happened in its span
    for (const row of [hourly[0]!, hourly[1]!, hourly.at(-1)!]) {
      const span = await rawRequests(db, row.hour, row.hour_end);
      t.is(row.requests, span.requests, `${row.hour}–${row.hour_end}`);
      t.is(row.errors, span.errors, `${row.hour}–${row.hour_end}`);
    }
    t.true(hourly[0]!.latency_p95_ms !== null, 'the half hour has its own p95 (merged quarter sketches)');
    // the busiest hour is a whole one: a half hour is not a throughput per hour
    const peak = hourly.find((r) => r.hour === h.peak_hour)!;
    t.is(Date.parse(peak.hour_end) - Date.parse(peak.hour), HOUR_MS);
    t.is(h.throughput_peak_per_hour.value, peak.requests);

    // host utilisation per hour: the same spans, per host and metric
    const hosts = doc.data.hosts!.hourly.filter((r) => r.host === 'gpu-node-1' && r.metric === 'cpu_usage');
    checkSpans(t, doc, hosts);
    t.is(hosts.length, 25);

    // the printed table: the half hours labelled with their local start and end, the zone as configured
    const text = await pdfText(await renderReport(doc, 'pdf'));
    t.regex(text, /2026-11-28 00:00\s+00:30\s+\d+/, 'the day begins with its first half hour');
    t.regex(text, /2026-11-28 00:30\s+01:30\s+\d+/);
    t.regex(text, /2026-11-28 23:30\s+24:00\s+\d+/, 'and ends with its last');
    // the subtitle and the footer read the generation time alike: local, with the zone
    t.regex(text, /Generated 2026-11-29 06:00 \(Asia\/Kolkata\) from daily_aggregations/);
    t.regex(text, /daily_summary 2026-11-28 · generated 2026-11-29 06:00 \(Asia\/Kolkata\)/);
    t.notRegex(text, /UTC/);
    t.notRegex(text, /Calcutta/);
    const csv = csvRecords(await renderReport(doc, 'csv'));
    t.is(csv.find((r) => r.column === 'time_zone')?.value, ZONE);
    t.is(csv.filter((r) => r.table === 'hourly' && r.column === 'hour_end').length, 25);

    // the demo's printed table names the days by their local date
    const table = await dailySummary(db, ZONE);
    t.is(table.find((r) => r.day === '2026-11-28')?.requests, raw.requests);
  },
);
