// Writes docs/configuration.md from the configuration schema. `--check` only compares and exits 1 on a
// difference (test/unit/config-docs.test.ts does the same in the test suite).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from '../shared/config/docs.ts';

const target = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
const rendered = renderConfigDocs();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // a missing file differs
  }
  if (current !== rendered) {
    process.stderr.write('docs/configuration.md is out of date: run `npx tsx scripts/gen-config-docs.ts`\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, rendered);
  process.stdout.write(`wrote ${target}\n`);
}
