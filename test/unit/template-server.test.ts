// The node20-ts template server in-process: JSON answers, error mapping without stacks, the body limit,
// draining, and request ids on every log line.
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import test from 'ava';
import { z } from 'zod';
import { BatchError } from '../../shared/errors/index.ts';
import { Registry } from 'prom-client';
import { createLogger } from '../../shared/log/index.ts';
import { functionMetrics, onMetricsRecorded, type FunctionMetrics } from '../../shared/metrics/index.ts';
import { createFunctionServer, type FunctionServer } from '../../templates/node20-ts/server.ts';
import type { Handler } from '../../templates/node20-ts/types.ts';

type LogLine = Record<string, unknown> & { msg?: string; level?: string; reqId?: string };

interface Harness {
  url: string;
  port: number;
  fn: FunctionServer;
  logs: LogLine[];
}

async function serve(
  t: { teardown(fn: () => unknown): void },
  handler: Handler,
  maxBodyBytes = 1024,
  metrics?: FunctionMetrics,
): Promise<Harness> {
  const logs: LogLine[] = [];
  const logger = createLogger(
    { level: 'debug' },
    { fn: 'test' },
    { write: (s: string) => void logs.push(JSON.parse(s)) },
  );
  const fn = createFunctionServer({ handler, logger, maxBodyBytes, ...(metrics ? { metrics } : {}) });
  fn.server.listen(0, '127.0.0.1');
  await once(fn.server, 'listening');
  const { port } = fn.server.address() as AddressInfo;
  t.teardown(() => fn.server.closeAllConnections());
  t.teardown(() => new Promise((r) => fn.server.close(r)));
  return { url: `http://127.0.0.1:${port}`, port, fn, logs };
}

test('a returned object is sent as JSON with content-type application/json; status and headers chain', async (t) => {
  const h = await serve(t, async (event, context) => {
    context.status(201).headers({ 'X-Custom': 'yes' });
    return { path: event.path, query: event.query, method: event.method };
  });
  const res = await fetch(`${h.url}/runs?limit=5`);
  t.is(res.status, 201);
  t.is(res.headers.get('content-type'), 'application/json');
  t.is(res.headers.get('x-custom'), 'yes');
  t.deepEqual(await res.json(), { path: '/runs', query: { limit: '5' }, method: 'GET' });
});

test("a Readable answer is streamed with the handler's headers (a download of 2 MiB)", async (t) => {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const h = await serve(t, async (_event, context) => {
    context.headers({ 'content-type': 'application/pdf', 'content-length': String(chunk.length * 32) });
    return Readable.from(
      (function* () {
        for (let i = 0; i < 32; i++) yield chunk;
      })(),
    );
  });
  const res = await fetch(`${h.url}/reports/1/download`);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/pdf');
  const body = Buffer.from(await res.arrayBuffer());
  t.is(body.length, 32 * 64 * 1024);
  t.true(body.every((b) => b === 7));
});

test('succeed() wins over the return value; strings are text/plain; undefined is an empty 200', async (t) => {
  const h = await serve(t, async (event, context) => {
    if (event.path === '/succeed') {
      context.succeed({ via: 'succeed' });
      return { via: 'return' };
    }
    if (event.path === '/text') return 'plain words';
    return undefined;
  });
  t.deepEqual(await (await fetch(`${h.url}/succeed`)).json(), { via: 'succeed' });
  const text = await fetch(`${h.url}/text`);
  t.is(text.headers.get('content-type'), 'text/plain; charset=utf-8');
  t.is(await text.text(), 'plain words');
  const empty = await fetch(`${h.url}/empty`);
  t.is(empty.status, 200);
  t.is(await empty.text(), '');
});

