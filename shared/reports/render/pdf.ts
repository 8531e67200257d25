// PDF (pdfmake, A4): a title block, KPI tiles beside the previous period, charts as vector SVG, tables with
// their units and repeated header rows, page numbers, Roboto embedded. pdfmake 0.3 in Node reads no local file
// until a local access policy allows it: only the font folder is allowed, and no URL at all.
import { join } from 'node:path';
import pdfmake from 'pdfmake/js/index.js';
import type { ReportDocument } from '../model.ts';
import { CHART_WIDTH, chartSvg } from './charts.ts';
import { fontDir, FONT_FAMILY, FONT_STYLES } from './fonts.ts';
import { formatValue, sourceText, zonedTimeText } from './format.ts';
import {
  cellText,
  isNumericKind,
  kpiChangeText,
  kpiValueText,
  layout,
  type Kpi,
  type Table,
} from './layout.ts';

/** pdfmake's document nodes, loosely: text/stack/table/svg objects. */
type Content = Record<string, unknown>;
type TableCell = Content;

const ACCENT = '#1f4e79';
const MUTED = '#666666';

let configured = false;
function printer(): typeof pdfmake {
  const p = pdfmake;
  if (!configured) {
    const dir = fontDir();
    p.setLocalAccessPolicy((path) => path.startsWith(dir));
    p.setUrlAccessPolicy(() => false);
    p.setFonts({
      [FONT_FAMILY]: Object.fromEntries(
        Object.entries(FONT_STYLES).map(([style, file]) => [style, join(dir, file)]),
      ),
    });
    configured = true;
  }
  return p;
}

function kpiTiles(kpis: Kpi[]): Content {
  const cells: TableCell[] = kpis.map((k) => {
    // a tile not compared keeps its line (' '), so the tiles of a row stay one height
    const change = kpiChangeText(k) || ' ';
    return {
      stack: [
        { text: k.label, fontSize: 8, color: MUTED },
        {
          text: kpiValueText(k),
          fontSize: 16,
          bold: true,
          color: ACCENT,
          margin: [0, 2, 0, 2],
        },
        { text: change, fontSize: 7.5, color: MUTED },
      ],
      fillColor: '#f3f6fa',
      margin: [6, 5, 6, 5],
    };
  });
  const rows: TableCell[][] = [];
  for (let i = 0; i < cells.length; i += 3) {
    const row = cells.slice(i, i + 3);
    while (row.length < 3) row.push({ text: '' });
    rows.push(row);
  }
  return {
    table: { widths: ['*', '*', '*'], body: rows },
    layout: {
      hLineWidth: () => 3,
      vLineWidth: () => 3,
      hLineColor: () => '#ffffff',
      vLineColor: () => '#ffffff',
    },
    margin: [0, 0, 0, 8],
  };
}

