// The report's charts as Vega-Lite specs built from the document, rendered headless to SVG (vega's 'none'
// renderer needs no canvas) for the PDF, and to PNG (resvg) for DOCX. Times are drawn as wall-clock time of the
// report's zone: instants are shifted by the zone's offset and read with utc time units, so the axis does not
// depend on the TZ of the process.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { utcOffsetMinutes } from '../../aggregate/index.ts';
import type { ReportDocument } from '../model.ts';
import { fontFiles, FONT_FAMILY } from './fonts.ts';

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

/** Every chart the document's data allows (layout.ts picks those of the sections shown). */
export function chartsOf(doc: ReportDocument): ChartSpec[] {
  const d = doc.data;
  const zone = doc.period.time_zone;
  const out: ChartSpec[] = [];
  const timeTitle = `time (${zone})`;
  if (d.hourly && d.hourly.length > 0) {
    const many = d.hourly.length > 48;
    out.push({
      id: 'requests_per_hour',
      title: 'Requests per hour',
      spec: {
        // the section heading already says "Requests per hour"
        ...base(''),
        data: {
          values: d.hourly.map((h) => ({
            hour: wall(h.hour, zone),
            hour_end: wall(h.hour_end, zone),
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
            scale: { type: 'utc' },
            title: timeTitle,
            axis: { format: many ? '%d %b' : '%H:%M', labelOverlap: true },
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
          x: { field: 'latency_p95_ms', type: 'quantitative', title: 'p95 latency (ms)' },
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
          x: { field: 'cost_usd', type: 'quantitative', title: 'cost (USD)' },
        },
      } as TopLevelSpec,
    });
  }
  if (d.hosts && d.hosts.hourly.length > 0) {
    const hours = new Set(d.hosts.hourly.map((h) => h.hour)).size;
    out.push({
      id: 'utilisation_per_host',
      title: 'Utilisation per host',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'Utilisation per host (%, hourly mean)',
        config: CONFIG,
        background: 'white',
        data: { values: d.hosts.hourly.map((h) => ({ ...h, hour: wall(h.hour, zone) })) },
        facet: { column: { field: 'metric', type: 'nominal', title: null } },
        spec: {
          width: 130,
          height: 110,
          mark: { type: 'line', strokeWidth: 1.2 },
          encoding: {
            x: {
              field: 'hour',
              type: 'temporal',
              scale: { type: 'utc' },
              title: timeTitle,
              axis: { labelOverlap: true, tickCount: 4, format: hours > 48 ? '%d %b' : '%H:%M' },
            },
            y: { field: 'mean', type: 'quantitative', title: null, scale: { domain: [0, 100] } },
            color: { field: 'host', type: 'nominal', title: 'host', scale: { scheme: 'tableau10' } },
          },
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
          x: { field: 'hour', type: 'ordinal', title: `hour (${zone})` },
          y: { field: 'weekday_name', type: 'ordinal', sort: order, title: null },
          color: {
            field: 'requests_avg',
            type: 'quantitative',
            title: 'requests',
            scale: { scheme: 'blues' },
          },
        },
      } as TopLevelSpec,
    });
  }
  if (d.capacity_forecast && d.capacity_forecast.length > 0) {
    const values = d.capacity_forecast.map((p) => ({ ...p, timestamp: wall(p.timestamp, zone) }));
    const thresholds = [
      ...new Map(
        d.capacity_forecast.filter((p) => p.threshold !== null).map((p) => [p.resource, p.threshold]),
      ).entries(),
    ].map(([resource, threshold]) => ({ resource, threshold }));
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
        facet: { row: { field: 'resource', type: 'nominal', title: null } },
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
    out.push({
      id: 'trends',
      title: 'Daily trends',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'Daily values per metric',
        config: CONFIG,
        background: 'white',
        data: { values: d.trends.points.map((p) => ({ ...p, day: `${p.day}T00:00:00Z` })) },
        facet: { field: 'metric', type: 'nominal', title: null },
        columns: 3,
        spec: {
          width: 130,
          height: 70,
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
                y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
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
          ],
        },
        resolve: { scale: { y: 'independent' } },
      } as TopLevelSpec,
    });
  }
  return out;
}

/** A chart as SVG text (vector, for the PDF). */
export async function chartSvg(chart: ChartSpec): Promise<string> {
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
