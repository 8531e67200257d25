// Writes docs/configuration.md from the configuration schema. `--check` only compares and exits 1 on a
// difference (test/unit/config-docs.test.ts does the same in the test suite).
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from '../shared/config/docs.ts';
import { writeOrCheck } from './lib/generated-doc.ts';

writeOrCheck(
  fileURLToPath(new URL('../docs/configuration.md', import.meta.url)),
  renderConfigDocs(),
  'node --import tsx scripts/gen-config-docs.ts',
);
