// The reports' charts on sparse data, each test named after what a visual audit of the demo's reports found
// broken (a week with one hour of data, a month with one day, no ratings). Specs are read where that says
// enough; a chart is rendered where only the drawing shows it.
import test from 'ava';
import { compile } from 'vega-lite';
import type { ReportDocument, SectionData } from '../../shared/reports/model.ts';
import { CHART_WIDTH, chartsOf, chartSvg, withLoneHours } from '../../shared/reports/render/charts.ts';
import { periodHourSpans } from '../../shared/reports/builders/hour-spans.ts';
import { parsePeriod } from '../../shared/reports/period.ts';
import { formatValue } from '../../shared/reports/render/format.ts';
import { cellKind, layout } from '../../shared/reports/render/layout.ts';
import { textWidth } from '../../shared/reports/render/text-width.ts';
import { periodAxis } from '../../shared/reports/render/time-axis.ts';

const WEEK = { label: '2026-W48', start: '2026-11-23T00:00:00Z', end: '2026-11-30T00:00:00Z', level: 'week' };

function doc(
  data: SectionData,
  period: { label: string; start: string; end: string; level: string } = WEEK,
  timeZone = 'UTC',
): ReportDocument {
  return {
    schema_version: 1,
    report_type: 'weekly_summary',
    title: 'test',
    footer: '',
    period: { ...period, time_zone: timeZone } as ReportDocument['period'],
    previous_period: null,
    generated_at: '2026-12-06T23:00:00Z',
    source: { views: [], window_seq: null },
    sections: Object.keys(data) as ReportDocument['sections'],
    data,
  };
}

/** The spec of one chart, loosely typed to read its parts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function spec(d: ReportDocument, id: string): any {
  const chart = chartsOf(d).find((c) => c.id === id);
  if (!chart) throw new Error(`no chart ${id}`);
  return chart.spec;
}

const CAPACITY_ROW = {
  series: 'fleet',
  status: 'ok',
  mean: 57,
  p95: 79,
  max: 81,
  limit: 100,
  threshold: 80,
  utilization_ratio: 0.79,
  headroom: 1,
  growth_per_week: null,
  days_to_threshold: null,
  days_to_threshold_earliest: null,
  days_to_threshold_latest: null,
  crossing_at: null,
  alert: false,
  model: null,
  note: null,
};

/** A capacity_analysis with two days of forecast for cpu (%) and requests (requests/h). */
function capacityDoc(): ReportDocument {
  const forecast = ['cpu', 'requests'].flatMap((resource) =>
    Array.from({ length: 48 }, (_, h) => ({
      resource,
      timestamp: new Date(Date.parse('2026-12-07T00:00:00Z') + h * 3_600_000).toISOString(),
      value: 50 + (h % 24),
      lo95: 40,
      hi95: 70 + (h % 24),
      threshold: resource === 'cpu' ? 80 : null,
    })),
  );
  return doc({
    capacity: {
      run_id: 1,
      generated_at: '2026-12-06T23:00:00Z',
      data_end: '2026-12-06T23:00:00Z',
      forecasting: true,
      rows: [
        { ...CAPACITY_ROW, resource: 'cpu', unit: '%' },
        { ...CAPACITY_ROW, resource: 'requests', unit: 'requests/h' },
      ],
    },
    capacity_forecast: forecast,
  });
}

test('text is measured in the report font, not at 0.8 em a character', (t) => {
  const title = 'Fleet forecast with its 95 % band; the dashed line is the threshold';
  const width = textWidth({ fontSize: 11, fontWeight: 'bold' }, title);
  t.true(width > 300 && width < 340, `${width}`);
  t.true(textWidth({ fontSize: 11 }, title) < width, 'regular is narrower than medium');
  t.is(textWidth({ fontSize: 11, limit: 100 }, title), 100);
});

