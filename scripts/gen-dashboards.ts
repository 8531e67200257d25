// `npm run dashboards`: writes deploy/grafana/batch-processing.json from scripts/dashboards/batch-processing.ts.
// `--check` only compares and exits 1 on a difference (test/integration/grafana-dashboard.test.ts does too).
import { fileURLToPath } from 'node:url';
import { renderBatchProcessingDashboard } from './dashboards/batch-processing.ts';
import { writeOrCheck } from './lib/generated-doc.ts';

writeOrCheck(
  fileURLToPath(new URL('../deploy/grafana/batch-processing.json', import.meta.url)),
  renderBatchProcessingDashboard(),
  'npm run dashboards',
);
