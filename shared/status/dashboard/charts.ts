// Vega-Lite specifications of the web dashboard's charts, with their data inline; the page embeds them with
// vega-embed (SVG renderer, no actions menu). Times are UTC on the axis, as everywhere on the page.
import type { CapacityAnalysis, ForecastPoint } from '../../capacity/types.ts';
import type { DashboardData } from './data.ts';

type Spec = Record<string, unknown>;

const FONT = 'system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif';

const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', gridColor: '#e8ebf0' },
  // One width for every y axis's labels, so charts stacked in one card share their x positions.
  axisY: { minExtent: 36 },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'top', title: null },
};

/** Room for one legend entry (swatch and the longest event type, "business_event") in pixels. */
const LEGEND_ENTRY_WIDTH = 120;

/** The hour axis over the whole span (whole hours, the current one included), the same on both charts. */
function hourAxis(data: DashboardData): Spec {
  return {
    field: 'hour',
    type: 'temporal',
    title: null,
    timeUnit: 'utcyearmonthdatehours',
    scale: { type: 'utc', domain: [data.ingestion.since.toISOString(), data.ingestion.until.toISOString()] },
    axis: { format: '%d %b %H:%M', labelAngle: 0, tickCount: 8 },
  };
}

/** A bar per hour of the span; `extra` sets the mark colour or the colour channel. */
function hourlyBars(
  data: DashboardData,
  values: readonly object[],
  y: { field: string; title: string },
  height: number,
  extra: { color?: string; colorField?: string },
): Spec {
  return {
    width: 'container',
    height,
    config: CONFIG,
    data: { values },
    mark: { type: 'bar', tooltip: true, ...(extra.color ? { color: extra.color } : {}) },
    encoding: {
      x: hourAxis(data),
      y: { field: y.field, type: 'quantitative', title: y.title, stack: 'zero' },
      ...(extra.colorField
        ? {
            color: {
              field: extra.colorField,
              type: 'nominal',
              scale: { scheme: 'tableau10' },
              // One row on a laptop; on a phone as many columns as fit, so no entry is cut off.
              legend: { columns: { expr: `max(1, floor(width / ${LEGEND_ENTRY_WIDTH}))` } },
            },
          }
        : {}),
    },
  };
}

/** Events per hour by event type (from the hourly aggregates), stacked. */
export function ingestionChart(data: DashboardData): Spec {
  return hourlyBars(data, data.ingestion.perHour, { field: 'events', title: 'events per hour' }, 180, {
    colorField: 'eventType',
  });
}

/** Dead letters received per hour. */
export function rejectedChart(data: DashboardData): Spec {
  return hourlyBars(
    data,
    data.ingestion.rejectedPerHour,
    { field: 'rejected', title: 'rejected per hour' },
    110,
    {
      color: '#c0392b',
    },
  );
}

/** The first week of a forecast is drawn hour by hour (its daily cycle, the hour a crossing comes). */
const HOURLY_POINTS = 7 * 24;

interface ChartPoint {
  ts: string;
  value: number;
  lo95: number;
  hi95: number;
  /** An hour of the first week, or the peak of a later day (drawn with a dot). */
  kind: 'hour' | 'peak';
}

/**
 * A forecast's daily peaks: per 24 hours from its first point, the point with the highest forecast, at its
 * own hour, and the band the hourly bands give that peak (highest lower bound to highest upper bound). Whole
 * daily cycles only (a trailing part of a day would show its night as a drop). Weeks of hourly swings in a
 * card-wide chart read as a solid block; the daily peak is what meets the threshold.
 */
export function dailyPeaks(points: readonly ForecastPoint[]): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (let i = 0; i + 24 <= points.length; i += 24) {
    const day = points.slice(i, i + 24);
    const peak = day.reduce((best, p) => (p.value > best.value ? p : best));
    out.push({
      ts: peak.timestamp,
      value: peak.value,
      lo95: Math.max(...day.map((p) => p.lo95)),
      hi95: Math.max(...day.map((p) => p.hi95)),
      kind: 'peak',
    });
  }
  return out;
}

/**
 * One resource's forecast: the 95 % band, the point forecast and the threshold line (dashed). The first week
 * hour by hour, then each day's peak at the hour it comes (dailyPeaks), with a dot per peak.
 */
export function capacityChart(analysis: CapacityAnalysis): Spec | undefined {
  const points = analysis.forecast?.points ?? [];
  if (points.length === 0) return undefined;
  const hour = (p: ForecastPoint): ChartPoint => ({
    ts: p.timestamp,
    value: p.value,
    lo95: p.lo95,
    hi95: p.hi95,
    kind: 'hour',
  });
  const values = [...points.slice(0, HOURLY_POINTS).map(hour), ...dailyPeaks(points.slice(HOURLY_POINTS))];
  const x = {
    field: 'ts',
    type: 'temporal',
    title: null,
    scale: { type: 'utc' },
    axis: { format: '%d %b', labelAngle: 0 },
  };
  // The hours and the peaks are two series: a line from the last hour (a night, perhaps) up to the first peak
  // would read as growth.
  const detail = { field: 'kind', type: 'nominal' };
  const layers: Spec[] = [
    {
      mark: { type: 'area', color: '#4c78a8', opacity: 0.2 },
      encoding: {
        x,
        y: { field: 'lo95', type: 'quantitative', title: analysis.unit },
        y2: { field: 'hi95' },
        detail,
      },
    },
    {
      mark: { type: 'line', color: '#4c78a8', strokeWidth: 1.5 },
      encoding: { x, y: { field: 'value', type: 'quantitative' }, detail },
    },
  ];
  if (values.some((v) => v.kind === 'peak')) {
    layers.push({
      transform: [{ filter: "datum.kind === 'peak'" }],
      mark: { type: 'point', filled: true, size: 14, color: '#4c78a8' },
      encoding: { x, y: { field: 'value', type: 'quantitative' } },
    });
  }
  if (analysis.threshold !== null) {
    layers.push({
      mark: { type: 'rule', color: '#c0392b', strokeDash: [4, 3] },
      encoding: { y: { datum: analysis.threshold } },
    });
  }
  return {
    width: 'container',
    height: 130,
    config: CONFIG,
    data: { values },
    layer: layers,
  };
}