test('the capacity forecast is no wider than it is drawn', async (t) => {
  // its title was laid out at vega's estimate of 0.8 em a character: 600 px for a chart of 450, an empty
  // strip down the right of the DOCX image
  const svg = await chartSvg(chartsOf(capacityDoc()).find((c) => c.id === 'capacity_forecast')!);
  const width = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)![1]);
  t.true(width <= CHART_WIDTH - 40, `the chart is ${width} px wide`);
});

const ONE_HOUR = [
  {
    hour: '2026-11-29T23:00:00.000Z',
    hour_end: '2026-11-30T00:00:00.000Z',
    requests: 23,
    errors: 0,
    cost_usd: 0.0064,
    latency_p95_ms: 1372.4,
  },
];

/** The x domain of a chart: explicit, or raw where bars are ranged by x and x2 (rangedScale). */
function xDomain(x: { scale: { domain?: number[]; domainRaw?: { signal: string } } }): number[] | undefined {
  return x.scale.domain ?? (x.scale.domainRaw && (JSON.parse(x.scale.domainRaw.signal) as number[]));
}

test('requests per hour of a week with one hour of data spans the week, labelled by date', (t) => {
  const x = spec(doc({ hourly: ONE_HOUR }), 'requests_per_hour').encoding.x;
  t.deepEqual(xDomain(x), [Date.parse('2026-11-23T00:00:00Z'), Date.parse('2026-11-30T00:00:00Z')]);
  t.is(x.axis.values.length, 8, 'every midnight from the start to the end');
  t.deepEqual(
    periodAxis(doc({ hourly: ONE_HOUR })).ticks.map((tick) => tick.label),
    ['23 Nov', '24 Nov', '25 Nov', '26 Nov', '27 Nov', '28 Nov', '29 Nov', '30 Nov'],
  );
});

/** The hours [from, to) of 2026-11-30 (UTC) with `requests` each. */
function hoursOf(from: number, to: number, requests = 40) {
  return Array.from({ length: to - from }, (_, i) => ({
    hour: new Date(Date.UTC(2026, 10, 30, from + i)).toISOString(),
    hour_end: new Date(Date.UTC(2026, 10, 30, from + i + 1)).toISOString(),
    requests,
    errors: 0,
    cost_usd: 0.01,
    latency_p95_ms: 1500,
  }));
}

test('requests per hour of a month with 13 hours of data is an area over the month, not bars', (t) => {
  // regression: monthly_summary 2026-11 with 13 hours of data chose bars by its 13 rows and drew them against
  // the month's 720 hours: hairlines at the right edge of an axis from 01 Nov to 29 Nov
  const month = {
    label: '2026-11',
    start: '2026-11-01T00:00:00Z',
    end: '2026-12-01T00:00:00Z',
    level: 'month',
  };
  const s = spec(doc({ hourly: hoursOf(11, 24) }, month), 'requests_per_hour');
  t.is(s.mark.type, 'area');
  t.is(s.encoding.x2, undefined);
  t.deepEqual(xDomain(s.encoding.x), [Date.parse(month.start), Date.parse(month.end)]);
  // a day is bars, whatever its rows (a week's too are the period's: an area)
  const day = {
    label: '2026-11-30',
    start: '2026-11-30T00:00:00Z',
    end: '2026-12-01T00:00:00Z',
    level: 'day',
  };
  t.is(spec(doc({ hourly: hoursOf(0, 24) }, day), 'requests_per_hour').mark.type, 'bar');
  t.is(spec(doc({ hourly: ONE_HOUR }), 'requests_per_hour').mark.type, 'area');
});