test('a Readable answer is streamed chunked with its headers; a stream that fails cuts the response', async (t) => {
  const h = await serve(t, async (event, context) => {
    context.headers({ 'content-type': 'text/csv' });
    if (event.path === '/broken') {
      return Readable.from(
        (async function* () {
          yield 'a,b\n';
          throw new Error('database went away');
        })(),
      );
    }
    return Readable.from(['a,b\n', '1,2\n', '3,4\n']);
  });
  const res = await fetch(`${h.url}/csv`);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'text/csv');
  t.is(res.headers.get('transfer-encoding'), 'chunked');
  t.is(await res.text(), 'a,b\n1,2\n3,4\n');
  const head = await fetch(`${h.url}/csv`, { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(await head.text(), '');
  const broken = await fetch(`${h.url}/broken`);
  t.is(broken.status, 200);
  await t.throwsAsync(broken.text());
  t.true(h.logs.some((l) => l.msg === 'streamed answer failed part way' && l.level === 'error'));
});

test('a thrown error answers 500 with a JSON error and no message or stack; it is logged at error level', async (t) => {
  const h = await serve(t, async () => {
    throw new Error('connection to 10.0.0.7 refused: secret internals');
  });
  const res = await fetch(`${h.url}/`, { headers: { 'X-Call-Id': 'call-500' } });
  t.is(res.status, 500);
  t.is(res.headers.get('content-type'), 'application/json');
  const text = await res.text();
  t.false(text.includes('secret internals'));
  t.false(text.includes('at '), 'no stack frames');
  t.deepEqual(JSON.parse(text), {
    error: { code: 'INTERNAL', message: 'An unexpected error (a bug); the cause is attached.' },
  });
  const logged = h.logs.find((l) => l.msg === 'function error');
  t.is(logged?.level, 'error');
  t.is(logged?.reqId, 'call-500');
  t.regex(String((logged?.err as { message?: string })?.message), /secret internals/);
});

test('context.fail() answers like a throw', async (t) => {
  const h = await serve(t, async (_event, context) => {
    context.fail(new BatchError('NOT_FOUND', 'no run 42; list runs with GET /runs'));
  });
  const res = await fetch(h.url);
  t.is(res.status, 404);
  t.deepEqual(await res.json(), {
    error: { code: 'NOT_FOUND', message: 'no run 42; list runs with GET /runs' },
  });
});

test('a BatchError maps its code to the catalogue status: 4xx keeps its message and logs at info', async (t) => {
  const h = await serve(t, async (event) => {
    if (event.path === '/conflict')
      throw new BatchError('JOB_ALREADY_RUNNING', 'aggregate-hour is running (run 7)');
    if (event.path === '/unavailable')
      throw new BatchError('KAFKA_UNAVAILABLE', 'broker 10.1.1.1:9092 said no');
    throw new BatchError('REQUEST_INVALID', '"from" must be an ISO time', { context: { from: 'yesterday' } });
  });
  const bad = await fetch(`${h.url}/bad`);
  t.is(bad.status, 400);
  t.deepEqual(await bad.json(), {
    error: { code: 'REQUEST_INVALID', message: '"from" must be an ISO time', details: { from: 'yesterday' } },
  });
  const conflict = await fetch(`${h.url}/conflict`);
  t.is(conflict.status, 409);
  t.is(((await conflict.json()) as { error: { code: string } }).error.code, 'JOB_ALREADY_RUNNING');
  const unavailable = await fetch(`${h.url}/unavailable`);
  t.is(unavailable.status, 503);
  const body = (await unavailable.json()) as { error: { code: string; message: string } };
  t.is(body.error.code, 'KAFKA_UNAVAILABLE');
  t.false(body.error.message.includes('10.1.1.1'), '5xx answers carry the catalogue text, not internals');
  const levels = h.logs.filter((l) => l.msg === 'function error').map((l) => [l.status, l.level]);
  t.deepEqual(levels, [
    [400, 'info'],
    [409, 'info'],
    [503, 'error'],
  ]);
});

test('a ZodError from the handler parse answers 400 REQUEST_INVALID with the failing paths', async (t) => {
  const h = await serve(t, async (event) => z.object({ from: z.iso.datetime() }).parse(event.body));
  const res = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"from":"soon"}',
  });
  t.is(res.status, 400);
  const body = (await res.json()) as { error: { code: string; details: { path: string }[] } };
  t.is(body.error.code, 'REQUEST_INVALID');
  t.deepEqual(
    body.error.details.map((d) => d.path),
    ['from'],
  );
});

