// The report document laid out as blocks (one per section, in the template's order): KPI tiles, tables with
// typed columns, charts. CSV, PDF and DOCX all render these blocks, which only read the document, so every
// format shows the same numbers. CSV takes the raw values; PDF and DOCX the text of format.ts.
import type { Figure, ReportDocument, SectionId } from '../model.ts';
import { chartsOf, drawsHoursAsArea, type ChartSpec } from './charts.ts';
import { localDayText } from '../period.ts';
import { formatValue, isRateMetric, sharedDecimals, type ValueKind } from './format.ts';

export interface Column {
  key: string;
  label: string;
  kind: ValueKind;
  /** The row field holding this cell's kind instead (the headline table mixes counts, costs and rates). */
  kindFrom?: string;
  /** With kindFrom: the row field holding the decimals its cells share (a figure beside the previous one's). */
  decimalsFrom?: string;
}

/** Text, times and dates are written left-aligned and label a row; every other kind is a number. */
export function isNumericKind(kind: ValueKind): boolean {
  return kind !== 'text' && kind !== 'time' && kind !== 'until' && kind !== 'date';
}

/** The kind of one cell. */
export function cellKind(column: Column, row: Record<string, unknown>): ValueKind {
  return column.kindFrom ? ((row[column.kindFrom] as ValueKind | undefined) ?? column.kind) : column.kind;
}

export interface Table {
  id: string;
  title: string;
  columns: Column[];
  rows: Array<Record<string, unknown>>;
  /** false: too long for a page (an hour per row over a month); PDF/DOCX show the chart and say so. */
  printable: boolean;
  /** Per column key: the decimals its counts or costs share, so a column lines up (sharedDecimals). */
  decimals: Readonly<Record<string, number | undefined>>;
}

/** The text of one cell in PDF and DOCX. */
export function cellText(
  table: Table,
  column: Column,
  row: Record<string, unknown>,
  timeZone: string,
): string {
  const decimals = column.decimalsFrom
    ? (row[column.decimalsFrom] as number | undefined)
    : table.decimals[column.key];
  return formatValue(row[column.key], cellKind(column, row), timeZone, decimals);
}

export interface Kpi {
  label: string;
  kind: ValueKind;
  figure: Figure;
  /** Shown beside the previous period (false: a figure the previous period is not read for). */
  compare: boolean;
}

/** The decimals a tile's value and the previous period's share (those of its row of the headline table). */
const kpiDecimals = (k: Kpi): number | undefined =>
  sharedDecimals(k.kind, k.compare ? [k.figure.value, k.figure.previous] : [k.figure.value]);

/** A KPI tile's value. */
export function kpiValueText(k: Kpi): string {
  return formatValue(k.figure.value, k.kind, 'UTC', kpiDecimals(k));
}

/** The line under a KPI tile: the previous period's value and the change ('' when not compared). */
export function kpiChangeText(k: Kpi): string {
  if (!k.compare) return '';
  const f = k.figure;
  if (f.previous === null) {
    return f.value === null ? 'no data in this or the previous period' : 'no data in the previous period';
  }
  const pct = f.change_pct === null ? '' : ` (${formatValue(f.change_pct, 'change_pct')})`;
  return `previous ${formatValue(f.previous, k.kind, 'UTC', kpiDecimals(k))}${pct}`;
}

export interface Block {
  id: SectionId;
  title: string;
  kpis: Kpi[];
  tables: Table[];
  charts: ChartSpec[];
  notes: string[];
}

const PRINTABLE_ROWS = 48;

function table(id: string, title: string, columns: Column[], rows: Array<Record<string, unknown>>): Table {
  const decimals: Record<string, number | undefined> = {};
  for (const c of columns) {
    if (!c.kindFrom)
      decimals[c.key] = sharedDecimals(
        c.kind,
        rows.map((r) => r[c.key]),
      );
  }
  return { id, title, columns, rows, printable: rows.length <= PRINTABLE_ROWS, decimals };
}