test('a month with few hours of requests says which, under its chart', (t) => {
  const month = {
    label: '2026-11',
    start: '2026-11-01T00:00:00Z',
    end: '2026-12-01T00:00:00Z',
    level: 'month',
  };
  const quiet = hoursOf(0, 24, 0).map((h) => ({ ...h, cost_usd: 0, latency_p95_ms: null }));
  const hourly = [...quiet.slice(0, 11), ...hoursOf(11, 24)];
  const block = layout(doc({ hourly }, month)).find((b) => b.id === 'hourly')!;
  t.deepEqual(block.notes, [
    'Requests in 13 of the 24 hours: the first at 2026-11-30 11:00, the last at 2026-11-30 23:00 (UTC).',
  ]);
  const day = {
    label: '2026-11-30',
    start: '2026-11-30T00:00:00Z',
    end: '2026-12-01T00:00:00Z',
    level: 'day',
  };
  t.deepEqual(
    layout(doc({ hourly }, day)).find((b) => b.id === 'hourly')!.notes,
    [],
    'a day prints its table',
  );
});

test("a month's host panels are two to a row and wider than a day's", (t) => {
  const month = {
    label: '2026-11',
    start: '2026-11-01T00:00:00Z',
    end: '2026-12-01T00:00:00Z',
    level: 'month',
  };
  const hourly = hoursOf(11, 24).map((h) => ({
    hour: h.hour,
    hour_end: h.hour_end,
    host: 'a',
    metric: 'cpu',
    mean: 50,
  }));
  const wide = spec(doc({ hosts: { summary: [], hourly } }, month), 'utilisation_per_host');
  t.is(wide.columns, 2);
  const day = {
    label: '2026-11-30',
    start: '2026-11-30T00:00:00Z',
    end: '2026-12-01T00:00:00Z',
    level: 'day',
  };
  const narrow = spec(doc({ hosts: { summary: [], hourly } }, day), 'utilisation_per_host');
  t.true(wide.spec.width > narrow.spec.width);
});

test('a month is labelled every 7th day, a day by time of day', (t) => {
  const month = {
    label: '2026-11',
    start: '2026-11-01T00:00:00Z',
    end: '2026-12-01T00:00:00Z',
    level: 'month',
  };
  const axis = periodAxis(doc({}, month)).axis;
  t.deepEqual(
    axis.values?.map((v) => new Date(v).getUTCDate()),
    [1, 8, 15, 22, 29],
  );
  const day = {
    label: '2026-11-29',
    start: '2026-11-29T00:00:00Z',
    end: '2026-11-30T00:00:00Z',
    level: 'day',
  };
  const x = spec(doc({ hourly: ONE_HOUR }, day), 'requests_per_hour').encoding.x;
  t.deepEqual(xDomain(x), [Date.parse(day.start), Date.parse(day.end)]);
  t.deepEqual(
    periodAxis(doc({}, day)).ticks.map((tick) => tick.label),
    ['00:00', '03:00', '06:00', '09:00', '12:00', '15:00', '18:00', '21:00', '24:00'],
  );
});

test("the period domain is its instants, ticked at the zone's midnights and labelled with its dates", (t) => {
  // the week of Asia/Kolkata (UTC+05:30) starts at its local midnight, 18:30 UTC, labelled 23 Nov
  const week = { ...WEEK, start: '2026-11-22T18:30:00Z', end: '2026-11-29T18:30:00Z' };
  const axis = periodAxis(doc({}, week, 'Asia/Kolkata'));
  t.deepEqual(axis.domain, [Date.parse(week.start), Date.parse(week.end)]);
  t.deepEqual(axis.ticks[0], { at: Date.parse(week.start), label: '23 Nov' });
  t.deepEqual(axis.ticks.at(-1), { at: Date.parse(week.end), label: '30 Nov' });
});

/** A doc of `date`'s hours in `zone` (one request each), as the builders make it, of `level`. */
function clockChangeDoc(zone: string, date: string, level: 'day' | 'week'): ReportDocument {
  const period = parsePeriod(date, level, { timeZone: zone, weekStart: 'sunday' });
  const hourly = periodHourSpans(period.start, period.end).map((s) => ({
    ...ONE_HOUR[0]!,
    hour: s.start.toISOString(),
    hour_end: s.end.toISOString(),
  }));
  const bounds = {
    label: period.label,
    level,
    start: period.start.toISOString(),
    end: period.end.toISOString(),
  };
  return doc({ hourly }, bounds, zone);
}

