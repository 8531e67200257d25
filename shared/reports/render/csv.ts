// CSV: one tidy (long) file holding every table of the report, RFC 4180 (csv-stringify): one line per cell,
// `section,table,row,row_label,column,column_label,value`. One file opens anywhere and pivots back to any
// table; values are the document's own (no rounding, null as an empty field, fractions not percentages).
import { stringify } from 'csv-stringify/sync';
import type { ReportDocument } from '../model.ts';
import { isNumericKind, layout, type Table } from './layout.ts';

export const CSV_HEADER = [
  'section',
  'table',
  'row',
  'row_label',
  'column',
  'column_label',
  'value',
] as const;

/**
 * Each row's label: its first text column, or, where that repeats within the table (capacity's resource for
 * the fleet and each host), as few of its leading text columns as tell the rows apart ("cpu / gpu-node-1").
 */
function rowLabels(table: Table): string[] {
  const leading: string[] = [];
  for (const column of table.columns) {
    if (isNumericKind(column.kind)) break;
    leading.push(column.key);
  }
  const firstText = table.columns.find((c) => !isNumericKind(c.kind))?.key;
  if (firstText === undefined) return table.rows.map(() => '');
  const keySets = leading[0] === firstText ? leading.map((_, n) => leading.slice(0, n + 1)) : [[firstText]];
  let labels: string[] = [];
  for (const keys of keySets) {
    labels = table.rows.map((row) => keys.map((key) => String(row[key] ?? '')).join(' / '));
    if (new Set(labels).size === labels.length) break;
  }
  return labels;
}

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
      const labels = rowLabels(table);
      table.rows.forEach((row, i) => {
        for (const column of table.columns) {
          records.push([
            block.id,
            table.id,
            i + 1,
            labels[i] ?? '',
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
