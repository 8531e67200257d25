// The edges fuzzed (issue 15): fast-check sends random methods, paths, headers and bodies to every route of
// the local gateway (each function of stack.yml), and every documented route of the port-9101 API, on real
// PostgreSQL. Invariants: no answer is a 5xx that says "a bug" (INTERNAL), no function process restarts,
// their memory stays bounded, and the good events of a mixed body are stored exactly once, however often it
// is sent. Bounded for CI by a fixed number of runs; HXP_FUZZ_RUNS / HXP_FUZZ_SEED widen or replay a run.
import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { startRuntime, type Runtime } from '../../runtime/runtime.ts';
import { apiOperations, wirePath } from '../../shared/openapi/index.ts';
import { freshPgDatabase, type FreshDatabase } from '../helpers/db.ts';
import { rawRequest, rssOf, type RawAnswer, type RawRequest } from '../helpers/raw-http.ts';
import { serviceTest } from '../helpers/services.ts';
import { recordingLog } from './runtime-fixtures.ts';

const RUNS = Number(process.env.HXP_FUZZ_RUNS ?? 150);
const SEED = process.env.HXP_FUZZ_SEED === undefined ? undefined : Number(process.env.HXP_FUZZ_SEED);
const TOKEN = `fuzz-${randomBytes(8).toString('hex')}`;
/** A function's RSS may grow by this much over the whole fuzz run (parsers hold no state between calls). */
const MAX_RSS_GROWTH = 150 * 1024 * 1024;

const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);

// ---- what is sent -----------------------------------------------------------------------------------

const hostileSegments = [
  '..',
  '%2e%2e',
  '%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
  '..%2f..%2f',
  '%00',
  '%',
  '%zz',
  '%C0%AE%C0%AE',
  '%ED%A0%80',
  '\u00fc\u202e\u0000'.replace('\u0000', '%00'),
  'ü',
  '🦀',
  '',
  '.',
  '~',
  "'; DROP TABLE raw_events; --",
  'a'.repeat(8_000),
];
const segment = fc.oneof(
  fc.constantFrom(...hostileSegments),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent),
  fc.constantFrom('1', '0', '-1', '99999999999999999999', 'NaN', 'null', 'latest', 'daily_summary'),
);

/** A documented path with its `{params}` filled at random, plus hostile extra segments now and then. */
function pathArb(template: string) {
  const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return fc
    .record({
      values: fc.array(segment, { minLength: params.length, maxLength: params.length }),
      extra: fc.array(segment, { maxLength: 3 }),
      query: fc.array(
        fc.tuple(
          fc.constantFrom('from', 'to', 'level', 'limit', 'cursor', 'format', 'x', '__proto__'),
          segment,
        ),
        { maxLength: 3 },
      ),
      double: fc.boolean(),
    })
    .map(({ values, extra, query, double }) => {
      let i = 0;
      let path = template.replace(/\{\w+\}/g, () => values[i++] ?? '');
      if (extra.length > 0) path += `/${extra.join('/')}`;
      if (double) path = path.replace('/', '//');
      const search = query.map(([k, v]) => `${k}=${v}`).join('&');
      return search === '' ? path : `${path}?${search}`;
    });
}

const event = (id: string) => ({
  event_type: 'llm_request',
  id,
  data: { model: 'm', latency_ms: 12, error: false },
});

const hostileBodies: Array<Buffer | string> = [
  '',
  'NaN',
  'Infinity',
  '-Infinity',
  '{"n":NaN}',
  '{"n":1e400}',
  '[1e400,-1e400]',
  '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
  '"\\ud800"',
  '{"event_type":"x","data":{"s":"\\udfff\\u0000"}}',
  nested(100_000),
  `{"a":${nested(65)}}`,
  `{${Array.from({ length: 10_001 }, (_, i) => `"k${i}":0`).join(',')}}`,
  JSON.stringify({ s: 'x'.repeat(1_048_577) }),
  Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x7b, 0x7d]),
  Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
  '{"from":"2026-01-01T00:00:00Z","to":"2025-01-01T00:00:00Z"}',
  '{"report_type":"daily_summary","format":"json","date":"9999-99-99"}',
  '{"ids":[1e400, -1, "x", null]}',
  `${JSON.stringify(event('fuzz-a'))}\n{broken\n${nested(5000)}\n`,
];
const exampleBodies = apiOperations
  .flatMap((op) => (op.examples ?? []).map((e) => e.body))
  .filter((b) => b !== undefined);

