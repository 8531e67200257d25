// docs/report.schema.json is the report document's zod schema exported; templates ship for every type.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { reportJsonSchema, SCHEMA_FILE } from '../../scripts/gen-report-schema.ts';
import { DEFAULT_TEMPLATES, loadTemplate, SECTIONS_OF } from '../../shared/reports/templates.ts';
import { REPORT_TYPES } from '../../shared/reports/types.ts';

test('docs/report.schema.json is current (regenerate: node --import tsx scripts/gen-report-schema.ts)', (t) => {
  t.is(readFileSync(SCHEMA_FILE, 'utf8'), reportJsonSchema());
  const schema = JSON.parse(reportJsonSchema()) as {
    required: string[];
    properties: Record<string, unknown>;
  };
  t.deepEqual([...schema.required].sort(), [
    'data',
    'footer',
    'generated_at',
    'period',
    'previous_period',
    'report_type',
    'schema_version',
    'sections',
    'source',
    'title',
  ]);
});

test('every type has a built-in template whose sections its builder fills', (t) => {
  for (const type of REPORT_TYPES) {
    const template = loadTemplate(type, undefined);
    t.deepEqual(template, DEFAULT_TEMPLATES[type]);
    for (const section of template.sections)
      t.true(SECTIONS_OF[type].includes(section), `${type}: ${section}`);
    t.regex(template.title, /\{\{period\.label\}\}/);
  }
});
