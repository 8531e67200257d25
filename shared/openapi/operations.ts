// Every documented route, gathered from the modules that serve them. A module that adds routes adds its
// list here; test/unit/openapi.test.ts validates the document and test/e2e/openapi-contract.test.ts calls
// every route it names.
import { capacityOperations } from '../capacity/openapi.ts';
import { ingestOperations } from '../ingest/api.ts';
import { deadLetterOperations } from '../ingest/dead-letters-api.ts';
import { aggregationOperations } from '../jobs/api.ts';
import { queryOperations } from '../query/api.ts';
import { reportOperations } from '../reports/api/openapi.ts';
import { retentionOperations } from '../retention/openapi.ts';
import { statusOperations } from '../status/api.ts';
import type { ApiOperation } from './operation.ts';

export const apiOperations: readonly ApiOperation[] = [
  ...statusOperations,
  ...queryOperations,
  ...deadLetterOperations,
  ...reportOperations,
  ...capacityOperations,
  ...retentionOperations,
  ...ingestOperations,
  ...aggregationOperations,
];