const body = fc.oneof(
  fc.constantFrom(...hostileBodies),
  fc.constantFrom(...exampleBodies).map((b) => JSON.stringify(b)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
);

const contentType = fc.constantFrom(
  'content-type: application/json',
  'content-type: application/x-ndjson',
  'content-type: text/plain',
  'content-type: application/json; charset=latin1',
  'content-type: multipart/form-data; boundary=x',
  'content-type: */*',
);

const header = fc.oneof(
  contentType,
  fc.constantFrom(
    `authorization: Bearer ${TOKEN}`,
    'authorization: Bearer wrong',
    'authorization: Basic Og==',
    'authorization: ',
    'cookie: session=abc; other=1',
    'x-connector: cron-connector',
    'x-topic: hxp.batch.events',
    'x-kafka-partition: 0',
    'x-kafka-partition: -1',
    'x-kafka-offset: 99999999999999999999999',
    'x-kafka-offset: 7',
    'x-call-id: \u00ff\u00fe',
    'x-timeout: 0',
    'x-injected: a\r\nx-evil: b',
    'x-bare-lf: a\nx-evil: b',
    'transfer-encoding: gzip',
    'expect: 100-continue',
    `x-big: ${'b'.repeat(20_000)}`,
    'content-type: application/json',
  ),
  fc
    .tuple(fc.constantFrom('x-fuzz', 'accept', 'x-request-id', 'x-topic'), fc.string({ maxLength: 40 }))
    .map(([name, value]) => `${name}: ${value.replace(/[\r\n]/g, ' ')}`),
);

const method = fc.constantFrom(
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'GE T',
);

// ---- the runtime ------------------------------------------------------------------------------------

let rt: Runtime;
let database: (FreshDatabase & { url: string }) | undefined;
const startRss = new Map<string, { pid: number; rss: number }>();
const pgTest = serviceTest('postgres');

const runtimeLog = recordingLog();
/** What the function processes printed (warnings and up): a crash's last words. */
const output: string[] = [];
let started: Promise<void> | undefined;
/** The runtime on a fresh PostgreSQL database, started by the first test that needs it. */
const runtime = (): Promise<void> => (started ??= start());

async function start(): Promise<void> {
  database = await freshPgDatabase();
  rt = await startRuntime({
    gatewayPort: 0,
    apiPort: 0,
    cronTimers: false,
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      KAFKA_BOOTSTRAP_SERVERS: '',
      BATCH_PROCESSING_API_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
    },
    log: runtimeLog,
    output: (fn, line) => void output.push(`[${fn}] ${line}`),
  });
  for (const fn of rt.supervisor.all()) {
    const pid = fn.pid!;
    startRss.set(fn.spec.name, { pid, rss: (await rssOf(pid)) ?? 0 });
  }
}

test.after.always(async () => {
  await rt?.stop();
  await database?.drop();
});

/** Runs a property; a failure shows the error itself, the counterexample and the seed to replay it. */
async function checked<T>(
  t: ExecutionContext,
  property: fc.IAsyncProperty<T>,
  options: { numRuns: number; seed?: number },
): Promise<void> {
  const outcome = await fc.check(property, { ...options, endOnFailure: true });
  if (!outcome.failed) return;
  const error =
    outcome.errorInstance instanceof Error ? outcome.errorInstance.message : String(outcome.errorInstance);
  t.fail(
    `${error}\ncounterexample: ${fc.stringify(outcome.counterexample)}\nreplay: HXP_FUZZ_SEED=${outcome.seed}`,
  );
}

const port = (url: string) => Number(new URL(url).port);

function noBug(answer: RawAnswer, request: RawRequest, where: string): void {
  const said = `${where} ${request.method} ${request.target.slice(0, 200)} → ${answer.status} ${answer.body.slice(0, 300)}`;
  if (answer.status === 0) throw new Error(`no answer: ${said}`);
  if (answer.status >= 500 && (/"INTERNAL"/.test(answer.body) || /a bug/i.test(answer.body))) {
    throw new Error(`a 5xx that says "a bug": ${said}`);
  }
}