test('body: JSON content-type is parsed, other bodies are text, rawBody keeps the bytes', async (t) => {
  const h = await serve(t, async (event) => ({
    body: event.body,
    rawHex: event.rawBody.toString('hex'),
  }));
  const json = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":[1,2]}',
  });
  t.deepEqual(((await json.json()) as { body: unknown }).body, { a: [1, 2] });
  const text = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: '{"a":1}',
  });
  t.is(((await text.json()) as { body: unknown }).body, '{"a":1}');
  const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x41]);
  const binary = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  t.is(((await binary.json()) as { rawHex: string }).rawHex, 'ff00fe41');
  const invalid = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{nope',
  });
  t.is(invalid.status, 400);
  t.is(((await invalid.json()) as { error: { code: string } }).error.code, 'REQUEST_INVALID');
});

test('a body over MAX_REQUEST_BODY answers 413 JSON, declared or streamed, and the handler never runs', async (t) => {
  let calls = 0;
  const h = await serve(
    t,
    async (event) => {
      calls += 1;
      return { size: event.rawBody.length };
    },
    100,
  );
  const atLimit = await fetch(h.url, { method: 'POST', body: 'x'.repeat(100) });
  t.deepEqual(await atLimit.json(), { size: 100 });
  const declared = await fetch(h.url, { method: 'POST', body: 'x'.repeat(101) });
  t.is(declared.status, 413);
  const body = (await declared.json()) as { error: { code: string; message: string } };
  t.is(body.error.code, 'REQUEST_TOO_LARGE');
  t.regex(body.error.message, /limit of 100 bytes \(MAX_REQUEST_BODY\)/);
  // Chunked: no content-length, so the limit is enforced while reading.
  const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(`${h.url}/`, { method: 'POST' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    for (let i = 0; i < 10; i++) req.write('y'.repeat(50));
    req.end();
  });
  t.is(streamed.status, 413);
  t.is((JSON.parse(streamed.body) as { error: { code: string } }).error.code, 'REQUEST_TOO_LARGE');
  t.is(calls, 1);
});

test('every log line of a request carries its id: the chain id from Kafka, else X-Call-Id, else X-Request-Id, else a generated one', async (t) => {
  const h = await serve(t, async (_event, context) => {
    context.log.info({ step: 'inside' }, 'handler says hi');
    return { id: context.requestId };
  });
  const a = await fetch(h.url, { headers: { 'X-Call-Id': 'call-abc', 'X-Request-Id': 'req-ignored' } });
  t.deepEqual(await a.json(), { id: 'call-abc' });
  t.is(a.headers.get('x-request-id'), 'call-abc');
  const b = await fetch(h.url, { headers: { 'X-Request-Id': 'req-def' } });
  t.deepEqual(await b.json(), { id: 'req-def' });
  const c = await fetch(h.url);
  const generated = ((await c.json()) as { id: string }).id;
  t.regex(generated, /^[0-9a-f-]{36}$/);
  // An hxp.batch.events message delivered by the Kafka connector: its request-id header names the chain.
  const d = await fetch(h.url, { headers: { 'X-Kafka-request-id': 'chain-1', 'X-Call-Id': 'call-per-hop' } });
  t.deepEqual(await d.json(), { id: 'chain-1' });
  for (const id of ['call-abc', 'req-def', generated, 'chain-1']) {
    const lines = h.logs.filter((l) => l.reqId === id);
    t.deepEqual(
      lines.map((l) => l.msg),
      ['handler says hi', 'request completed'],
      `log lines of ${id}`,
    );
    t.true(lines.every((l) => l.fn === 'test'));
  }
});

test('drain() stops accepting, lets the in-flight request finish, then resolves', async (t) => {
  let release: () => void = () => undefined;
  let entered: () => void = () => undefined;
  const inside = new Promise<void>((r) => (entered = r));
  const h = await serve(t, async () => {
    entered();
    await new Promise<void>((r) => (release = r));
    return { finished: true };
  });
  const pending = fetch(h.url);
  await inside;
  t.is(h.fn.inFlight(), 1);
  const drained = h.fn.drain(5000);
  await new Promise((r) => setTimeout(r, 50));
  await t.throwsAsync(fetch(h.url), undefined, 'new connections are refused while draining');
  release();
  const res = await pending;
  t.deepEqual(await res.json(), { finished: true });
  t.deepEqual(await drained, { drained: true, abandoned: 0 });
});