const col = (key: string, label: string, kind: ValueKind): Column => ({ key, label, kind });

const HEADLINE: Array<{
  key: keyof NonNullable<ReportDocument['data']['headline']>;
  label: string;
  kind: ValueKind;
  tile?: boolean;
}> = [
  { key: 'requests', label: 'Requests', kind: 'count', tile: true },
  { key: 'errors', label: 'Errors', kind: 'count' },
  { key: 'error_rate', label: 'Error rate', kind: 'rate', tile: true },
  { key: 'tokens_in', label: 'Tokens in', kind: 'count' },
  { key: 'tokens_out', label: 'Tokens out', kind: 'count' },
  { key: 'cost_usd', label: 'Cost', kind: 'usd', tile: true },
  { key: 'cost_inferred_usd', label: 'Cost inferred from prices', kind: 'usd' },
  { key: 'throughput_mean_per_hour', label: 'Throughput, mean (requests/h)', kind: 'count' },
  { key: 'throughput_peak_per_hour', label: 'Throughput, peak hour (requests/h)', kind: 'count', tile: true },
  { key: 'latency_p50_ms', label: 'Latency p50 (ms)', kind: 'ms' },
  { key: 'latency_p95_ms', label: 'Latency p95 (ms)', kind: 'ms', tile: true },
  { key: 'latency_p99_ms', label: 'Latency p99 (ms)', kind: 'ms' },
  { key: 'rating_avg', label: 'Rating, mean (1–5)', kind: 'number', tile: true },
  { key: 'business_value_usd', label: 'Business value', kind: 'usd' },
];

const TITLES: Record<SectionId, string> = {
  headline: 'Headline figures',
  event_types: 'Events by type',
  hourly: 'Requests per hour',
  daily: 'Per day',
  latency: 'Latency per model',
  models: 'Models',
  sources: 'Sources',
  satisfaction: 'User satisfaction',
  business: 'Business events',
  hosts: 'Host utilisation',
  top: 'Top models and sources',
  completeness: 'Data completeness',
  trends: 'Trends',
  anomalies: 'Anomalies',
  cost_efficiency: 'Cost efficiency per model',
  feedback: 'Feedback distribution',
  load_heatmap: 'Load by hour of the week',
  checks: 'Checks',
  capacity: 'Utilisation against limits',
  capacity_forecast: 'Forecast',
  recommendations: 'Recommendations',
};

const MODEL_COLUMNS = [
  col('model', 'Model', 'text'),
  col('requests', 'Requests', 'count'),
  col('errors', 'Errors', 'count'),
  col('error_rate', 'Error rate', 'rate'),
  col('tokens_in', 'Tokens in', 'count'),
  col('tokens_out', 'Tokens out', 'count'),
  col('cost_usd', 'Cost', 'usd'),
  col('cost_inferred_usd', 'Of it inferred', 'usd'),
  col('cost_share', 'Share of cost', 'rate'),
  col('latency_p95_ms', 'p95 (ms)', 'ms'),
];
const SOURCE_COLUMNS = [
  col('source', 'Source', 'text'),
  col('requests', 'Requests', 'count'),
  col('errors', 'Errors', 'count'),
  col('error_rate', 'Error rate', 'rate'),
  col('cost_usd', 'Cost', 'usd'),
  col('cost_inferred_usd', 'Of it inferred', 'usd'),
  col('latency_p95_ms', 'p95 (ms)', 'ms'),
];
/** A span of the per-hour rows: its local start, and its end (an edge hour is cut to the period, model.ts). */
const SPAN = [col('hour', 'From', 'time'), col('hour_end', 'To', 'until')];
const TIMELINE = [
  col('requests', 'Requests', 'count'),
  col('errors', 'Errors', 'count'),
  col('cost_usd', 'Cost', 'usd'),
  col('latency_p95_ms', 'p95 (ms)', 'ms'),
];
const RATING_COLUMNS = [
  col('rating', 'Rating', 'count'),
  col('count', 'Ratings', 'count'),
  col('share', 'Share', 'rate'),
];