/** Every function of stack.yml on the gateway, every documented route on its wire path (and 9101). */
function targets() {
  const fns = rt.supervisor.all().map((f) => f.spec.name);
  const entries: Array<{ where: 'gateway' | 'api'; template: string }> = [
    ...fns.map((fn) => ({ where: 'gateway' as const, template: `/function/${fn}` })),
    ...fns.map((fn) => ({ where: 'gateway' as const, template: `/function/${fn}/{x}` })),
    { where: 'gateway', template: '/async-function/{fn}' },
    { where: 'gateway', template: '/system/functions' },
    { where: 'gateway', template: '/system/function/{fn}' },
    { where: 'gateway', template: '/{x}' },
    { where: 'api', template: '/{x}' },
    { where: 'api', template: '/metrics' },
  ];
  for (const op of apiOperations) {
    entries.push({ where: op.served === 'api' ? 'api' : 'gateway', template: wirePath(op) });
    if (op.served === 'api')
      entries.push({ where: 'gateway', template: `/function/${op.function}${op.path}` });
  }
  return entries;
}

pgTest.serial(
  'random methods, paths, headers and bodies on every route never get a 5xx that says "a bug"',
  async (t) => {
    t.timeout(600_000, 'fuzz runs against six function processes on a shared 2-core machine');
    await runtime();
    const all = targets();
    const request = fc.constantFrom(...all).chain(({ where, template }) =>
      fc.record({
        where: fc.constant(where),
        method,
        target: pathArb(template),
        headers: fc.array(header, { maxLength: 5 }),
        body,
      }),
    );
    let sent = 0;
    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    await checked(
      t,
      fc.asyncProperty(request, async (r) => {
        const raw: RawRequest = {
          method: r.method,
          target: r.target,
          headers: r.headers,
          body: typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body,
        };
        const answer = await rawRequest(port(r.where === 'api' ? rt.apiUrl : rt.gatewayUrl), raw);
        sent += 1;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 500 && serverErrors.length < 5) {
          serverErrors.push(
            `${raw.method} ${raw.target.slice(0, 100)} → ${answer.status} ${answer.body.slice(0, 200)}`,
          );
        }
        noBug(answer, raw, r.where);
      }),
      {
        numRuns: RUNS,
        ...(SEED === undefined ? {} : { seed: SEED }),
      },
    );
    t.log(
      `${sent} requests over ${all.length} route templates; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    if (serverErrors.length > 0) t.log(`5xx answers (none says "a bug"):\n${serverErrors.join('\n')}`);
    // Every hostile body once on every function, beside the random ones.
    for (const fn of rt.supervisor.all().map((f) => f.spec.name)) {
      for (const hostile of hostileBodies) {
        for (const type of ['application/json', 'application/x-ndjson']) {
          const raw: RawRequest = {
            method: 'POST',
            target: `/function/${fn}`,
            headers: [`content-type: ${type}`, `authorization: Bearer ${TOKEN}`],
            body: typeof hostile === 'string' ? Buffer.from(hostile, 'utf8') : hostile,
          };
          noBug(await rawRequest(port(rt.gatewayUrl), raw), raw, 'gateway');
        }
      }
    }
    t.pass();
  },
);

const ingestUrl = () => `${rt.gatewayUrl}/function/ingest`;
let batch = 0;

const bad = fc.constantFrom(
  (id: string) => `{"event_type":"llm_request","id":"${id}","data":{"latency_ms":NaN}}`,
  (id: string) => `{"event_type":"llm_request","id":"${id}","data":{"latency_ms":1e400}}`,
  (id: string) => `{"event_type":"llm_request","id":"${id}","data":{"s":"\\ud800"}}`,
  (id: string) => `{"event_type":"llm_request","id":"${id}","data":{"deep":${nested(100)}}}`,
  () => nested(100_000),
  () => '{"event_type":',
  () => '"just a string"',
  (id: string) => `{"event_type":"","id":"${id}","data":{}}`,
  (id: string) =>
    `{"event_type":"llm_request","id":"${id}","data":{"latency_ms":"Infinity"},"timestamp":"not a time"}`,
);

pgTest.serial(
  'the good events of a mixed body are stored exactly once, however often the body is sent',
  async (t) => {
    t.timeout(600_000);
    const mixed = fc.record({
      items: fc.array(fc.oneof(fc.constant('good' as const), fc.constant('proto' as const), bad), {
        minLength: 1,
        maxLength: 30,
      }),
      ndjson: fc.boolean(),
      resend: fc.integer({ min: 1, max: 3 }),
      invalidUtf8Line: fc.boolean(),
    });
    await checked(
      t,
      fc.asyncProperty(mixed, async ({ items, ndjson, resend, invalidUtf8Line }) => {
        batch += 1;
        const good: string[] = [];
        const texts = items.map((item, i) => {
          const id = `mix-${batch}-${i}`;
          if (item === 'good') {
            good.push(id);
            return JSON.stringify(event(id));
          }
          if (item === 'proto') {
            // Accepted: a "__proto__" key is data like any other, and pollutes nothing.
            good.push(id);
            return `{"event_type":"llm_request","id":"${id}","data":{"__proto__":{"x":1},"n":1},"__proto__":{"y":2}}`;
          }
          return (item as (id: string) => string)(`bad-${batch}-${i}`);
        });
        let bytes: Buffer;
        if (ndjson) {
          const lines = texts.map((x) => Buffer.from(x.replace(/\n/g, ' ')));
          if (invalidUtf8Line) lines.splice(lines.length >> 1, 0, Buffer.from([0x7b, 0xff, 0x7d]));
          bytes = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
        } else bytes = Buffer.from(`[${texts.join(',')}]`);
        const type = ndjson ? 'application/x-ndjson' : 'application/json';
        for (let attempt = 0; attempt < resend; attempt++) {
          const res = await fetch(ingestUrl(), {
            method: 'POST',
            // ingest takes the API token like every mutating call (the runtime has one configured)
            headers: { 'content-type': type, authorization: `Bearer ${TOKEN}` },
            body: bytes,
          });
          const text = await res.text();
          if (res.status >= 500) throw new Error(`ingest answered ${res.status}: ${text.slice(0, 300)}`);
          const answer = JSON.parse(text) as { stored?: number; duplicates?: number };
          // A JSON array that does not parse as a whole is one bad item: its good events are not read then.
          const readable = ndjson || !texts.some((x) => x.includes('NaN') || x === '{"event_type":');
          if (readable) {
            const expected = attempt === 0 ? [good.length, 0] : [0, good.length];
            if (answer.stored !== expected[0] || answer.duplicates !== expected[1]) {
              throw new Error(`attempt ${attempt + 1}: ${text.slice(0, 400)} (good: ${good.length})`);
            }
          }
        }
        const { rows } = await database!.db.query<{ key: string; n: number }>(
          `SELECT idempotency_key AS key, count(*)::int AS n FROM raw_events
          WHERE idempotency_key LIKE $1 GROUP BY 1`,
          [`id:mix-${batch}-%`],
        );
        const readable = ndjson || !texts.some((x) => x.includes('NaN') || x === '{"event_type":');
        const want = readable ? good.map((id) => `id:${id}`).sort() : [];
        const got = rows.map((r) => r.key).sort();
        if (JSON.stringify(got) !== JSON.stringify(want) || rows.some((r) => r.n !== 1)) {
          throw new Error(`stored ${JSON.stringify(rows)}; wanted each of ${JSON.stringify(want)} once`);
        }
      }),
      {
        numRuns: Math.max(10, Math.round(RUNS / 5)),
        ...(SEED === undefined ? {} : { seed: SEED }),
      },
    );
    t.pass();
  },
);

pgTest.serial(
  'after the fuzz: no function restarted, each kept its process, memory stayed bounded',
  async (t) => {
    const lines: string[] = [];
    for (const fn of rt.supervisor.all()) {
      const before = startRss.get(fn.spec.name)!;
      const said = output.filter((l) => l.startsWith(`[${fn.spec.name}]`)).slice(-15);
      t.is(fn.restarts, 0, `${fn.spec.name} restarted; it said:\n${said.join('\n')}`);
      t.is(fn.pid, before.pid, `${fn.spec.name} kept its process`);
      const rss = (await rssOf(fn.pid!)) ?? Number.POSITIVE_INFINITY;
      lines.push(`${fn.spec.name} ${Math.round(before.rss / 2 ** 20)} → ${Math.round(rss / 2 ** 20)} MiB`);
      t.true(rss - before.rss < MAX_RSS_GROWTH, `${fn.spec.name}: RSS ${before.rss} → ${rss}`);
    }
    t.log(lines.join('; '));
  },
);
