// The report's charts as Vega-Lite specs built from the document, rendered headless to SVG (vega's 'none'
// renderer needs no canvas) for the PDF, and to PNG (resvg) for DOCX. The charts over the period's hours are
// drawn on real instants, ticked and labelled in the report's zone (time-axis.ts); the capacity forecast's
// dates as wall-clock time of the zone: instants shifted by the zone's offset and read with utc time units. So
// no axis depends on the TZ of the process.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { utcOffsetMinutes } from '../../aggregate/index.ts';
import type { ReportDocument } from '../model.ts';
import { fontFiles, FONT_FAMILY } from './fonts.ts';
import { isRateMetric } from './format.ts';
import { useReportFontMetrics } from './text-width.ts';
import { periodAxis } from './time-axis.ts';

export interface ChartSpec {
  id: string;
  title: string;
  spec: TopLevelSpec;
}

/** Content width of an A4 page with the PDF's margins, in points. */
export const CHART_WIDTH = 500;

function wall(iso: string, zone: string): string {
  const at = new Date(iso);
  return new Date(at.getTime() + utcOffsetMinutes(zone, at) * 60_000).toISOString();
}

/**
 * A utc scale over `domain` for a mark ranged by x and x2. Vega-Lite reads an explicit domain once for x and
 * once for x2 in two forms, warns that they conflict (on stderr, at every render) and takes their union; a raw
 * domain is read once and is the same range.
 */
function rangedScale(domain: [number, number]): { type: 'utc'; domainRaw: { signal: string } } {
  return { type: 'utc', domainRaw: { signal: JSON.stringify(domain) } };
}

/**
 * Axis and legend labels with at most four significant digits (whole numbers from 1,000), as the tables write
 * them. Vega's own format follows the tick step, which is 0 when every value is the same (a single day or
 * cell): it then wrote six decimals, "1,372.446583", "23.000000".
 */
const NUMBER_LABEL = "format(datum.value, abs(datum.value) >= 1000 ? ',.0f' : ',.4~g')";

const CONFIG = {
  font: FONT_FAMILY,
  view: { stroke: null },
  axis: { labelFontSize: 9, titleFontSize: 10, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 9, titleFontSize: 10 },
  title: { fontSize: 11, anchor: 'start' as const, fontWeight: 'bold' as const },
  bar: { color: '#3b6ea8' },
  line: { color: '#3b6ea8' },
};

function base(title: string, width = CHART_WIDTH - 60, height = 140) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(title ? { title } : {}),
    width,
    height,
    config: CONFIG,
    background: 'white',
  };
}

const HOUR_MS = 3_600_000;
/**
 * A period of more hours than this (a week, a month) draws its hours as an area: a bar an hour wide is under a
 * point wide there (0.6 pt in a month) and its white outline covers it.
 */
const BARS_UP_TO_HOURS = 48;

/** Whether the period is long enough that its hours are drawn as an area, whatever rows have data. */

/**
 * The value axis of a bar chart: about six labels, and none drawn over another (fourteen ticks over $0.26
 * printed 0.00 and 0.02 on top of each other).
 */
const VALUE_AXIS = { labelOverlap: true, tickCount: 6 } as const;
export function drawsHoursAsArea(doc: ReportDocument): boolean {
  return (Date.parse(doc.period.end) - Date.parse(doc.period.start)) / HOUR_MS > BARS_UP_TO_HOURS;
}
/** The most ticks of a host panel's time axis (a day's: 00:00, 06:00, 12:00, 18:00, 24:00). */
const HOST_TICKS = 5;
const HOURS_OF_DAY = Array.from({ length: 24 }, (_, hour) => hour);

