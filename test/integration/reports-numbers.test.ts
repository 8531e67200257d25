// The numbers of a report: the JSON document's counts and sums equal direct SQL over the fixture's raw events
// (the report itself reads only the aggregate views), and every format shows exactly the document's numbers:
// CSV values parsed, PDF text (pdftotext), DOCX table rows (word/document.xml). Every PDF page has ink.
import type { ExecutionContext } from 'ava';
import { parseConfig } from '../../shared/config/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { buildReportDocument } from '../../shared/reports/builders/document.ts';
import { ReportDocument } from '../../shared/reports/model.ts';
import { parsePeriod } from '../../shared/reports/period.ts';
import { layout, renderReport } from '../../shared/reports/render/index.ts';
import { cellText, kpiValueText } from '../../shared/reports/render/layout.ts';
import { reportSettingsFrom } from '../../shared/reports/generate.ts';
import { loadTemplate } from '../../shared/reports/templates.ts';
import { loadReportFixture, rawMetric } from '../fixtures/report-data.ts';
import { csvRecords, docxHeadings, docxTableRows, pdfPageInk, pdfText } from '../helpers/report-files.ts';
import { bothBackends } from './aggregate-fixtures.ts';

async function dailyDocument(db: Database, now: Date): Promise<ReportDocument> {
  const settings = reportSettingsFrom(parseConfig({}));
  const { document } = await buildReportDocument(
    {
      db,
      calendar: settings.calendar,
      businessIntelligence: settings.businessIntelligence,
      storeLocation: 'test',
    },
    {
      type: 'daily_summary',
      period: parsePeriod('2026-11-28', 'day', settings.calendar),
      template: loadTemplate('daily_summary', undefined),
      now,
    },
  );
  return document;
}

const DAY = ['2026-11-28T00:00:00Z', '2026-11-29T00:00:00Z'];

