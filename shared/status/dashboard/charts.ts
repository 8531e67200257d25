// Vega-Lite specifications of the web dashboard's charts, with their data inline; the page embeds them with
// vega-embed (SVG renderer, no actions menu). Times are UTC on the axis, as everywhere on the page.
import type { DashboardData } from './data.ts';

type Spec = Record<string, unknown>;

const FONT = 'system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif';

const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', gridColor: '#e8ebf0' },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'top', title: null },
};

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
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 'container',
    height,
    config: CONFIG,
    data: { values },
    mark: { type: 'bar', tooltip: true, ...(extra.color ? { color: extra.color } : {}) },
    encoding: {
      x: hourAxis(data),
      y: { field: y.field, type: 'quantitative', title: y.title, stack: 'zero' },
      ...(extra.colorField
        ? { color: { field: extra.colorField, type: 'nominal', scale: { scheme: 'tableau10' } } }
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