function tableContent(table: Table, timeZone: string, showTitle: boolean): Content {
  const numeric = table.columns.map((c) => isNumericKind(c.kind));
  // the longest text column takes the free width; the others are as wide as their content
  const longest = (i: number): number =>
    Math.max(
      table.columns[i]!.label.length,
      ...table.rows.map((r) => String(r[table.columns[i]!.key] ?? '').length),
    );
  const textColumns = table.columns.map((_, i) => i).filter((i) => !numeric[i]);
  const longestText = textColumns.reduce<number | undefined>(
    (best, i) => (best === undefined || longest(i) > longest(best) ? i : best),
    undefined,
  );
  // a span's start hands the free width to its end beside it, so From and To read as one pair
  const wide =
    longestText !== undefined && table.columns[longestText + 1]?.kind === 'until'
      ? longestText + 1
      : longestText;
  const header: TableCell[] = table.columns.map((c, i) => ({
    text: c.label,
    bold: true,
    fontSize: 8,
    color: '#ffffff',
    fillColor: ACCENT,
    alignment: numeric[i] ? 'right' : 'left',
  }));
  // pdfmake breaks words at hyphens when it narrows an 'auto' column ("gpu-" / "node-1"): short labels stay whole
  const noWrap = table.columns.map((_, i) => i !== wide && (numeric[i] || longest(i) <= 24));
  const body: TableCell[][] = table.rows.map((row) =>
    table.columns.map((c, i) => ({
      text: cellText(table, c, row, timeZone),
      fontSize: 8,
      alignment: numeric[i] ? 'right' : 'left',
      ...(noWrap[i] ? { noWrap: true } : {}),
    })),
  );
  if (body.length === 0) {
    body.push(table.columns.map((_, i) => ({ text: i === 0 ? 'none' : '', fontSize: 8, color: MUTED })));
  }
  return {
    // a short table is kept on one page with its title; a long one repeats its header row
    unbreakable: body.length <= 25,
    stack: [
      ...(showTitle ? [{ text: table.title, fontSize: 9, bold: true, margin: [0, 4, 0, 3] } as Content] : []),
      {
        table: {
          headerRows: 1,
          dontBreakRows: true,
          // a table of numbers only (a rating distribution) is as wide as its content, not the page
          widths: table.columns.map((_, i) => (i === wide ? '*' : 'auto')),
          body: [header, ...body],
        },
        layout: {
          fillColor: (row: number) => (row > 0 && row % 2 === 0 ? '#f5f5f5' : null),
          hLineWidth: (i: number) => (i === 1 ? 0.8 : 0),
          vLineWidth: () => 0,
          paddingTop: () => 2,
          paddingBottom: () => 2,
        },
      },
    ],
    margin: [0, 0, 0, 8],
  };
}

export async function renderPdf(doc: ReportDocument): Promise<Buffer> {
  const zone = doc.period.time_zone;
  const content: Content[] = [
    { text: doc.title, fontSize: 20, bold: true, color: ACCENT },
    {
      text: `${formatValue(doc.period.start, 'time', zone)} to ${formatValue(doc.period.end, 'time', zone)} (${zone})`,
      fontSize: 10,
      margin: [0, 2, 0, 0],
    },
    {
      text: `Generated ${zonedTimeText(doc.generated_at, zone)} from ${sourceText(doc)}${
        doc.previous_period ? `; compared with ${doc.previous_period.label}` : ''
      }`,
      fontSize: 8,
      color: MUTED,
      margin: [0, 2, 0, 10],
    },
  ];
  for (const block of layout(doc)) {
    const heading: Content = {
      text: block.title,
      fontSize: 13,
      bold: true,
      color: ACCENT,
      margin: [0, 8, 0, 4],
    };
    const parts: Content[] = [];
    if (block.kpis.length > 0) parts.push(kpiTiles(block.kpis));
    for (const chart of block.charts) {
      const svg = await chartSvg(chart);
      const width = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1] ?? CHART_WIDTH);
      parts.push({ svg, width: Math.min(width, CHART_WIDTH), margin: [0, 0, 0, 6] });
    }
    for (const table of block.tables) {
      if (table.printable) parts.push(tableContent(table, zone, table.title !== block.title));
      else {
        parts.push({
          text: `${table.title}: ${table.rows.length} rows, in the CSV and JSON formats of this report.`,
          fontSize: 8,
          color: MUTED,
          margin: [0, 0, 0, 6],
        });
      }
    }
    for (const note of block.notes)
      parts.push({ text: note, fontSize: 8, color: MUTED, margin: [0, 0, 0, 4] });
    // the heading never ends a page alone: it is kept with the section's first element
    const [first, ...rest] = parts;
    content.push({ stack: [{ stack: [heading, ...(first ? [first] : [])], unbreakable: true }, ...rest] });
  }
  const definition = {
    pageSize: 'A4',
    pageMargins: [40, 40, 40, 50],
    defaultStyle: { font: FONT_FAMILY, fontSize: 9 },
    info: {
      title: doc.title,
      subject: `${doc.report_type} ${doc.period.label}`,
      creator: 'hxp-batch generate-report',
    },
    content,
    footer: (page: number, pages: number) => ({
      columns: [
        { text: doc.footer, fontSize: 7, color: MUTED },
        { text: `page ${page} of ${pages}`, fontSize: 7, color: MUTED, alignment: 'right', width: 80 },
      ],
      margin: [40, 20, 40, 0],
    }),
  };
  return printer().createPdf(definition).getBuffer();
}
