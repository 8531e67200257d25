// Numbers written side by side line up: a table column's costs share their decimals ($1.172 beside $0.217,
// not $1.17), a headline figure's three numbers too, and the capacity table writes every mean, p95 and max with
// two decimals. Regression: "$1.17" above "$0.2172" in the models table, "60.5" above "57.36" in capacity.
import test from 'ava';
import { ReportDocument } from '../../shared/reports/model.ts';
import { renderCsv } from '../../shared/reports/render/csv.ts';
import { formatValue, sharedDecimals } from '../../shared/reports/render/format.ts';
import { cellText, kpiChangeText, kpiValueText, layout } from '../../shared/reports/render/layout.ts';

const BASE = {
  schema_version: 1,
  title: 't',
  footer: 'f',
  period: {
    label: '2026-W49',
    start: '2026-11-29T18:30:00.000Z',
    end: '2026-12-06T18:30:00.000Z',
    time_zone: 'Asia/Kolkata',
    level: 'week',
  },
  previous_period: null,
  generated_at: '2026-12-06T23:07:00.000Z',
  source: { views: [], window_seq: null },
};

/** The text of every cell of column `key` of the table `id`, as PDF and DOCX write it. */
function columnText(doc: ReportDocument, id: string, key: string): string[] {
  const table = layout(doc)
    .flatMap((b) => b.tables)
    .find((x) => x.id === id)!;
  const column = table.columns.find((c) => c.key === key)!;
  return table.rows.map((row) => cellText(table, column, row, doc.period.time_zone));
}

const model = (name: string, cost: number) => ({
  model: name,
  requests: 10,
  errors: 0,
  error_rate: 0,
  tokens_in: 1,
  tokens_out: 1,
  cost_usd: cost,
  cost_inferred_usd: 0,
  cost_share: 0.5,
  latency_p95_ms: 1,
});

test('shared decimals: costs take three significant digits below a dollar, counts one when any is fractional', (t) => {
  t.is(sharedDecimals('usd', [1.1718, 0.2172, null]), 3);
  t.is(sharedDecimals('usd', [0.000117, 0.0004]), 6);
  t.is(sharedDecimals('usd', [2163.76, 2682.55, -518.79]), 2);
  t.is(sharedDecimals('usd', [0, 12.5]), 2, 'a zero cost adds no decimals');
  t.is(sharedDecimals('usd', [12.345, 0.215]), 3);
  // too far apart to share: each is written to its own ($1,234.56 beside $0.000117, not $1,234.560000)
  t.is(sharedDecimals('usd', [1234.56, 0.000117]), undefined);
  t.is(sharedDecimals('usd', [5.2, 0.00443]), undefined);
  t.is(formatValue(1234.56, 'usd', 'UTC', sharedDecimals('usd', [1234.56, 0.000117])), '$1,234.56');
  t.is(formatValue(0.000117, 'usd', 'UTC', sharedDecimals('usd', [1234.56, 0.000117])), '$0.000117');
  t.is(sharedDecimals('count', [38, 36.6]), 1);
  t.is(sharedDecimals('count', [913, 879]), 0);
  t.is(sharedDecimals('ms', [1.5]), undefined);
  t.is(formatValue(1.1718, 'usd', 'UTC', 4), '$1.1718');
  t.is(formatValue(0.2172, 'usd'), '$0.217');
  t.is(formatValue(38, 'count', 'UTC', 1), '38.0');
  // alone, a value keeps its own decimals (e-mail text, notes)
  t.is(formatValue(1.1718, 'usd'), '$1.17');
});

test('a cost column lines up: every cost of the models table with the same decimals', (t) => {
  const doc = ReportDocument.parse({
    ...BASE,
    report_type: 'weekly_summary',
    sections: ['models'],
    data: { models: [model('llama-3-70b', 1.1718), model('llama-3-8b', 0.2172), model('qwen', 0)] },
  });
  t.deepEqual(columnText(doc, 'models', 'cost_usd'), ['$1.172', '$0.217', '$0.000']);
  t.deepEqual(columnText(doc, 'models', 'cost_inferred_usd'), ['$0.00', '$0.00', '$0.00']);
});

test('a headline figure lines up with the previous period and the change; so does its tile', (t) => {
  const fig = (value: number, previous: number) => ({
    value,
    previous,
    change: value - previous,
    change_pct: null,
  });
  const headline = Object.fromEntries(
    [
      'requests',
      'errors',
      'error_rate',
      'tokens_in',
      'tokens_out',
      'cost_usd',
      'cost_inferred_usd',
      'throughput_mean_per_hour',
      'throughput_peak_per_hour',
      'latency_p50_ms',
      'latency_p95_ms',
      'latency_p99_ms',
      'rating_avg',
      'business_value_usd',
    ].map((k) => [k, fig(1, 1)]),
  );
  const doc = ReportDocument.parse({
    ...BASE,
    report_type: 'weekly_summary',
    sections: ['headline'],
    data: {
      headline: {
        ...headline,
        cost_usd: fig(1.0214, 0.9812),
        throughput_mean_per_hour: fig(38, 36.6),
        peak_hour: null,
      },
    },
  });
  const block = layout(doc)[0]!;
  const table = block.tables[0]!;
  const row = (figure: string) => {
    const r = table.rows.find((x) => x.figure === figure)!;
    return table.columns.slice(1, 4).map((c) => cellText(table, c, r, 'UTC'));
  };
  t.deepEqual(row('Cost'), ['$1.021', '$0.981', '$0.040']);
  t.deepEqual(row('Throughput, mean (requests/h)'), ['38.0', '36.6', '1.4']);
  const tile = block.kpis.find((k) => k.label === 'Cost')!;
  t.is(kpiValueText(tile), '$1.021');
  t.is(kpiChangeText(tile), 'previous $0.981', 'change_pct is null here');
});

