// DOCX (docx): the same blocks as the PDF with real headings (Title, Heading 1/2), real tables (a repeated
// header row, numbers right-aligned) and the charts as PNG (resvg), A4 with page numbers in the footer.
import {
  AlignmentType,
  Document,
  Footer,
  HeadingLevel,
  ImageRun,
  Packer,
  PageNumber,
  Paragraph,
  ShadingType,
  Table as DocxTable,
  TableCell,
  TableRow,
  TextRun,
  WidthType,
} from 'docx';
import type { ReportDocument } from '../model.ts';
import { chartSvg, svgToPng } from './charts.ts';
import { FONT_FAMILY } from './fonts.ts';
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

const ACCENT = '1F4E79';
const MUTED = '666666';
/** A4 portrait in twips (1/1440 inch); margins of 2 cm. */
const PAGE = { width: 11906, height: 16838, margin: 1134 };
const CONTENT_PX = 600;

function text(value: string, options: { bold?: boolean; color?: string; size?: number } = {}): TextRun {
  return new TextRun({
    text: value,
    bold: options.bold ?? false,
    color: options.color,
    size: options.size ?? 18,
    font: FONT_FAMILY,
  });
}

function cell(value: string, options: { header?: boolean; right?: boolean; shade?: string } = {}): TableCell {
  return new TableCell({
    children: [
      new Paragraph({
        alignment: options.right ? AlignmentType.RIGHT : AlignmentType.LEFT,
        children: [
          text(value, {
            bold: options.header ?? false,
            color: options.header ? 'FFFFFF' : undefined,
            size: 16,
          }),
        ],
      }),
    ],
    ...(options.shade ? { shading: { type: ShadingType.CLEAR, color: 'auto', fill: options.shade } } : {}),
    margins: { top: 30, bottom: 30, left: 60, right: 60 },
  });
}

function tableOf(table: Table, timeZone: string): DocxTable {
  const numeric = table.columns.map((c) => isNumericKind(c.kind));
  const header = new TableRow({
    tableHeader: true,
    children: table.columns.map((c, i) => cell(c.label, { header: true, right: numeric[i]!, shade: ACCENT })),
  });
  const rows = table.rows.map(
    (row, r) =>
      new TableRow({
        cantSplit: true,
        children: table.columns.map((c, i) =>
          cell(cellText(table, c, row, timeZone), {
            right: numeric[i]!,
            ...(r % 2 === 1 ? { shade: 'F5F5F5' } : {}),
          }),
        ),
      }),
  );
  if (rows.length === 0)
    rows.push(new TableRow({ children: table.columns.map((_, i) => cell(i === 0 ? 'none' : '')) }));
  return new DocxTable({ rows: [header, ...rows], width: { size: 100, type: WidthType.PERCENTAGE } });
}

function kpiTable(kpis: Kpi[]): DocxTable {
  const rows = kpis.map((k) => {
    const previous = kpiChangeText(k);
    return new TableRow({
      children: [
        cell(k.label, { shade: 'F3F6FA' }),
        new TableCell({
          shading: { type: ShadingType.CLEAR, color: 'auto', fill: 'F3F6FA' },
          margins: { top: 30, bottom: 30, left: 60, right: 60 },
          children: [
            new Paragraph({
              alignment: AlignmentType.RIGHT,
              children: [text(kpiValueText(k), { bold: true, color: ACCENT, size: 24 })],
            }),
          ],
        }),
        cell(previous, { shade: 'F3F6FA' }),
      ],
    });
  });
  return new DocxTable({ rows, width: { size: 100, type: WidthType.PERCENTAGE } });
}

export async function renderDocx(doc: ReportDocument): Promise<Buffer> {
  const zone = doc.period.time_zone;
  const children: Array<Paragraph | DocxTable> = [
    new Paragraph({
      heading: HeadingLevel.TITLE,
      children: [new TextRun({ text: doc.title, font: FONT_FAMILY })],
    }),
    new Paragraph({
      children: [
        text(
          `${formatValue(doc.period.start, 'time', zone)} to ${formatValue(doc.period.end, 'time', zone)} (${zone})`,
          { size: 20 },
        ),
      ],
    }),
    new Paragraph({
      spacing: { after: 200 },
      children: [
        text(
          `Generated ${zonedTimeText(doc.generated_at, zone)} from ${sourceText(doc)}${
            doc.previous_period ? `; compared with ${doc.previous_period.label}` : ''
          }`,
          { color: MUTED, size: 16 },
        ),
      ],
    }),
  ];
  for (const block of layout(doc)) {
    children.push(
      new Paragraph({
        heading: HeadingLevel.HEADING_1,
        keepNext: true,
        children: [new TextRun({ text: block.title, font: FONT_FAMILY })],
      }),
    );
    if (block.kpis.length > 0) children.push(kpiTable(block.kpis), new Paragraph({ children: [] }));
    for (const chart of block.charts) {
      const { png, width, height } = svgToPng(await chartSvg(chart));
      const scale = Math.min(1, CONTENT_PX / width);
      children.push(
        new Paragraph({
          children: [
            new ImageRun({
              type: 'png',
              data: png,
              transformation: { width: Math.round(width * scale), height: Math.round(height * scale) },
              altText: { name: chart.id, title: chart.title, description: chart.title },
            }),
          ],
        }),
      );
    }
    for (const table of block.tables) {
      if (table.title !== block.title) {
        children.push(
          new Paragraph({
            heading: HeadingLevel.HEADING_2,
            keepNext: true,
            children: [new TextRun({ text: table.title, font: FONT_FAMILY })],
          }),
        );
      }
      if (table.printable) children.push(tableOf(table, zone), new Paragraph({ children: [] }));
      else
        children.push(
          new Paragraph({
            children: [
              text(`${table.rows.length} rows, in the CSV and JSON formats of this report.`, {
                color: MUTED,
              }),
            ],
          }),
        );
    }
    for (const note of block.notes)
      children.push(new Paragraph({ children: [text(note, { color: MUTED })] }));
  }
  const document = new Document({
    creator: 'hxp-batch generate-report',
    title: doc.title,
    description: `${doc.report_type} ${doc.period.label}`,
    styles: { default: { document: { run: { font: FONT_FAMILY, size: 18 } } } },
    sections: [
      {
        properties: {
          page: {
            size: { width: PAGE.width, height: PAGE.height },
            margin: { top: PAGE.margin, bottom: PAGE.margin, left: PAGE.margin, right: PAGE.margin },
          },
        },
        footers: {
          default: new Footer({
            children: [
              new Paragraph({
                children: [
                  text(`${doc.footer} · page `, { color: MUTED, size: 14 }),
                  new TextRun({ children: [PageNumber.CURRENT], color: MUTED, size: 14, font: FONT_FAMILY }),
                  text(' of ', { color: MUTED, size: 14 }),
                  new TextRun({
                    children: [PageNumber.TOTAL_PAGES],
                    color: MUTED,
                    size: 14,
                    font: FONT_FAMILY,
                  }),
                ],
              }),
            ],
          }),
        },
        children,
      },
    ],
  });
  return Packer.toBuffer(document);
}