/** Each host's hourly row marked `alone` when neither the hour before nor the one after has a value. */
export function withLoneHours<T extends { hour: string; host: string; metric: string; mean: number | null }>(
  rows: readonly T[],
): Array<T & { alone: boolean }> {
  const known = new Set(
    rows.filter((r) => r.mean !== null).map((r) => `${r.host}\n${r.metric}\n${Date.parse(r.hour)}`),
  );
  const has = (r: T, at: number) => known.has(`${r.host}\n${r.metric}\n${at}`);
  return rows.map((r) => {
    const at = Date.parse(r.hour);
    // an hour without a value (the host sent nothing) is a gap in the line, not a point
    return { ...r, alone: r.mean !== null && !has(r, at - HOUR_MS) && !has(r, at + HOUR_MS) };
  });
}

/** Every chart the document's data allows (layout.ts picks those of the sections shown). */
export function chartsOf(doc: ReportDocument): ChartSpec[] {
  const d = doc.data;
  const zone = doc.period.time_zone;
  const out: ChartSpec[] = [];
  const timeTitle = `time (${zone})`;
  const period = periodAxis(doc);
  if (d.hourly && d.hourly.length > 0) {
    // by the period's length, not the rows': 13 hours of data in a month were drawn as bars against its 720
    // hours, hairlines at the right edge of an empty axis
    const many = drawsHoursAsArea(doc);
    out.push({
      id: 'requests_per_hour',
      title: 'Requests per hour',
      spec: {
        // the section heading already says "Requests per hour"
        ...base(''),
        data: {
          values: d.hourly.map((h) => ({
            hour: h.hour,
            hour_end: h.hour_end,
            requests: h.requests,
          })),
        },
        mark: many
          ? { type: 'area', line: true, opacity: 0.35 }
          : { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: {
            field: 'hour',
            type: 'temporal',
            scale: many ? { type: 'utc', domain: period.domain } : rangedScale(period.domain),
            title: timeTitle,
            axis: { ...period.axis, labelOverlap: true },
          },
          // a bar spans its row's start to end, so it sits where the table puts it: a whole hour starts at :30
          // local in a +05:30 zone, and the part of an hour at a period's edge is a narrower bar
          ...(many ? {} : { x2: { field: 'hour_end' } }),
          y: { field: 'requests', type: 'quantitative', title: 'requests' },
          // with x2 a bar is a ranged one: it rises from 0 only when told
          ...(many ? {} : { y2: { datum: 0 } }),
        },
      } as TopLevelSpec,
    });
  }
  if (d.latency && d.latency.by_model.length > 0) {
    out.push({
      id: 'latency_p95_per_model',
      title: 'Latency p95 per model',
      spec: {
        ...base('Latency p95 per model (ms)', CHART_WIDTH - 150, 18 * d.latency.by_model.length),
        data: { values: d.latency.by_model.filter((m) => m.latency_p95_ms !== null) },
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'model', type: 'nominal', sort: '-x', title: null },
          x: { field: 'latency_p95_ms', type: 'quantitative', title: 'p95 latency (ms)', axis: VALUE_AXIS },
        },
      } as TopLevelSpec,
    });
  }
  if (d.models && d.models.length > 0) {
    out.push({
      id: 'cost_by_model',
      title: 'Cost by model',
      spec: {
        ...base('Cost by model (USD)', CHART_WIDTH - 150, 18 * d.models.length),
        data: { values: d.models },
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'model', type: 'nominal', sort: '-x', title: null },
          x: { field: 'cost_usd', type: 'quantitative', title: 'cost (USD)', axis: VALUE_AXIS },
        },
      } as TopLevelSpec,
    });
  }
  if (d.hosts && d.hosts.hourly.length > 0) {
    // a week's or a month's panels two to a row, wider: four in a row left 130 pt for 720 hours, and a day of
    // data in a month was a smudge at the right edge
    const wide = drawsHoursAsArea(doc);
    out.push({
      id: 'utilisation_per_host',
      title: 'Utilisation per host',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'Utilisation per host (%, hourly mean)',
        config: CONFIG,
        background: 'white',
        data: { values: withLoneHours(d.hosts.hourly) },
        ...(wide
          ? { facet: { field: 'metric', type: 'nominal', title: null }, columns: 2 }
          : { facet: { column: { field: 'metric', type: 'nominal', title: null } } }),
        spec: {
          width: wide ? 175 : 130,
          height: wide ? 90 : 110,
          encoding: {
            x: {
              field: 'hour',
              type: 'temporal',
              scale: { type: 'utc', domain: period.domain },
              title: timeTitle,
              axis: { ...periodAxis(doc, HOST_TICKS).axis, labelOverlap: true },
            },
            y: { field: 'mean', type: 'quantitative', title: null, scale: { domain: [0, 100] } },
            color: {
              field: 'host',
              type: 'nominal',
              title: 'host',
              scale: { scheme: 'tableau10' },
              legend: { symbolType: 'stroke' },
            },
          },
          layer: [
            { mark: { type: 'line', strokeWidth: 1.2 } },
            // a line needs two neighbouring hours: an hour alone (one hour of data in a week) drew nothing
            {
              transform: [{ filter: 'datum.alone' }],
              mark: { type: 'point', filled: true, size: 16, opacity: 1 },
            },
          ],
        },
      } as TopLevelSpec,
    });
  }
  if (d.load_heatmap && d.load_heatmap.some((c) => c.requests_avg !== null)) {
    const order = d.load_heatmap.filter((c) => c.hour === 0).map((c) => c.weekday_name);
    out.push({
      id: 'load_heatmap',
      title: 'Load by hour of the week',
      spec: {
        ...base('Mean requests per hour of the week', CHART_WIDTH - 110, 140),
        data: { values: d.load_heatmap },
        mark: { type: 'rect' },
        encoding: {
          // every hour of the day, with data or not: a week with data in one hour drew that hour's column
          // alone across the whole width
          x: {
            field: 'hour',
            type: 'ordinal',
            title: `hour (${zone})`,
            scale: { domain: HOURS_OF_DAY },
            axis: { labelAngle: 0 },
          },
          y: { field: 'weekday_name', type: 'ordinal', sort: order, title: null },
          color: {
            field: 'requests_avg',
            type: 'quantitative',
            title: 'requests',
            // from 0: one cell alone is dark, not the palest colour of a scale of one value
            scale: { scheme: 'blues', zero: true },
            legend: { labelExpr: NUMBER_LABEL },
          },
        },
      } as TopLevelSpec,
    });
  }
  if (d.capacity_forecast && d.capacity_forecast.length > 0) {
    // each panel's y axis is in its resource's unit, as analyze-capacity measured it: "cpu (%)",
    // "requests/h", where the resource's name alone left the scale without a unit
    const units = new Map((d.capacity?.rows ?? []).map((r) => [r.resource, r.unit]));
    const panel = (resource: string) => {
      const unit = units.get(resource);
      if (!unit) return resource;
      return unit.startsWith(resource) ? unit : `${resource} (${unit})`;
    };
    const values = d.capacity_forecast.map((p) => ({
      ...p,
      panel: panel(p.resource),
      timestamp: wall(p.timestamp, zone),
    }));
    const thresholds = [
      ...new Map(
        d.capacity_forecast.filter((p) => p.threshold !== null).map((p) => [p.resource, p.threshold]),
      ).entries(),
    ].map(([resource, threshold]) => ({ resource, panel: panel(resource), threshold }));
    const x = {
      field: 'timestamp',
      type: 'temporal',
      scale: { type: 'utc' },
      title: timeTitle,
      axis: { format: '%d %b', labelOverlap: true },
    };
    out.push({
      id: 'capacity_forecast',
      title: 'Capacity forecast',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'Fleet forecast with its 95 % band; the dashed line is the threshold',
        config: CONFIG,
        background: 'white',
        facet: { row: { field: 'panel', type: 'nominal', title: null } },
        data: { values: [...values, ...thresholds.map((t) => ({ ...t, kind: 'threshold' }))] },
        spec: {
          width: CHART_WIDTH - 110,
          height: 110,
          layer: [
            {
              transform: [{ filter: 'datum.kind !== "threshold"' }],
              mark: { type: 'area', opacity: 0.25, color: '#3b6ea8' },
              encoding: {
                x,
                y: { field: 'lo95', type: 'quantitative', title: null, scale: { zero: false } },
                y2: { field: 'hi95' },
              },
            },
            {
              transform: [{ filter: 'datum.kind !== "threshold"' }],
              mark: { type: 'line', color: '#1f4e79' },
              encoding: { x, y: { field: 'value', type: 'quantitative' } },
            },
            {
              transform: [{ filter: 'datum.kind === "threshold"' }],
              mark: { type: 'rule', color: '#d62728', strokeDash: [5, 4] },
              encoding: { y: { field: 'threshold', type: 'quantitative' } },
            },
          ],
        },
        resolve: { scale: { y: 'independent' } },
      } as TopLevelSpec,
    });
  }
  if (d.trends && d.trends.points.length > 0) {
    // one panel per trend row, in the table's order: a metric without a value in the window (no ratings) gets
    // its panel saying so, where it had none and its place in the grid showed a bare axis
    const panel = (metric: string) => (isRateMetric(metric) ? `${metric} rate (%)` : metric);
    const withData = new Set(d.trends.points.filter((p) => p.value !== null).map((p) => p.metric));
    const values = [
      ...d.trends.points.map((p) => ({
        panel: panel(p.metric),
        day: `${p.day}T00:00:00Z`,
        // an error rate in percent, as every other report writes it, not a fraction
        value: p.value !== null && isRateMetric(p.metric) ? p.value * 100 : p.value,
      })),
      ...d.trends.rows
        .filter((r) => !withData.has(r.metric))
        .map((r) => ({ panel: panel(r.metric), day: null, value: null, empty: true })),
    ];
    const [width, height] = [130, 70];
    out.push({
      id: 'trends',
      title: 'Daily trends',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'Daily values per metric',
        config: CONFIG,
        background: 'white',
        data: { values },
        facet: {
          field: 'panel',
          type: 'nominal',
          title: null,
          sort: d.trends.rows.map((r) => panel(r.metric)),
        },
        columns: 3,
        spec: {
          width,
          height,
          layer: [
            {
              mark: { type: 'line', point: { size: 12 } },
              encoding: {
                x: {
                  field: 'day',
                  type: 'temporal',
                  scale: { type: 'utc' },
                  title: null,
                  axis: { format: '%d %b', tickCount: 3 },
                },
                y: {
                  field: 'value',
                  type: 'quantitative',
                  title: null,
                  scale: { zero: false },
                  axis: { labelExpr: NUMBER_LABEL },
                },
              },
            },
            {
              mark: { type: 'line', color: '#d62728', strokeDash: [4, 3] },
              transform: [{ regression: 'value', on: 'day' }],
              encoding: {
                x: { field: 'day', type: 'temporal' },
                y: { field: 'value', type: 'quantitative' },
              },
            },
            {
              transform: [{ filter: 'datum.empty' }],
              mark: { type: 'text', text: 'no data in the window', color: '#666666', fontSize: 9 },
              encoding: { x: { value: width / 2 }, y: { value: height / 2 } },
            },
          ],
        },
        // each panel its own time axis: with a shared one, a grid row short of panels showed an axis under
        // the empty place
        resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
      } as TopLevelSpec,
    });
  }
  return out;
}

/** A chart as SVG text (vector, for the PDF). */
export async function chartSvg(chart: ChartSpec): Promise<string> {
  useReportFontMetrics();
  const view = new vega.View(vega.parse(compile(chart.spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** An SVG chart as PNG at `scale`× (for DOCX, which takes raster images). */
export function svgToPng(svg: string, scale = 2): { png: Buffer; width: number; height: number } {
  const image = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: fontFiles(), defaultFontFamily: FONT_FAMILY },
    fitTo: { mode: 'zoom', value: scale },
  }).render();
  return { png: image.asPng(), width: image.width / scale, height: image.height / scale };
}
