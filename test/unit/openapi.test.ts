// The generated OpenAPI document: valid OpenAPI 3.1 (checked against the official schema by an
// independent validator), every schema in it compiles as JSON Schema 2020-12, operation ids are unique,
// an operation that can ask for the API token says so and documents its 401, and the zod schemas of the answers describe the very types the routes build.
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import test from 'ava';
import type { z } from 'zod';
import type { PushResult } from '../../shared/ingest/index.ts';
import type { PushResultSchema } from '../../shared/ingest/api.ts';
import type { AggregationSummarySchema } from '../../shared/jobs/api.ts';
import type { AggregationSummary } from '../../shared/jobs/index.ts';
import { apiOperations, buildOpenApiDocument, wirePath } from '../../shared/openapi/index.ts';
import type { AggregationStatusSchema, HealthReportSchema, RunsListSchema } from '../../shared/status/api.ts';
import type { AggregationStatusReport, HealthReport, RunView } from '../../shared/status/index.ts';
import type { ReportViewSchema } from '../../shared/reports/api/openapi.ts';
import type { DeadLetterViewSchema, ReplayResultSchema } from '../../shared/ingest/dead-letters-api.ts';
import type { DeadLetterView, ReplayResult } from '../../shared/ingest/dead-letters.ts';
import type { reportView } from '../../shared/reports/api/routes.ts';
import type { RestoreSummary, RetentionStatus, SweepSummary } from '../../shared/retention/index.ts';
import type {
  RestoreSummarySchema,
  RetentionStatusSchema,
  SweepSummarySchema,
} from '../../shared/retention/openapi.ts';

const document = buildOpenApiDocument(apiOperations, {
  apiUrl: 'http://127.0.0.1:9101',
  gatewayUrl: 'http://127.0.0.1:8080',
  version: '0.1.0',
}) as { paths: Record<string, Record<string, Record<string, unknown>>> };

test('the document is valid OpenAPI 3.1', async (t) => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document) as never);
  t.deepEqual(result.errors ?? [], []);
  t.true(result.valid);
  t.is(validator.version, '3.1');
});

test('every schema of the document compiles as JSON Schema 2020-12; operation ids are unique', (t) => {
  const ajv = new Ajv2020({ strict: false });
  addFormats.default(ajv);
  const ids = new Set<string>();
  let schemas = 0;
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'servers') continue;
      const id = op.operationId as string;
      t.false(ids.has(id), `${id} is unique`);
      ids.add(id);
      const found: unknown[] = [];
      JSON.stringify(op, (key, value: unknown) => {
        if (key === 'schema') found.push(value);
        return value;
      });
      for (const schema of found) {
        t.notThrows(() => ajv.compile(schema as object), `${method} ${path}`);
        schemas += 1;
      }
    }
  }
  t.is(ids.size, apiOperations.length);
  t.true(schemas > 20);
  const csv = (document.paths['/aggregates']?.get as { responses: Record<string, { content: object }> })
    .responses['200']!.content;
  t.deepEqual(Object.keys(csv), ['application/json', 'text/csv']);
});

test('API routes are at their path, gateway-only functions under /function/<name>', (t) => {
  const paths = Object.keys(document.paths);
  for (const path of [
    '/aggregates',
    '/aggregates/catalogue',
    '/aggregates/daily-usage',
    '/openapi.json',
    '/health',
  ]) {
    t.true(paths.includes(path), path);
  }
  t.true(paths.includes('/function/ingest'));
  t.true(paths.includes('/function/aggregate-hourly'));
  t.deepEqual(document.paths['/function/ingest']?.servers, [
    { url: 'http://127.0.0.1:8080', description: 'the OpenFaaS gateway (functions)' },
  ] as never);
  const aggregates = document.paths['/aggregates']?.get as { parameters: Array<{ name: string }> };
  t.deepEqual(
    aggregates.parameters.map((p) => p.name),
    [
      'level',
      'event_type',
      'metric',
      'dimension',
      'value',
      'from',
      'to',
      'fields',
      'limit',
      'cursor',
      'format',
    ],
  );
  t.is(new Set(apiOperations.map(wirePath)).size, Object.keys(document.paths).length);
});

test('an operation is marked auth exactly when it documents the 401 of a missing or wrong token', (t) => {
  for (const op of apiOperations) {
    const what = `${op.operationId} (${op.method.toUpperCase()} ${wirePath(op)})`;
    t.is(op.auth === true, 401 in op.responses, `${what}: auth and its 401 go together`);
    const security = (document.paths[wirePath(op)]?.[op.method] as { security?: unknown } | undefined)
      ?.security;
    // optional security: the token is only asked for when one is configured
    t.deepEqual(security, op.auth ? [{ apiToken: [] }, {}] : undefined, `${what}: security`);
  }
  const ingest = apiOperations.find((op) => op.operationId === 'ingestEvents');
  t.true(ingest?.auth, 'ingest needs the token unless api.ingestOpen');
  t.truthy(ingest?.responses[409], 'ingest documents KAFKA_PUSH_OFF');
});

// Compile-time: each answer schema and the type its route builds are the same shape, both ways.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const aligned: [
  Same<z.output<typeof HealthReportSchema>, HealthReport>,
  Same<z.output<typeof AggregationStatusSchema>, AggregationStatusReport>,
  Same<z.output<typeof RunsListSchema>['runs'][number], RunView>,
  Same<z.output<typeof PushResultSchema>, PushResult>,
  Same<z.output<typeof AggregationSummarySchema>, AggregationSummary>,
  Same<z.output<typeof ReportViewSchema>, ReturnType<typeof reportView>>,
  Same<z.output<typeof DeadLetterViewSchema>, DeadLetterView>,
  Same<z.output<typeof ReplayResultSchema>, ReplayResult>,
  Same<z.output<typeof SweepSummarySchema>, SweepSummary>,
  Same<z.output<typeof RetentionStatusSchema>, RetentionStatus>,
  Same<z.output<typeof RestoreSummarySchema>, RestoreSummary>,
] = [true, true, true, true, true, true, true, true, true, true, true];

test('answer schemas and route types agree (checked by the type checker)', (t) => {
  t.deepEqual(aligned, [true, true, true, true, true, true, true, true, true, true, true]);
});