async function checkAgainstRawEvents(t: ExecutionContext, db: Database, doc: ReportDocument): Promise<void> {
  const { rows } = await db.query<{
    requests: number;
    errors: number;
    tokens_in: number;
    tokens_out: number;
    cost_usd: number;
    cost_inferred_usd: number;
    inferred: number;
    business: number;
    ratings: number;
  }>(
    `SELECT count(*) FILTER (WHERE event_type = 'llm_request')::int AS requests,
            count(*) FILTER (WHERE event_type = 'llm_request' AND (data->>'error')::boolean)::int AS errors,
            sum((data->>'tokens_in')::numeric) FILTER (WHERE event_type = 'llm_request')::float8 AS tokens_in,
            sum((data->>'tokens_out')::numeric) FILTER (WHERE event_type = 'llm_request')::float8 AS tokens_out,
            sum(${rawMetric('cost_usd')}::numeric) FILTER (WHERE event_type = 'llm_request')::float8 AS cost_usd,
            sum(${rawMetric('cost_usd_inferred')}::numeric) FILTER (WHERE event_type = 'llm_request')::float8
              AS cost_inferred_usd,
            count(*) FILTER (WHERE event_type = 'llm_request' AND NOT data ? 'cost_usd')::int AS inferred,
            sum((data->>'value_usd')::numeric) FILTER (WHERE event_type = 'business_event')::float8 AS business,
            count(*) FILTER (WHERE event_type = 'user_feedback')::int AS ratings
     FROM raw_events WHERE ts >= $1 AND ts < $2`,
    DAY,
  );
  const raw = rows[0]!;
  const h = doc.data.headline!;
  t.true(raw.requests > 100, 'the fixture day has requests');
  t.is(h.requests.value, raw.requests);
  t.is(h.errors.value, raw.errors);
  t.is(h.tokens_in.value, raw.tokens_in);
  t.is(h.tokens_out.value, raw.tokens_out);
  t.is(h.cost_usd.value, raw.cost_usd);
  // api-3 reports no cost: its requests' cost is inferred from the demo prices at ingest, and shown apart
  t.true(raw.inferred > 10, `${raw.inferred} requests without cost_usd`);
  t.is(h.cost_inferred_usd.value, raw.cost_inferred_usd);
  t.true(raw.cost_inferred_usd > 0 && raw.cost_inferred_usd < raw.cost_usd);
  t.is(h.business_value_usd.value, raw.business);
  t.is(doc.data.satisfaction!.ratings, raw.ratings);

  const byModel = await db.query<{
    model: string;
    requests: number;
    errors: number;
    cost_usd: number;
    cost_inferred_usd: number;
    tokens_in: number;
  }>(
    `SELECT data->>'model' AS model, count(*)::int AS requests,
            count(*) FILTER (WHERE (data->>'error')::boolean)::int AS errors,
            sum(${rawMetric('cost_usd')}::numeric)::float8 AS cost_usd,
            coalesce(sum(${rawMetric('cost_usd_inferred')}::numeric), 0)::float8 AS cost_inferred_usd,
            sum((data->>'tokens_in')::numeric)::float8 AS tokens_in
     FROM raw_events WHERE event_type = 'llm_request' AND ts >= $1 AND ts < $2 GROUP BY 1 ORDER BY 1`,
    DAY,
  );
  t.deepEqual(
    doc.data.models!.map((m) => ({
      model: m.model,
      requests: m.requests,
      errors: m.errors,
      cost_usd: m.cost_usd,
      cost_inferred_usd: m.cost_inferred_usd,
      tokens_in: m.tokens_in,
    })),
    byModel.rows,
  );
  const bySource = await db.query<{
    source: string;
    requests: number;
    errors: number;
    cost_inferred_usd: number;
  }>(
    `SELECT source, count(*)::int AS requests, count(*) FILTER (WHERE (data->>'error')::boolean)::int AS errors,
            coalesce(sum(${rawMetric('cost_usd_inferred')}::numeric), 0)::float8 AS cost_inferred_usd
     FROM raw_events WHERE event_type = 'llm_request' AND ts >= $1 AND ts < $2 GROUP BY 1 ORDER BY 1`,
    DAY,
  );
  t.deepEqual(
    doc.data.sources!.map((s) => ({
      source: s.source,
      requests: s.requests,
      errors: s.errors,
      cost_inferred_usd: s.cost_inferred_usd,
    })),
    bySource.rows,
  );
  const byType = await db.query<{ event_type: string; events: number }>(
    `SELECT event_type, count(*)::int AS events FROM raw_events WHERE ts >= $1 AND ts < $2 GROUP BY 1 ORDER BY 1`,
    DAY,
  );
  t.deepEqual(
    doc.data.event_types!.map((e) => ({ event_type: e.event_type, events: e.events })),
    byType.rows,
  );
  const ratings = await db.query<{ rating: number; count: number }>(
    // the whole 1–5 scale, a rating nobody gave counted 0
    `SELECT s.rating, count(e.ts)::int AS count FROM generate_series(1, 5) AS s(rating)
       LEFT JOIN raw_events e ON (e.data->>'rating')::int = s.rating
        AND e.event_type = 'user_feedback' AND e.ts >= $1 AND e.ts < $2
     GROUP BY 1 ORDER BY 1`,
    DAY,
  );
  t.deepEqual(
    doc.data.satisfaction!.distribution.map((r) => ({ rating: r.rating, count: r.count })),
    ratings.rows,
  );
  const hosts = await db.query<{ host: string; max: number; samples: number }>(
    `SELECT source AS host, max((data->>'cpu_usage')::float8) AS max, count(*)::int AS samples FROM raw_events
     WHERE event_type = 'system_metric' AND ts >= $1 AND ts < $2 GROUP BY 1 ORDER BY 1`,
    DAY,
  );
  t.deepEqual(
    doc.data
      .hosts!.summary.filter((r) => r.metric === 'cpu_usage')
      .map((r) => ({ host: r.host, max: r.max, samples: r.samples })),
    hosts.rows,
  );
  const perHour = await db.query<{ hour: Date; requests: number }>(
    `SELECT date_trunc('hour', ts, 'UTC') AS hour, count(*)::int AS requests FROM raw_events
     WHERE event_type = 'llm_request' AND ts >= $1 AND ts < $2 GROUP BY 1 ORDER BY 1`,
    DAY,
  );
  t.deepEqual(
    doc.data.hourly!.map((r) => ({ hour: r.hour, requests: r.requests })),
    perHour.rows.map((r) => ({ hour: r.hour.toISOString(), requests: r.requests })),
  );
  t.is(doc.data.completeness!.hours_expected, 24);
  t.is(doc.data.completeness!.hours_aggregated, 24);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function checkFormats(t: ExecutionContext, doc: ReportDocument): Promise<void> {
  const blocks = layout(doc);
  const zone = doc.period.time_zone;
  t.deepEqual(
    blocks.map((b) => b.id),
    doc.sections,
  );

  // JSON: the document itself, valid against its schema
  const json = JSON.parse((await renderReport(doc, 'json')).toString('utf8')) as unknown;
  t.deepEqual(ReportDocument.parse(json), doc);

  // CSV: every cell of every table, as the document's value
  const records = csvRecords(await renderReport(doc, 'csv'));
  let checked = 0;
  for (const block of blocks) {
    for (const table of block.tables) {
      const rows = records.filter((r) => r.section === block.id && r.table === table.id);
      t.is(rows.length, table.rows.length * table.columns.length, `${table.id}: one CSV line per cell`);
      for (const r of rows) {
        const want = table.rows[Number(r.row) - 1]![r.column!];
        t.is(
          r.value,
          want === null || want === undefined ? '' : String(want),
          `${table.id} row ${r.row} ${r.column}`,
        );
        checked += 1;
      }
    }
  }
  t.true(checked > 300, `${checked} CSV cells checked`);
  t.is(
    Number(
      records.find((r) => r.table === 'headline' && r.row_label === 'Cost' && r.column === 'value')?.value,
    ),
    doc.data.headline!.cost_usd.value!,
  );

  // PDF: every row of every printed table on one line, cells in order; the KPI values; pages with ink
  const pdf = await renderReport(doc, 'pdf');
  const text = await pdfText(pdf);
  const lines = text.split('\n');
  for (const block of blocks) {
    for (const kpi of block.kpis) t.true(text.includes(kpiValueText(kpi)), `KPI ${kpi.label}`);
    for (const table of block.tables.filter((x) => x.printable)) {
      for (const row of table.rows) {
        const cells = table.columns.map((c) => cellText(table, c, row, zone));
        const pattern = new RegExp(cells.map(escape).join('\\s+'));
        t.true(
          lines.some((l) => pattern.test(l.trim())),
          `PDF ${table.id}: ${cells.join(' | ')}`,
        );
      }
    }
  }
  t.regex(text, /page 1 of \d+/);
  t.true(text.startsWith(doc.title) || text.trimStart().startsWith(doc.title));
  const ink = await pdfPageInk(pdf);
  t.true(ink.length >= 2, `${ink.length} pages`);
  for (const [i, share] of ink.entries())
    t.true(share > 0.01, `page ${i + 1} has ink (${(share * 100).toFixed(2)} %)`);

  // DOCX: the same table rows as real tables; real headings
  const docx = await renderReport(doc, 'docx');
  const docxRows = docxTableRows(docx).map((r) => r.join(' | '));
  for (const block of blocks) {
    for (const table of block.tables.filter((x) => x.printable)) {
      t.true(docxRows.includes(table.columns.map((c) => c.label).join(' | ')), `DOCX header of ${table.id}`);
      for (const row of table.rows) {
        const cells = table.columns.map((c) => cellText(table, c, row, zone)).join(' | ');
        t.true(docxRows.includes(cells), `DOCX ${table.id}: ${cells}`);
      }
    }
  }
  const headings = docxHeadings(docx);
  t.deepEqual(headings[0], { style: 'Title', text: doc.title });
  t.deepEqual(
    headings.filter((h) => h.style === 'Heading1').map((h) => h.text),
    blocks.map((b) => b.title),
  );
}

bothBackends(
  'a daily summary: JSON equals SQL over the raw events; CSV, PDF and DOCX show the JSON numbers',
  async (t, db) => {
    t.timeout(180_000, 'fixture ingest + aggregation + four renders on a shared machine');
    const fx = await loadReportFixture(db);
    const doc = await dailyDocument(db, fx.now);
    t.deepEqual(doc.source.views, ['daily_aggregations', 'hourly_aggregations']);
    t.true(doc.source.window_seq !== null);
    await checkAgainstRawEvents(t, db, doc);
    await checkFormats(t, doc);
  },
);
