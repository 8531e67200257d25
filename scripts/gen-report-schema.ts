// Writes docs/report.schema.json: the JSON Schema of the report document (shared/reports/model.ts), so that
// consumers of the JSON format can validate it. test/unit/reports-schema.test.ts fails when the file is stale.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ReportDocument } from '../shared/reports/model.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../docs/report.schema.json', import.meta.url));

export function reportJsonSchema(): string {
  const schema = z.toJSONSchema(ReportDocument, { target: 'draft-2020-12', io: 'output' });
  const doc = {
    title: 'hxp-batch report document',
    description:
      'One report (schema_version 1): what generate-report builds from the aggregate views and renders to JSON, CSV, PDF and DOCX. Units are in the field names: *_ms milliseconds, *_usd US dollars, *_rate and *_share fractions 0–1, *_pct percent; null means no data.',
    ...schema,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_FILE, reportJsonSchema());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