/**
 * The trends table's title: the window the builder reads is the lookback (businessIntelligence.lookbackDays)
 * up to the period's end, and often holds fewer days with data — "over 28 days" above a week of one day's
 * values read as 28 days shown.
 */
function trendsTitle(doc: ReportDocument): string {
  const trends = doc.data.trends!;
  const lastDay = localDayText(new Date(Date.parse(doc.period.end) - 1), doc.period.time_zone);
  const days = new Set(trends.points.filter((p) => p.value !== null).map((p) => p.day)).size;
  return `Daily trends over the ${trends.days} days to ${lastDay}: ${days} ${days === 1 ? 'day' : 'days'} with data`;
}

function blockOf(id: SectionId, doc: ReportDocument, charts: Map<string, ChartSpec>): Block | undefined {
  const d = doc.data;
  const block: Block = { id, title: TITLES[id], kpis: [], tables: [], charts: [], notes: [] };
  const chart = (chartId: string) => {
    const c = charts.get(chartId);
    if (c) block.charts.push(c);
  };
  switch (id) {
    case 'headline': {
      const h = d.headline;
      if (!h) return undefined;
      block.kpis = HEADLINE.filter((m) => m.tile).map((m) => ({
        label: m.label,
        kind: m.kind,
        figure: h[m.key] as Figure,
        compare: true,
      }));
      block.tables.push(
        table(
          'headline',
          'This period beside the previous one',
          [
            col('figure', 'Figure', 'text'),
            { ...col('value', 'This period', 'number'), kindFrom: 'kind', decimalsFrom: 'decimals' },
            { ...col('previous', 'Previous period', 'number'), kindFrom: 'kind', decimalsFrom: 'decimals' },
            { ...col('change', 'Change', 'number'), kindFrom: 'change_kind', decimalsFrom: 'decimals' },
            col('change_pct', 'Change %', 'change_pct'),
          ],
          // each row is one figure: its three numbers line up with each other, as a column's do elsewhere
          HEADLINE.map((m) => {
            const f = h[m.key] as Figure;
            return {
              figure: m.label,
              ...f,
              kind: m.kind,
              change_kind: m.kind === 'rate' ? 'rate_change' : m.kind,
              // the change is written to the decimals of the two figures it is the difference of: three
              // significant digits of $0.0013 gave $0.10670 and $0.10540 above it
              decimals: sharedDecimals(m.kind, [f.value, f.previous]),
            };
          }),
        ),
      );
      const zone = doc.period.time_zone;
      if (h.peak_hour)
        block.notes.push(`The busiest hour started at ${formatValue(h.peak_hour, 'time', zone)} (${zone}).`);
      return block;
    }
    case 'event_types':
      if (!d.event_types) return undefined;
      block.tables.push(
        table(
          'event_types',
          'Events by type',
          [
            col('event_type', 'Event type', 'text'),
            col('events', 'Events', 'count'),
            col('metrics', 'Metrics', 'count'),
          ],
          d.event_types,
        ),
      );
      return block;
    case 'hourly': {
      if (!d.hourly) return undefined;
      chart('requests_per_hour');
      block.tables.push(table('hourly', 'Per hour', [...SPAN, ...TIMELINE], d.hourly));
      // a week or a month is drawn, not printed: where few of its hours had requests (13 of a month's 720)
      // they are a sliver of the chart, so the text says which and when
      const busy = d.hourly.filter((h) => h.requests > 0);
      if (drawsHoursAsArea(doc) && busy.length < d.hourly.length) {
        const zone = doc.period.time_zone;
        block.notes.push(
          busy.length === 0
            ? `No requests in any of the ${d.hourly.length} hours.`
            : `Requests in ${busy.length} of the ${d.hourly.length} hours: the first at ${formatValue(busy[0]!.hour, 'time', zone)}, the last at ${formatValue(busy.at(-1)!.hour, 'time', zone)} (${zone}).`,
        );
      }
      return block;
    }
    case 'daily':
      if (!d.daily) return undefined;
      block.tables.push(table('daily', 'Per day', [col('day', 'Day', 'date'), ...TIMELINE], d.daily));
      return block;
    case 'latency':
      if (!d.latency) return undefined;
      chart('latency_p95_per_model');
      block.tables.push(
        table(
          'latency',
          'Latency (ms)',
          [
            col('model', 'Model', 'text'),
            col('requests', 'Requests', 'count'),
            col('latency_avg_ms', 'Mean (ms)', 'ms'),
            col('latency_p50_ms', 'p50 (ms)', 'ms'),
            col('latency_p95_ms', 'p95 (ms)', 'ms'),
            col('latency_p99_ms', 'p99 (ms)', 'ms'),
          ],
          [d.latency.overall, ...d.latency.by_model],
        ),
      );
      return block;
    case 'models':
      if (!d.models) return undefined;
      chart('cost_by_model');
      block.tables.push(table('models', 'Models', MODEL_COLUMNS, d.models));
      return block;
    case 'sources':
      if (!d.sources) return undefined;
      block.tables.push(table('sources', 'Sources', SOURCE_COLUMNS, d.sources));
      return block;
    case 'top':
      if (!d.top) return undefined;
      block.tables.push(table('top_models_by_cost', 'Models by cost', MODEL_COLUMNS, d.top.models_by_cost));
      block.tables.push(
        table('top_sources_by_errors', 'Sources by errors', SOURCE_COLUMNS, d.top.sources_by_errors),
      );
      return block;
    case 'satisfaction':
    case 'feedback': {
      const s = id === 'satisfaction' ? d.satisfaction : d.feedback;
      if (!s) return undefined;
      block.kpis = [
        {
          label: 'Ratings',
          kind: 'count',
          figure: { value: s.ratings, previous: null, change: null, change_pct: null },
          compare: false,
        },
        {
          label: 'Rating, mean (1–5)',
          kind: 'number',
          figure: { value: s.rating_avg, previous: null, change: null, change_pct: null },
          compare: false,
        },
      ];
      block.tables.push(table(id, 'Ratings', RATING_COLUMNS, s.distribution));
      if (s.ratings === 0) block.notes.push('No user feedback in this period.');
      return block;
    }
    case 'business':
      if (!d.business) return undefined;
      block.tables.push(
        table(
          'business',
          'Business events',
          [
            col('metric', 'Metric', 'text'),
            col('events', 'Events', 'count'),
            col('sum', 'Sum', 'number'),
            col('avg', 'Mean', 'number'),
          ],
          d.business,
        ),
      );
      if (d.business.length === 0) block.notes.push('No business events in this period.');
      return block;
    case 'hosts':
      if (!d.hosts) return undefined;
      chart('utilisation_per_host');
      block.tables.push(
        table(
          'hosts',
          'Utilisation (%)',
          [
            col('host', 'Host', 'text'),
            col('metric', 'Metric', 'text'),
            col('samples', 'Samples', 'count'),
            col('mean', 'Mean', 'number'),
            col('p95', 'p95', 'number'),
            col('max', 'Max', 'number'),
          ],
          d.hosts.summary,
        ),
      );
      block.tables.push(
        table(
          'hosts_hourly',
          'Utilisation per hour (%)',
          [
            ...SPAN,
            col('host', 'Host', 'text'),
            col('metric', 'Metric', 'text'),
            col('mean', 'Mean', 'number'),
          ],
          d.hosts.hourly,
        ),
      );
      block.tables.at(-1)!.printable = false;
      return block;
    case 'completeness': {
      const c = d.completeness;
      if (!c) return undefined;
      block.tables.push(
        table(
          'completeness',
          'Data completeness',
          [col('item', 'Item', 'text'), col('value', 'Value', 'count')],
          [
            { item: 'Hours in the period', value: c.hours_expected },
            { item: 'Hours with data', value: c.hours_with_data },
            { item: 'Hours aggregated (final)', value: c.hours_aggregated },
            { item: 'Hours pending aggregation', value: c.hours_pending },
            { item: 'Hours re-opened by late data or backfill', value: c.hours_reopened },
            { item: 'Dead letters received', value: c.dead_letters },
          ],
        ),
      );
      block.tables.push(
        table(
          'dead_letters',
          'Dead letters by reason',
          [col('reason_code', 'Reason', 'text'), col('count', 'Count', 'count')],
          c.dead_letters_by_reason,
        ),
      );
      return block;
    }
    case 'trends': {
      if (!d.trends) return undefined;
      chart('trends');
      // the error rate (the mean of the error flag) in percent and its slope in points, as everywhere else
      const kinds = (metric: string) =>
        isRateMetric(metric)
          ? { kind: 'rate', slope_kind: 'rate_change' }
          : { kind: 'significant', slope_kind: 'significant' };
      block.tables.push(
        table(
          'trends',
          trendsTitle(doc),
          [
            col('metric', 'Metric', 'text'),
            col('statistic', 'Per day', 'text'),
            col('points', 'Days', 'count'),
            { ...col('first', 'First', 'significant'), kindFrom: 'kind' },
            { ...col('last', 'Last', 'significant'), kindFrom: 'kind' },
            { ...col('slope_per_day', 'Slope per day', 'significant'), kindFrom: 'slope_kind' },
            col('slope_pct_per_day', 'Slope % per day', 'change_pct'),
            col('r_squared', 'R²', 'number'),
          ],
          d.trends.rows.map((r) => ({ ...r, ...kinds(r.metric) })),
        ),
      );
      block.tables.push(
        table(
          'trend_points',
          'Daily values',
          [
            col('day', 'Day', 'date'),
            col('metric', 'Metric', 'text'),
            { ...col('value', 'Value', 'significant'), kindFrom: 'kind' },
          ],
          d.trends.points.map((p) => ({ ...p, ...kinds(p.metric) })),
        ),
      );
      block.tables.at(-1)!.printable = false;
      return block;
    }
    case 'anomalies': {
      const a = d.anomalies;
      if (!a) return undefined;
      block.notes.push(
        `Hours further than ${a.threshold} × the noise from the median of the same hour of the week in ${a.baseline_weeks} earlier weeks (noise: the scaled MAD, at least √median for requests and 10 % of the median for p95 latency, which is compared in hours of 20 requests or more); ${a.hours_checked} hours checked.`,
      );
      if (a.note) block.notes.push(a.note);
      else if (a.rows.length === 0) block.notes.push('No anomalous hour.');
      block.tables.push(
        table(
          'anomalies',
          'Anomalous hours',
          [
            col('hour', 'Hour', 'time'),
            col('metric', 'Metric', 'text'),
            col('value', 'Value', 'significant'),
            col('median', 'Median', 'significant'),
            col('mad', 'Noise (scaled MAD)', 'significant'),
            col('score', 'Score', 'number'),
            col('direction', 'Direction', 'text'),
          ],
          a.rows,
        ),
      );
      return block;
    }
    case 'cost_efficiency':
      if (!d.cost_efficiency) return undefined;
      block.tables.push(
        table(
          'cost_efficiency',
          'Cost per model',
          [
            col('model', 'Model', 'text'),
            col('requests', 'Requests', 'count'),
            col('cost_usd', 'Cost', 'usd'),
            col('cost_per_request_usd', 'Per request', 'usd'),
            col('cost_per_1k_tokens_usd', 'Per 1k tokens', 'usd'),
            col('cost_share', 'Share of spend', 'rate'),
          ],
          d.cost_efficiency,
        ),
      );
      return block;
    case 'load_heatmap':
      if (!d.load_heatmap) return undefined;
      chart('load_heatmap');
      block.tables.push(
        table(
          'load_heatmap',
          'Mean requests per hour of the week',
          [
            col('weekday_name', 'Day', 'text'),
            col('hour', 'Hour', 'count'),
            col('requests_avg', 'Requests (mean)', 'number'),
          ],
          d.load_heatmap,
        ),
      );
      return block;
    case 'capacity': {
      const c = d.capacity;
      if (!c) return undefined;
      block.notes.push(
        `analyze-capacity run ${c.run_id}, ${formatValue(c.generated_at, 'time', doc.period.time_zone)}; hourly history up to ${formatValue(c.data_end, 'time', doc.period.time_zone)}${c.forecasting ? '' : '; forecasting is off'}. Status "alert": the point forecast crosses the threshold within the alert horizon (BATCH_PROCESSING_CAPACITY_ALERT_HORIZON_DAYS).`,
      );
      block.tables.push(
        table(
          'capacity',
          'Per resource and series',
          [
            col('resource', 'Resource', 'text'),
            col('series', 'Series', 'text'),
            col('unit', 'Unit', 'text'),
            // percent and requests/h alike: two decimals in every row; limits and thresholds are settings,
            // whole numbers unless one is configured otherwise (then one decimal for the column)
            col('mean', 'Mean', 'number'),
            col('p95', 'p95', 'number'),
            col('max', 'Max', 'number'),
            col('limit', 'Limit', 'count'),
            col('threshold', 'Threshold', 'count'),
            col('utilization_ratio', 'p95 / limit', 'rate'),
            col('days_to_threshold', 'Days to threshold', 'number'),
            col('state', 'Status', 'text'),
          ],
          // "ok" beside a threshold days away would read as all clear: a series whose forecast crosses within
          // the alert horizon says so; otherwise the status is the analysis' (ok, insufficient history, stale)
          c.rows.map((r) => ({ ...r, state: r.alert ? 'alert' : r.status.replaceAll('_', ' ') })),
        ),
      );
      for (const r of c.rows) if (r.note) block.notes.push(`${r.resource} ${r.series}: ${r.note}`);
      return block;
    }
    case 'capacity_forecast':
      if (!d.capacity_forecast) return undefined;
      chart('capacity_forecast');
      block.tables.push(
        table(
          'capacity_forecast',
          'Forecast points (fleet)',
          [
            col('resource', 'Resource', 'text'),
            col('timestamp', 'Hour', 'time'),
            col('value', 'Forecast', 'significant'),
            col('lo95', '95 % low', 'significant'),
            col('hi95', '95 % high', 'significant'),
          ],
          d.capacity_forecast,
        ),
      );
      if (d.capacity_forecast.length === 0)
        block.notes.push('No series was forecast (forecasting off or history too short).');
      return block;
    case 'recommendations':
      if (!d.recommendations) return undefined;
      block.tables.push(
        table(
          'recommendations',
          'Recommendations',
          [
            col('resource', 'Resource', 'text'),
            col('series', 'Series', 'text'),
            col('action', 'Action', 'text'),
            col('text', 'Why', 'text'),
          ],
          d.recommendations,
        ),
      );
      return block;
    case 'checks':
      if (!d.checks) return undefined;
      block.tables.push(
        table('checks', 'Checks', [col('check', 'Check', 'text'), col('result', 'Result', 'text')], d.checks),
      );
      return block;
  }
}

/** The blocks of a document, in its sections' order (sections without data are left out). */
export function layout(doc: ReportDocument): Block[] {
  const charts = new Map(chartsOf(doc).map((c) => [c.id, c]));
  return doc.sections.flatMap((id) => blockOf(id, doc, charts) ?? []);
}