test('capacity: means, p95 and maxima with two decimals in every row; limits and thresholds whole', (t) => {
  const row = (series: string, mean: number, p95: number, max: number) => ({
    resource: 'cpu',
    series,
    unit: '%',
    status: 'ok',
    mean,
    p95,
    max,
    limit: 100,
    threshold: 80,
    utilization_ratio: p95 / 100,
    headroom: 80 - p95,
    growth_per_week: null,
    days_to_threshold: null,
    days_to_threshold_earliest: null,
    days_to_threshold_latest: null,
    crossing_at: null,
    alert: false,
    model: null,
    note: null,
  });
  const doc = ReportDocument.parse({
    ...BASE,
    report_type: 'capacity_analysis',
    sections: ['capacity'],
    data: {
      capacity: {
        run_id: 1,
        generated_at: '2026-12-06T23:04:00.000Z',
        data_end: '2026-12-06T23:00:00.000Z',
        forecasting: true,
        rows: [row('fleet', 57.36, 79.25, 81.04), row('gpu-node-1', 60.5, 82.2, 75)],
      },
    },
  });
  t.deepEqual(columnText(doc, 'capacity', 'mean'), ['57.36', '60.50']);
  t.deepEqual(columnText(doc, 'capacity', 'p95'), ['79.25', '82.20']);
  t.deepEqual(columnText(doc, 'capacity', 'max'), ['81.04', '75.00']);
  t.deepEqual(columnText(doc, 'capacity', 'limit'), ['100', '100']);
  t.deepEqual(columnText(doc, 'capacity', 'threshold'), ['80', '80']);
});

test('per-request costs keep three significant digits: business_intelligence 2026-W49 "Cost per model"', (t) => {
  // regression: four fixed decimals wrote llama-3-8b's $0.000117 as $0.0001, and mixtral's $0.000353 and
  // qwen's $0.000410 alike as $0.0004
  const cost = (model: string, requests: number, cost_usd: number, per1k: number) => ({
    model,
    requests,
    cost_usd,
    cost_per_request_usd: cost_usd / requests,
    cost_per_1k_tokens_usd: per1k,
    cost_share: 0.25,
  });
  const doc = ReportDocument.parse({
    ...BASE,
    report_type: 'business_intelligence',
    sections: ['cost_efficiency'],
    data: {
      cost_efficiency: [
        cost('llama-3-70b', 2075, 1.0936597, 0.000899981813723),
        cost('mixtral-8x7b', 1215, 0.4283576, 0.000600005322703),
        cost('qwen-2.5-32b', 902, 0.3701161, 0.00070000037826),
        cost('llama-3-8b', 1829, 0.2145986, 0.000199998136072),
      ],
    },
  });
  t.deepEqual(columnText(doc, 'cost_efficiency', 'cost_per_request_usd'), [
    '$0.000527',
    '$0.000353',
    '$0.000410',
    '$0.000117',
  ]);
  t.deepEqual(columnText(doc, 'cost_efficiency', 'cost_per_1k_tokens_usd'), [
    '$0.000900',
    '$0.000600',
    '$0.000700',
    '$0.000200',
  ]);
  t.deepEqual(columnText(doc, 'cost_efficiency', 'cost_usd'), ['$1.094', '$0.428', '$0.370', '$0.215']);
  // text beside no column (the e-mail's headline) takes its own: cents from a dollar, 3 digits below
  t.is(formatValue(0.000117331109896, 'usd'), '$0.000117');
  t.is(formatValue(0.2145986, 'usd'), '$0.215');
  t.is(formatValue(2163.764, 'usd'), '$2,163.76');
  t.is(formatValue(-0.0000402, 'usd'), '-$0.0000402');
  // the CSV keeps the document's full value
  const csv = renderCsv(doc).toString('utf8');
  t.true(csv.includes(',cost_per_request_usd,Per request,0.00011733'), csv);
});

test('hourly cost cells of a quiet hour keep their digits', (t) => {
  const hour = (h: number, cost_usd: number) => ({
    hour: `2026-12-05T${String(h).padStart(2, '0')}:00:00.000Z`,
    hour_end: `2026-12-05T${String(h + 1).padStart(2, '0')}:00:00.000Z`,
    requests: 1,
    errors: 0,
    cost_usd,
    latency_p95_ms: 1,
  });
  const doc = ReportDocument.parse({
    ...BASE,
    period: { ...BASE.period, start: '2026-12-05T00:00:00.000Z', end: '2026-12-05T03:00:00.000Z' },
    report_type: 'daily_summary',
    sections: ['hourly'],
    data: { hourly: [hour(0, 0.0131), hour(1, 0.000412), hour(2, 0)] },
  });
  t.deepEqual(columnText(doc, 'hourly', 'cost_usd'), ['$0.013100', '$0.000412', '$0.000000']);
});
