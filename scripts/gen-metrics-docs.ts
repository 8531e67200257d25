// Writes docs/metrics.md from the metric catalogue (shared/metrics/catalogue.ts). `--check` only compares
// and exits 1 on a difference (test/unit/metrics-catalogue.test.ts does the same in the test suite).
import { fileURLToPath } from 'node:url';
import { renderMetricsDocs } from '../shared/metrics/docs.ts';
import { writeOrCheck } from './lib/generated-doc.ts';

writeOrCheck(
  fileURLToPath(new URL('../docs/metrics.md', import.meta.url)),
  renderMetricsDocs(),
  'node --import tsx scripts/gen-metrics-docs.ts',
);
