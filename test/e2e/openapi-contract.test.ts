// The OpenAPI document against what the routes answer, on the project's own stack.yml and the embedded
// database after a small demo: /openapi.json is served and valid; every documented operation is called
// (on port 9101, or on the gateway for functions only served there) with its examples; each answers a
// status it documents, with a body that validates against the document's schema for it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import test from 'ava';
import { runDemo } from '../../runtime/demo/run-demo.ts';
import { startRuntime } from '../../runtime/runtime.ts';
import { apiOperations, wirePath, type ApiExample, type ApiOperation } from '../../shared/openapi/index.ts';
import { recordingLog } from './runtime-fixtures.ts';

interface Documented {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
  >;
}

function urlOf(op: ApiOperation, bases: { api: string; gateway: string }, example: ApiExample): string {
  const base = op.served === 'api' ? bases.api : bases.gateway;
  const query = example.query ?? {};
  const search = Object.keys(query).length > 0 ? `?${new URLSearchParams(query)}` : '';
  const path = wirePath(op).replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(example.params?.[name] ?? ''),
  );
  return `${base}${path}${search}`;
}

test('every documented route exists and answers what the document says', async (t) => {
  t.timeout(300_000, 'six function processes and a demo on a shared 2-core machine');
  const dir = mkdtempSync(join(tmpdir(), 'hxp-openapi-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rt = await startRuntime({
    dataDir: join(dir, 'pglite'),
    gatewayPort: 0,
    apiPort: 0,
    cronTimers: false,
    env: {
      ...process.env,
      DATABASE_URL: '',
      KAFKA_BOOTSTRAP_SERVERS: '',
      LOG_LEVEL: 'warn',
      BATCH_PROCESSING_ARCHIVAL_PATH: join(dir, 'archive'),
    },
    log: recordingLog(),
    output: () => undefined,
  });
  t.teardown(() => rt.stop());
  await runDemo(rt.gatewayUrl, rt.db, { now: new Date(), days: 3, requestsPerHour: 6, seed: 7 });

  const served = await fetch(`${rt.apiUrl}/openapi.json`);
  t.is(served.status, 200);
  const document = (await served.json()) as Documented;
  const validation = await new Validator().validate(structuredClone(document) as never);
  t.deepEqual(validation.errors ?? [], []);

  const ajv = new Ajv2020({ strict: false });
  addFormats.default(ajv);
  const bases = { api: rt.apiUrl, gateway: rt.gatewayUrl };
  let calls = 0;
  for (const op of apiOperations) {
    const documented = document.paths[wirePath(op)]?.[op.method];
    t.truthy(documented, `${op.method} ${wirePath(op)} is in the served document`);
    if (!documented) continue;
    const statuses = Object.keys(documented.responses).map(Number);
    for (const example of op.examples ?? [{}]) {
      const init: RequestInit = { method: op.method.toUpperCase(), headers: { ...example.headers } };
      if (example.body !== undefined) {
        init.body = JSON.stringify(example.body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
      const url = urlOf(op, bases, example);
      const res = await fetch(url, init);
      calls += 1;
      const what = `${op.method.toUpperCase()} ${url.replace(/^http:\/\/127\.0\.0\.1:\d+/, '')}`;
      const expected = example.status ?? Math.min(...statuses.filter((s) => s < 300));
      const text = await res.text();
      t.is(res.status, expected, `${what}: ${text.slice(0, 300)}`);
      t.true(statuses.includes(res.status), `${what} answered ${res.status}, which is documented`);
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
      const content = documented.responses[String(res.status)]?.content ?? {};
      t.truthy(content[type], `${what}: ${type} is a documented media type of ${res.status}`);
      const schema = content[type]?.schema;
      if (type === 'application/json' && schema) {
        const validate = ajv.compile(schema);
        const valid = validate(JSON.parse(text));
        t.true(valid, `${what}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
      }
    }
  }
  t.true(calls >= apiOperations.length);

  // The README's example: the days of the demo per model.
  const week = (await (
    await fetch(`${rt.apiUrl}/aggregates?level=day&event_type=llm_request&metric=latency_ms&dimension=model`)
  ).json()) as { rows: Array<{ timestamp: string; dimension_value: string; count: number }> };
  const days = new Set(week.rows.map((r) => r.timestamp));
  t.true(days.size >= 2, `closed demo days: ${[...days].join(', ')}`);
  t.deepEqual([...new Set(week.rows.map((r) => r.dimension_value))].sort(), [
    'llama-3-70b',
    'llama-3-8b',
    'mixtral-8x7b',
    'qwen-2.5-32b',
  ]);
});
