// Text widths for vega's layout, measured in the Roboto files the charts are drawn with. Node has no canvas,
// so vega falls back to 0.8 em a character, about 1.6 × Roboto's real width: titles, axis labels and legends
// were laid out far wider than drawn, and a long title stretched a chart's SVG past its plot (an empty strip on
// the right of the chart in the PDF and the DOCX image). vega lets a renderer put its own measure in
// `textMetrics.width` (vl-convert does the same); this puts the fonts' advance widths there.
import { join } from 'node:path';
import { openSync, type Font } from 'fontkit';
import * as vega from 'vega';
import { fontDir, FONT_STYLES } from './fonts.ts';

/** The part of a vega text item the width depends on. */
interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  fontStyle?: string;
  limit?: number;
}

// vega's types leave textMetrics out; it is the object vega-scenegraph exports and reads at every layout
const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } })
  .textMetrics;

let fonts: Record<keyof typeof FONT_STYLES, Font> | undefined;
/** Widths in em, per style and text: a chart measures the same labels many times. */
const cache = new Map<string, number>();

function styleOf(item: TextItem): keyof typeof FONT_STYLES {
  const weight = item.fontWeight === 'bold' || Number(item.fontWeight) >= 500;
  const italic = item.fontStyle === 'italic' || item.fontStyle === 'oblique';
  if (weight) return italic ? 'bolditalics' : 'bold';
  return italic ? 'italics' : 'normal';
}

/** The width of `text` in pixels as resvg and pdfmake draw it (every chart uses the one family, Roboto). */
export function textWidth(item: TextItem, text: unknown): number {
  const line = text === null || text === undefined ? '' : String(text).trim();
  const size = item.fontSize === undefined ? 11 : Number(item.fontSize) || 0;
  if (!line || size <= 0) return 0;
  const style = styleOf(item);
  const key = `${style}\n${line}`;
  let em = cache.get(key);
  if (em === undefined) {
    fonts ??= Object.fromEntries(
      Object.entries(FONT_STYLES).map(([s, file]) => [s, openSync(join(fontDir(), file))]),
    ) as Record<keyof typeof FONT_STYLES, Font>;
    const font = fonts[style];
    em = font.layout(line).advanceWidth / font.unitsPerEm;
    cache.set(key, em);
  }
  // a text longer than its limit is drawn cut to it with an ellipsis
  const width = em * size;
  return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
}

/** Makes vega measure text with the report fonts (idempotent; every chart of the process is a report's). */
export function useReportFontMetrics(): void {
  metrics.width = textWidth;
}