test('drain() gives up after its timeout and reports the abandoned requests', async (t) => {
  const h = await serve(t, () => new Promise(() => undefined));
  const pending = fetch(h.url).catch((err: unknown) => err);
  // Wait until the server holds the request (a fixed sleep loses the race on a loaded machine, and a drain
  // that starts before the request arrives waits on its connection for ever).
  for (let i = 0; i < 500 && h.fn.inFlight() === 0; i++) await new Promise((r) => setTimeout(r, 10));
  const result = await h.fn.drain(100);
  t.deepEqual(result, { drained: false, abandoned: 1 });
  t.true((await pending) instanceof Error);
});

test('every invocation is counted by status and timed; GET /_/metrics serves the registry as JSON, unlogged', async (t) => {
  const metrics = functionMetrics(new Registry());
  let recorded = 0;
  onMetricsRecorded(metrics.registry, () => (recorded += 1));
  const h = await serve(
    t,
    async (event) => {
      if (event.path === '/bad') throw new BatchError('REQUEST_INVALID', 'no');
      return { ok: true };
    },
    1024,
    metrics,
  );
  await fetch(`${h.url}/x`);
  await fetch(`${h.url}/x`);
  await fetch(`${h.url}/bad`);
  const res = await fetch(`${h.url}/_/metrics`);
  t.is(res.status, 200);
  const json = (await res.json()) as Array<{ name: string; values: Array<Record<string, unknown>> }>;
  const invocations = json.find((m) => m.name === 'hxp_function_invocations_total');
  t.deepEqual(
    invocations?.values.map((v) => [(v.labels as { code: string }).code, v.value]),
    [
      ['200', 2],
      ['400', 1],
    ],
  );
  const count = json
    .find((m) => m.name === 'hxp_function_duration_seconds')
    ?.values.find((v) => v.metricName === 'hxp_function_duration_seconds_count');
  t.is(count?.value, 3);
  t.is(recorded, 3, 'the pusher is told after each invocation');
  t.is(h.logs.filter((l) => l.msg === 'request completed').length, 3, 'the metrics read is not logged');
});

// Regression: GET /runs?job=%00 (and /aggregates?event_type=%00, /capacity/analysis?series=%00, …) reached
// PostgreSQL, which cannot hold NUL in text, and answered 500 INTERNAL.
test('a query parameter holding NUL answers 400 REQUEST_INVALID naming it, and the handler never runs', async (t) => {
  let calls = 0;
  const h = await serve(t, async () => {
    calls++;
    return { ok: true };
  });
  for (const target of ['/runs?job=%00', '/runs?job=a%00b&limit=5', '/x?a%00=1']) {
    const res = await fetch(`${h.url}${target}`);
    t.is(res.status, 400, target);
    const body = (await res.json()) as {
      error: { code: string; message: string; details: { field: string } };
    };
    t.is(body.error.code, 'REQUEST_INVALID', target);
    t.regex(body.error.message, /NUL/, target);
  }
  const named = (await (await fetch(`${h.url}/runs?limit=5&job=%00`)).json()) as {
    error: { message: string; details: { field: string } };
  };
  t.is(named.error.details.field, 'job');
  t.regex(named.error.message, /"job"/);
  t.is(calls, 0);
  t.is((await fetch(`${h.url}/runs?job=aggregate-hour`)).status, 200);
});

test('a query parameter given twice answers 400 naming it: which one to take would be a guess', async (t) => {
  let calls = 0;
  const h = await serve(t, async () => {
    calls++;
    return { ok: true };
  });
  const res = await fetch(`${h.url}/runs?limit=1&job=a&limit=2`);
  t.is(res.status, 400);
  const body = (await res.json()) as { error: { code: string; message: string; details: { field: string } } };
  t.is(body.error.code, 'REQUEST_INVALID');
  t.is(body.error.details.field, 'limit');
  t.regex(body.error.message, /"limit" is given 2 times; give it once/);
  t.is(calls, 0);
  t.is((await fetch(`${h.url}/runs?limit=1&job=a`)).status, 200);
});
