// One entry for every format: the bytes of a report document in `format`.
import type { ReportDocument } from '../model.ts';
import type { ReportFormat } from '../types.ts';
import { renderCsv } from './csv.ts';
import { renderDocx } from './docx.ts';
import { renderJson } from './json.ts';
import { renderPdf } from './pdf.ts';

export async function renderReport(doc: ReportDocument, format: ReportFormat): Promise<Buffer> {
  switch (format) {
    case 'json':
      return renderJson(doc);
    case 'csv':
      return renderCsv(doc);
    case 'pdf':
      return renderPdf(doc);
    case 'docx':
      return renderDocx(doc);
  }
}

export { layout, type Block, type Table } from './layout.ts';
export { formatValue, type ValueKind } from './format.ts';
export { chartsOf, chartSvg, svgToPng } from './charts.ts';
export { CSV_HEADER } from './csv.ts';
