// JSON: the document itself, validated against its schema on the way out.
import { ReportDocument } from '../model.ts';

export function renderJson(doc: ReportDocument): Buffer {
  return Buffer.from(`${JSON.stringify(ReportDocument.parse(doc), null, 2)}\n`, 'utf8');
}