/** The x extent of each bar of a rendered chart, in order. */
function barSpans(svg: string): Array<[number, number]> {
  return [...svg.matchAll(/aria-roledescription="bar" d="M([\d.-]+),[\d.-]+h([\d.-]+)v/g)]
    .map((m): [number, number] => [Number(m[1]), Number(m[1]) + Number(m[2])])
    .sort((a, b) => a[0] - b[0]);
}

test('a day whose midnight repeats (Havana 2026-11-01) has 25 bars of one width; one that skips it, 23', async (t) => {
  // regression: bars on instants shifted by the offset of each end gave Havana's first hour (00:00 −04 to
  // 00:00 −05) no width and the next bar covered it, New York's repeated 01:00 likewise
  for (const [zone, date, hours] of [
    ['America/Havana', '2026-11-01', 25],
    ['America/New_York', '2026-11-01', 25],
    ['America/Santiago', '2026-09-06', 23],
  ] as const) {
    const d = clockChangeDoc(zone, date, 'day');
    const values = spec(d, 'requests_per_hour').data.values as Array<{ hour: string; hour_end: string }>;
    t.is(values.length, hours);
    t.true(
      values.every((v) => Date.parse(v.hour_end) - Date.parse(v.hour) === 3_600_000),
      zone,
    );
    const bars = barSpans(await chartSvg(chartsOf(d).find((c) => c.id === 'requests_per_hour')!));
    t.is(bars.length, hours, zone);
    const widths = bars.map(([from, to]) => to - from);
    t.true(Math.max(...widths) - Math.min(...widths) < 0.01, `${zone}: ${widths.join(' ')}`);
    for (const [i, bar] of bars.entries())
      if (i > 0) t.true(bar[0] >= bars[i - 1]![1] - 0.01, `${zone}: overlap`);
  }
  const havana = periodAxis(clockChangeDoc('America/Havana', '2026-11-01', 'day')).ticks;
  t.deepEqual(havana.slice(0, 2), [
    { at: Date.parse('2026-11-01T04:00:00Z'), label: '00:00' },
    { at: Date.parse('2026-11-01T08:00:00Z'), label: '03:00' },
  ]);
  t.deepEqual(havana.at(-1), { at: Date.parse('2026-11-02T05:00:00Z'), label: '24:00' });
  // a host panel's five ticks: the 25th hour takes no step of its own
  t.deepEqual(
    periodAxis(clockChangeDoc('America/Havana', '2026-11-01', 'day'), 5).ticks.map((tick) => tick.label),
    ['00:00', '06:00', '12:00', '18:00', '24:00'],
  );
});

test("a week that starts on a skipped midnight (Santiago 2026-09-06) is ticked at each date's first instant", (t) => {
  // regression: ticks were the start plus whole days of wall time, at 01:00 of every day, the last past the end
  const axis = periodAxis(clockChangeDoc('America/Santiago', '2026-09-06', 'week'));
  t.deepEqual(axis.domain, [Date.parse('2026-09-06T04:00:00Z'), Date.parse('2026-09-13T03:00:00Z')]);
  t.deepEqual(
    axis.ticks.map((tick) => [new Date(tick.at).toISOString(), tick.label]),
    [
      ['2026-09-06T04:00:00.000Z', '06 Sep'],
      ...[7, 8, 9, 10, 11, 12, 13].map((day) => [
        `2026-09-${String(day).padStart(2, '0')}T03:00:00.000Z`,
        `${String(day).padStart(2, '0')} Sep`,
      ]),
    ],
  );
  t.true(axis.ticks.every((tick) => tick.at >= axis.domain[0] && tick.at <= axis.domain[1]));
});

test('a host series of one hour is drawn as a point', (t) => {
  const hourly = [
    {
      hour: '2026-11-29T23:00:00.000Z',
      hour_end: '2026-11-30T00:00:00.000Z',
      host: 'a',
      metric: 'cpu_usage',
      mean: 41.6,
    },
    {
      hour: '2026-11-29T10:00:00.000Z',
      hour_end: '2026-11-29T11:00:00.000Z',
      host: 'b',
      metric: 'cpu_usage',
      mean: 40,
    },
    {
      hour: '2026-11-29T11:00:00.000Z',
      hour_end: '2026-11-29T12:00:00.000Z',
      host: 'b',
      metric: 'cpu_usage',
      mean: 42,
    },
  ];
  t.deepEqual(
    withLoneHours(hourly).map((h) => h.alone),
    [true, false, false],
  );
  const s = spec(doc({ hosts: { summary: [], hourly } }), 'utilisation_per_host');
  const points = s.spec.layer.find((l: { mark: { type: string } }) => l.mark.type === 'point');
  t.deepEqual(points.transform, [{ filter: 'datum.alone' }]);
  t.true(s.data.values[0].alone);
  t.deepEqual(s.spec.encoding.x.scale.domain, periodAxis(doc({})).domain);
});

test('the load heatmap has every hour of the day, with data or not', (t) => {
  const cells = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].flatMap((name, weekday) =>
    Array.from({ length: 24 }, (_, hour) => ({
      weekday,
      weekday_name: name,
      hour,
      requests_avg: weekday === 6 && hour === 23 ? 23 : null,
    })),
  );
  const s = spec(doc({ load_heatmap: cells }), 'load_heatmap');
  t.deepEqual(
    s.encoding.x.scale.domain,
    Array.from({ length: 24 }, (_, h) => h),
  );
});

/** business_intelligence of a week whose only data is one hour of its last day, and no rating. */
const TRENDS: NonNullable<SectionData['trends']> = {
  days: 28,
  rows: [
    ['cost_usd', 'sum', 0.006358],
    ['latency_ms', 'p95', 1372.446583],
    ['error', 'mean', 0.01158],
    ['rating', 'mean', null],
  ].map(([metric, statistic, value]) => ({
    metric: metric as string,
    statistic: statistic as 'sum' | 'mean' | 'p95',
    points: value === null ? 0 : 1,
    first: value as number | null,
    last: value as number | null,
    slope_per_day: null,
    slope_pct_per_day: null,
    r_squared: null,
  })),
  points: [
    { day: '2026-11-29', metric: 'cost_usd', value: 0.006358 },
    { day: '2026-11-29', metric: 'latency_ms', value: 1372.446583 },
    { day: '2026-11-29', metric: 'error', value: 0.01158 },
  ],
};

test('trends on one day: a titled panel per metric, in the table order, and no six-decimal labels', async (t) => {
  const d = doc({ trends: TRENDS });
  const s = spec(d, 'trends');
  t.deepEqual(s.facet.sort, ['cost_usd', 'latency_ms', 'error rate (%)', 'rating']);
  const svg = await chartSvg(chartsOf(d).find((c) => c.id === 'trends')!);
  const labels = [...svg.matchAll(/>([^<>]+)<\/text>/g)].map((m) => m[1]);
  t.true(labels.includes('rating'), 'the panel of a metric without data has its title');
  t.true(labels.includes('no data in the window'));
  t.true(labels.includes('1,372') && labels.includes('0.006358'));
  // vega's format for a zero-width domain wrote "1,372.446583" and "8,746.000000"
  t.false(labels.includes('1,372.446583'));
  t.deepEqual(
    labels.filter((l) => /\.\d*0$/.test(l!)),
    [],
    'no trailing decimal zeros',
  );
});

test('the trends table says which window it shows and how many of its days have data', (t) => {
  const [trends] = layout(doc({ trends: TRENDS }))[0]!.tables;
  t.is(trends!.title, 'Daily trends over the 28 days to 2026-11-29: 1 day with data');
});

test('the error rate of the trends is a percent, in the chart and the tables', (t) => {
  const d = doc({ trends: TRENDS });
  t.is(
    spec(d, 'trends').data.values.find((v: { panel: string }) => v.panel === 'error rate (%)').value,
    1.158,
  );
  const [trends, points] = layout(d)[0]!.tables;
  const error = trends!.rows.find((r) => r.metric === 'error')!;
  const first = trends!.columns.find((c) => c.key === 'first')!;
  t.is(formatValue(error.first, cellKind(first, error)), '1.16 %');
  const value = points!.columns.find((c) => c.key === 'value')!;
  const point = points!.rows.find((r) => r.metric === 'error')!;
  t.is(formatValue(point.value, cellKind(value, point)), '1.16 %');
});

test('each capacity panel names its unit', (t) => {
  const s = spec(capacityDoc(), 'capacity_forecast');
  t.is(s.facet.row.field, 'panel');
  t.deepEqual([...new Set(s.data.values.map((v: { panel: string }) => v.panel))], ['cpu (%)', 'requests/h']);
});

test('the per-hour and host charts compile without a Vega-Lite warning (one per render, on stderr)', (t) => {
  const hourly = [
    {
      hour: '2026-11-29T22:00:00.000Z',
      hour_end: '2026-11-29T23:00:00.000Z',
      host: 'a',
      metric: 'cpu_usage',
      mean: 40,
    },
    {
      hour: '2026-11-29T23:00:00.000Z',
      hour_end: '2026-11-30T00:00:00.000Z',
      host: 'a',
      metric: 'cpu_usage',
      mean: 41,
    },
  ];
  const warnings: string[] = [];
  const logger = {
    level: (): number => 0,
    error: (...m: unknown[]) => (warnings.push(m.join(' ')), logger),
    warn: (...m: unknown[]) => (warnings.push(m.join(' ')), logger),
    info: () => logger,
    debug: () => logger,
  };
  const charts = chartsOf(doc({ hourly: ONE_HOUR, hosts: { summary: [], hourly } }));
  t.deepEqual(
    charts.map((c) => c.id),
    ['requests_per_hour', 'utilisation_per_host'],
  );
  for (const chart of charts) compile(chart.spec, { logger: logger as never });
  t.deepEqual(warnings, []);
});

/** The x extent of each numeric axis label of an SVG, from its anchor and its width in the report font. */
function numericLabelSpans(svg: string): Array<[number, number, string]> {
  return [
    ...svg.matchAll(
      /<text text-anchor="(start|middle|end)" transform="translate\(([\d.-]+),[\d.-]+\)"[^>]*font-size="([\d.]+)px"[^>]*>([\d.,]+)<\/text>/g,
    ),
  ].map(([, anchor, x, size, text]) => {
    const width = textWidth({ fontSize: Number(size) }, text!);
    const left = Number(x) - (anchor === 'start' ? 0 : anchor === 'middle' ? width / 2 : width);
    return [left, left + width, text!];
  });
}

test('the value axis of a bar chart keeps its labels apart ($0.25 of cost printed "0.000.02")', async (t) => {
  const d = doc({ models: [{ model: 'm1', cost_usd: 0.25, requests: 25 }] } as unknown as SectionData, {
    label: '2026-11-28',
    start: '2026-11-28T00:00:00Z',
    end: '2026-11-29T00:00:00Z',
    level: 'day',
  });
  const spans = numericLabelSpans(await chartSvg(chartsOf(d).find((c) => c.id === 'cost_by_model')!));
  t.true(spans.length >= 3, `labels: ${spans.map((s) => s[2]).join(' ')}`);
  // Apart by a third of the 9 px font at least: 0.7 px between them read as one number on the page.
  for (let i = 1; i < spans.length; i++) {
    const gap = spans[i]![0] - spans[i - 1]![1];
    t.true(gap >= 3, `"${spans[i - 1]![2]}" and "${spans[i]![2]}" are ${gap.toFixed(1)} px apart`);
  }
});
