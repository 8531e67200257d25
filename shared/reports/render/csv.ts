// CSV: one tidy (long) file holding every table of the report, RFC 4180 (csv-stringify): one line per cell,
// `section,table,row,row_label,column,column_label,value`. One file opens anywhere and pivots back to any
// table; values are the document's own (no rounding, null as an empty field, fractions not percentages).
import { stringify } from 'csv-stringify/sync';
import type { ReportDocument } from '../model.ts';
import { isNumericKind, layout } from './layout.ts';

export const CSV_HEADER = [
  'section',
  'table',
  'row',
  'row_label',
  'column',
  'column_label',
  'value',
] as const;

function cell(value: unknown): string | number {
  if (value === null || value === undefined) return '';
  return typeof value === 'number' ? value : String(value);
}

export function renderCsv(doc: ReportDocument): Buffer {
  const records: Array<Array<string | number>> = [];
  const meta: Array<[string, string]> = [
    ['report_type', doc.report_type],
    ['title', doc.title],
    ['period', doc.period.label],
    ['period_start', doc.period.start],
    ['period_end', doc.period.end],
    ['time_zone', doc.period.time_zone],
    ['generated_at', doc.generated_at],
  ];
  for (const [key, value] of meta) records.push(['report', 'report', 1, '', key, key, value]);
  for (const block of layout(doc)) {
    for (const table of block.tables) {
      const labelKey = table.columns.find((c) => !isNumericKind(c.kind))?.key;
      table.rows.forEach((row, i) => {
        const rowLabel = labelKey === undefined ? '' : String(row[labelKey] ?? '');
        for (const column of table.columns) {
          records.push([
            block.id,
            table.id,
            i + 1,
            rowLabel,
            column.key,
            column.label,
            cell(row[column.key]),
          ]);
        }
      });
    }
  }
  return Buffer.from(
    stringify(records, { header: true, columns: [...CSV_HEADER], record_delimiter: '\r\n' }),
    'utf8',
  );
}
