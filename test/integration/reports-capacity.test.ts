// capacity_analysis renders what analyze-capacity stored: before a run covers the day it is refused with the
// reason (no row is created, never an empty report); after it, every format shows the stored analysis —
// utilisation against limits, days to the threshold, the forecast with its band, the recommendations.
import test from 'ava';
import { loadConfig } from '../../shared/config/index.ts';
import { latestCapacityAnalysis, runCapacityAnalysis } from '../../shared/capacity/index.ts';
import { formatValue, layout, renderReport } from '../../shared/reports/render/index.ts';
import { cellText } from '../../shared/reports/render/layout.ts';
import { ReportDocument } from '../../shared/reports/model.ts';
import { hostRows, storeHourlyRows } from '../fixtures/capacity-series.ts';
import { reportHarness } from '../fixtures/report-deps.ts';
import { freshEmbeddedDatabase } from '../helpers/db.ts';
import { csvRecords, docxTableRows, pdfText } from '../helpers/report-files.ts';

// History up to 06:00 of Dec 1, as an analysis run during the day reads it: the last complete day is Nov 30,
// the newest analysed day Dec 1.
const END = new Date('2026-12-01T06:00:00Z');
const NOW = new Date(END.getTime() + 10 * 60_000);

test('capacity_analysis: refused until analyze-capacity covers the day, then the stored analysis in every format', async (t) => {
  t.timeout(240_000, 'an MSTL analysis and four renders on a shared machine');
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  await storeHourlyRows(
    db,
    hostRows(END, 15 * 24, [
      { host: 'node-1', signal: { level: 66, growth: 6, daily: 12, weekend: 4, noise: 2 } },
      { host: 'node-2', signal: { level: 62, growth: 6, daily: 12, weekend: 4, noise: 2 } },
    ]),
    'system_metric',
    'gpu_usage',
  );
  const env = { BATCH_PROCESSING_CAPACITY_ANALYSES: 'gpu', BATCH_PROCESSING_FORECAST_HORIZON_DAYS: '7' };
  const h = reportHarness(db, { env, now: NOW });
  t.teardown(() => h.cleanup());

  const refused = await t.throwsAsync(
    h.call('POST', '/reports/generate', { body: { report_type: 'capacity_analysis' } }),
  );
  t.is((refused as unknown as { code: string }).code, 'REPORT_SOURCE_MISSING');
  t.regex(refused!.message, /no capacity analysis covers 2026-11-30/);
  t.is((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports')).rows[0]!.n, 0);

  const run = await runCapacityAnalysis(
    { db, config: loadConfig({ env }), clock: () => NOW },
    { trigger: 'manual', force: false },
  );
  t.is(run.status, 'succeeded');
  const stored = (await latestCapacityAnalysis(db))!;

  // without a period: the day of the newest analysis, not the last complete day (which none covers)
  const answer = await h.call('POST', '/reports/generate', {
    body: { report_type: 'capacity_analysis', wait: true },
  });
  t.is(answer.status, 200, JSON.stringify(answer.body));
  const doc = ReportDocument.parse(
    JSON.parse(
      (
        await h.deps.store.get('reports/capacity_analysis/2026-12-01/capacity_analysis-2026-12-01.json')
      ).toString('utf8'),
    ),
  );
  t.deepEqual(doc.sections, ['capacity', 'capacity_forecast', 'recommendations']);
  t.deepEqual(doc.source.views, ['capacity_analyses', 'capacity_forecast_points']);
  const c = doc.data.capacity!;
  t.is(c.run_id, stored.run_id);
  t.deepEqual(
    c.rows.map((r) => [r.resource, r.series, r.p95, r.utilization_ratio, r.days_to_threshold, r.alert]),
    stored.analyses.map((a) => [
      a.resource,
      a.series,
      a.utilization.p95,
      a.utilization.ratio,
      a.days_to_threshold?.point ?? null,
      a.alert,
    ]),
  );
  const fleet = stored.analyses.find((a) => a.series === 'fleet')!;
  t.true(
    fleet.forecast !== null && fleet.days_to_threshold?.point !== null,
    'the fixture grows into its threshold',
  );
  t.is(doc.data.capacity_forecast!.length, fleet.forecast!.points!.length);
  t.deepEqual(doc.data.capacity_forecast![0], {
    resource: 'gpu',
    timestamp: fleet.forecast!.points![0]!.timestamp,
    value: fleet.forecast!.points![0]!.value,
    lo95: fleet.forecast!.points![0]!.lo95,
    hi95: fleet.forecast!.points![0]!.hi95,
    threshold: fleet.threshold,
  });
  t.deepEqual(
    doc.data.recommendations!.map((r) => r.text),
    stored.analyses.flatMap((a) => a.recommendations.map((r) => r.text)),
  );
  t.true(doc.data.recommendations!.length > 0);

  // the PDF and DOCX show the same rows (the utilisation table and the recommendations, with their arithmetic)
  const zone = doc.period.time_zone;
  const printable = layout(doc).flatMap((b) => b.tables.filter((x) => x.printable));
  t.deepEqual(
    printable[0]!.rows.map((r) => r.state),
    stored.analyses.map((a) => (a.alert ? 'alert' : a.status.replaceAll('_', ' '))),
    'a series crossing its threshold within the alert horizon reads "alert", not "ok"',
  );
  t.true(
    printable[0]!.rows.some((r) => r.state === 'alert'),
    'the fixture crosses within the horizon',
  );
  t.deepEqual(
    printable.map((x) => x.id),
    ['capacity', 'recommendations'],
  );
  const text = (await pdfText(await renderReport(doc, 'pdf'))).replace(/\s+/g, ' ');
  const docx = docxTableRows(await renderReport(doc, 'docx')).map((r) => r.join(' | '));
  for (const table of printable) {
    for (const row of table.rows) {
      const cells = table.columns.map((col) => cellText(table, col, row, zone));
      t.true(docx.includes(cells.join(' | ')), `DOCX ${table.id}: ${cells.join(' | ')}`);
      for (const cell of cells.filter((x) => x.length > 3 && !x.includes(' ')))
        t.true(text.includes(cell), `PDF: ${cell}`);
    }
  }
  t.true(
    text.includes(formatValue(fleet.days_to_threshold!.point, 'number')),
    'days to threshold in the PDF',
  );
  // a CSV row label names one row: the resource alone repeats for the fleet and each host
  const csv = csvRecords(await renderReport(doc, 'csv')).filter((r) => r.table === 'capacity');
  const labels = new Map(csv.map((r) => [r.row, r.row_label]));
  t.is(new Set(labels.values()).size, labels.size);
  t.true([...labels.values()].includes('gpu / node-1'), [...labels.values()].join(', '));
});
