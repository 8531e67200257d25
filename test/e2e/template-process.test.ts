// The template server as a process, the way the local runtime and of-watchdog run it: the `listening`
// line, SIGTERM draining, a bad handler path, and bundled functions running with plain `node index.js`
// from a folder with no node_modules anywhere above it.
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import {
  bundleInto,
  embeddedDatabaseEnv,
  fixtureHandler,
  functionEnv,
  isListening,
  ROOT,
  run,
  SLEEPY_HANDLER,
  TEMPLATE_ENTRY,
  tempDir,
} from './template-helpers.ts';

test('from source: logs one listening line with the port, answers, and drains an in-flight request on SIGTERM', async (t) => {
  const dir = await tempDir(t, 'tpl');
  const handler = await fixtureHandler(dir, SLEEPY_HANDLER);
  const fn = run(
    t,
    process.execPath,
    ['--import', 'tsx', TEMPLATE_ENTRY],
    functionEnv({ HANDLER_PATH: handler, PORT: '0', HXP_FUNCTION_NAME: 'sleepy', MAX_REQUEST_BODY: '64' }),
  );
  const listening = await fn.waitFor(isListening);
  t.is(listening.fn, 'sleepy');
  t.is(fn.logs.filter(isListening).length, 1);
  const url = `http://127.0.0.1:${String(listening.port)}`;

  const hello = await fetch(`${url}/hello`, { method: 'POST', body: 'hi', headers: { 'X-Call-Id': 'c-1' } });
  t.deepEqual(await hello.json(), { path: '/hello', method: 'POST', body: 'hi', id: 'c-1' });
  const big = await fetch(url, { method: 'POST', body: 'x'.repeat(65) });
  t.is(big.status, 413, 'MAX_REQUEST_BODY from the env applies');
  const boom = await fetch(`${url}/boom`);
  t.is(boom.status, 500);
  t.false((await boom.text()).includes('internals'));

  const slow = fetch(`${url}/sleep?ms=1500`, { headers: { 'X-Request-Id': 'slow-1' } });
  await fn.waitFor((e) => e.msg === 'sleeping' && e.reqId === 'slow-1');
  fn.child.kill('SIGTERM');
  const res = await slow;
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { slept: 1500 });
  t.is(await fn.exited, 0);
  const stopped = fn.logs.find((e) => e.msg === 'stopped');
  t.deepEqual({ drained: stopped?.drained, abandoned: stopped?.abandoned }, { drained: true, abandoned: 0 });
  // The slow request was answered and logged as completed before the process said it stopped.
  const completed = fn.logs.findIndex((e) => e.msg === 'request completed' && e.reqId === 'slow-1');
  t.is(fn.logs[completed]?.status, 200, 'the slow request finished before exit');
  t.true(completed < fn.logs.findIndex((e) => e.msg === 'stopped'), 'its line comes before "stopped"');
  t.true(
    fn.logs.findIndex((e) => e.msg === 'draining') < completed,
    '"draining" comes before the completion',
  );
});

test('a handler path that does not load exits 1 and says which path', async (t) => {
  const fn = run(
    t,
    process.execPath,
    ['--import', 'tsx', TEMPLATE_ENTRY],
    functionEnv({ HANDLER_PATH: '/nonexistent/handler.ts', PORT: '0' }),
  );
  t.is(await fn.exited, 1);
  const failed = fn.logs.find((e) => e.msg === 'failed to start');
  t.is(failed?.handlerPath, '/nonexistent/handler.ts');
});

test('a module without a handler export is refused with the expected form', async (t) => {
  const dir = await tempDir(t, 'tpl');
  const handler = await fixtureHandler(dir, 'export const notAHandler = 1;\n');
  const fn = run(
    t,
    process.execPath,
    ['--import', 'tsx', TEMPLATE_ENTRY],
    functionEnv({ HANDLER_PATH: handler, PORT: '0' }),
  );
  t.is(await fn.exited, 1);
  t.regex(fn.lines.join('\n'), /export default async \(event, context\)/);
});

test('generate-report and retention-sweep whose archive folder cannot be written exit 1 with ARCHIVE_NOT_WRITABLE before they listen', async (t) => {
  const dir = await tempDir(t, 'archive');
  // a path under a regular file cannot be created, by root either (chmod 555 does not stop root)
  await writeFile(join(dir, 'a-file'), '');
  const start = (fn: string, extra: Record<string, string>) =>
    run(
      t,
      process.execPath,
      ['--import', 'tsx', TEMPLATE_ENTRY],
      functionEnv({
        HANDLER_PATH: join(ROOT, 'functions', fn, 'handler.ts'),
        PORT: '0',
        DATABASE_URL: 'postgres://h/db', // not reached: the check comes before any connection
        BATCH_PROCESSING_ARCHIVAL_PATH: join(dir, 'a-file', 'archive'),
        ...extra,
      }),
    );
  for (const fn of ['generate-report', 'retention-sweep']) {
    const refused = start(fn, {});
    t.is(await refused.exited, 1, fn);
    t.false(refused.logs.some(isListening), `${fn} never listened`);
    const fatal = refused.logs.find((e) => e.level === 'fatal');
    t.is(fatal?.code, 'ARCHIVE_NOT_WRITABLE', fn);
    t.regex(String(fatal?.msg), /Set S3_BUCKET.*writable volume at BATCH_PROCESSING_ARCHIVAL_PATH/, fn);
  }
  // with a bucket the folder is not used; with nothing to write there is nothing to check
  const withS3 = start('generate-report', { S3_BUCKET: 'hxp-archive', S3_ENDPOINT: 'http://127.0.0.1:9' });
  await withS3.waitFor(isListening);
  const noArchival = start('retention-sweep', { BATCH_PROCESSING_ARCHIVAL_ENABLED: 'false' });
  await noArchival.waitFor(isListening);
  t.pass();
});

test('bundled: a function started without DATABASE_URL exits 1 with DATABASE_URL_REQUIRED before it listens', async (t) => {
  const dir = await tempDir(t, 'bundle');
  const out = await bundleInto(dir, 'ingest');
  const fn = run(t, process.execPath, [join(out, 'index.js')], functionEnv({ PORT: '0' }), out);
  t.is(await fn.exited, 1);
  t.false(fn.logs.some(isListening), 'it never listened, so it never answered 200 for events it would lose');
  const fatal = fn.logs.find((e) => e.level === 'fatal');
  t.is(fatal?.code, 'DATABASE_URL_REQUIRED');
  t.regex(String(fatal?.msg), /DATABASE_URL is not set.*secret database-url/);

  const badConfig = run(
    t,
    process.execPath,
    [join(out, 'index.js')],
    functionEnv({ PORT: '0', DATABASE_URL: 'postgres://h/db', BATCH_PROCESSING_MAX_EVENT_FIELDS: 'many' }),
    out,
  );
  t.is(await badConfig.exited, 1, 'a bad setting stops it before it listens, too');
  t.is(badConfig.logs.find((e) => e.level === 'fatal')?.code, 'CONFIG_INVALID');
});

// Regression: these two tables passed the start and ingest then answered every request 500 CONFIG_INVALID.
test('bundled: ingest with a price table whose date does not exist, or with a repeated valid_from, exits 1 with CONFIG_INVALID before it listens', async (t) => {
  const dir = await tempDir(t, 'bundle');
  const out = await bundleInto(dir, 'ingest');
  const price = (validFrom: string, input = 1) => ({
    model: 'm',
    input_usd_per_1k: input,
    output_usd_per_1k: 2,
    valid_from: validFrom,
  });
  const tables = {
    'no such day': { table: [price('2026-02-30')], says: /entry 0 \(model "m"\) valid_from: "2026-02-30"/ },
    'repeated valid_from': {
      table: [price('2026-11-01'), price('2026-11-01', 3)],
      says: /entry 1 \(model "m"\): a second price valid from 2026-11-01/,
    },
  };
  for (const [name, { table, says }] of Object.entries(tables)) {
    const fn = run(
      t,
      process.execPath,
      [join(out, 'index.js')],
      functionEnv({
        PORT: '0',
        DATABASE_URL: 'postgres://h/db',
        BATCH_PROCESSING_PRICING: JSON.stringify(table),
      }),
      out,
    );
    // Without the check at start it listens and never exits: say so instead of waiting for a timeout.
    const first = await Promise.race([fn.exited, fn.waitFor(isListening).then(() => 'listening')]);
    t.is(first, 1, name);
    t.false(fn.logs.some(isListening), `${name}: it never listened`);
    const fatal = fn.logs.find((e) => e.level === 'fatal');
    t.is(fatal?.code, 'CONFIG_INVALID', name);
    t.regex(String(fatal?.msg), says);
  }
});

test('bundled: aggregate-hourly runs as plain JavaScript with no node_modules, migrates the database and answers a cron tick', async (t) => {
  const dir = await tempDir(t, 'bundle');
  const out = await bundleInto(dir, 'aggregate-hourly');
  const db = await embeddedDatabaseEnv(t);
  const fn = run(t, process.execPath, [join(out, 'index.js')], functionEnv({ PORT: '0', ...db }), out);
  const listening = await fn.waitFor(isListening);
  t.is(listening.fn, 'aggregate-hourly', 'the bundle knows its function name');
  const url = `http://127.0.0.1:${String(listening.port)}`;
  const tick = await fetch(url, {
    method: 'POST',
    headers: { 'X-Connector': 'cron-connector', 'X-Call-Id': 'tick-1' },
  });
  t.is(tick.status, 200);
  const summary = (await tick.json()) as { status: string; level: string; runId: number };
  t.is(summary.level, 'hour');
  t.is(summary.status, 'succeeded');
  t.true(
    fn.logs.some((e) => e.reqId === 'tick-1' && /applied migration 000001_initial\.sql/.test(String(e.msg))),
  );
  const backfill = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '2026-11-01T00:00:00Z', to: '2026-11-01T03:00:00Z' }),
  });
  t.is(backfill.status, 200);
  const second = (await backfill.json()) as { runId: number; windowsMarked?: number };
  t.true(second.runId > summary.runId);
  t.is(typeof second.windowsMarked, 'number');
  const bad = await fetch(url, { method: 'POST', body: '{"from":"2026-11-02T00:00:00Z"}' });
  t.is(bad.status, 400);
  fn.child.kill('SIGTERM');
  t.is(await fn.exited, 0);
});

test('bundled: one handler folder serves aggregate-weekly by AGGREGATION_LEVEL, and status answers /health', async (t) => {
  const dir = await tempDir(t, 'bundle');
  const weekly = await bundleInto(dir, 'aggregate-weekly', 'aggregate-daily');
  const status = await bundleInto(dir, 'status');
  const db = await embeddedDatabaseEnv(t);
  // Moved after bundling: the folder must be self-contained.
  const moved = join(dir, 'moved-status');
  await cp(status, moved, { recursive: true });

  const w = run(
    t,
    process.execPath,
    [join(weekly, 'index.js')],
    functionEnv({ PORT: '0', AGGREGATION_LEVEL: 'week', ...db }),
    weekly,
  );
  const s = run(t, process.execPath, [join(moved, 'index.js')], functionEnv({ PORT: '0', ...db }), moved);
  const [wl, sl] = await Promise.all([w.waitFor(isListening), s.waitFor(isListening)]);
  const tick = await fetch(`http://127.0.0.1:${String(wl.port)}/`, {
    method: 'POST',
    headers: { 'X-Connector': 'cron-connector' },
  });
  t.is(((await tick.json()) as { level: string }).level, 'week');
  const health = await fetch(`http://127.0.0.1:${String(sl.port)}/health`);
  t.is(health.status, 200);
  t.is(health.headers.get('content-type'), 'application/json');
  const runs = await fetch(`http://127.0.0.1:${String(sl.port)}/runs`);
  t.is(runs.status, 200);
  const missing = await fetch(`http://127.0.0.1:${String(sl.port)}/nope`);
  t.is(missing.status, 404);

  const wrong = run(
    t,
    process.execPath,
    [join(weekly, 'index.js')],
    functionEnv({ PORT: '0', AGGREGATION_LEVEL: 'fortnight', ...db }),
    weekly,
  );
  t.is(await wrong.exited, 1);
  t.regex(wrong.lines.join('\n'), /AGGREGATION_LEVEL=\\?"fortnight\\?" is not a rollup level/);
});

test('with of-watchdog’s env, SIGTERM keeps the server answering through healthcheck_interval; SIGINT then drains at once', async (t) => {
  const dir = await tempDir(t, 'tpl');
  const handler = await fixtureHandler(dir, SLEEPY_HANDLER);
  const fn = run(
    t,
    process.execPath,
    ['--import', 'tsx', TEMPLATE_ENTRY],
    functionEnv({
      HANDLER_PATH: handler,
      PORT: '0',
      HXP_FUNCTION_NAME: 'sleepy',
      fprocess: 'node index.js',
      mode: 'http',
      healthcheck_interval: '60s',
    }),
  );
  const listening = await fn.waitFor(isListening);
  const url = `http://127.0.0.1:${String(listening.port)}`;
  fn.child.kill('SIGTERM');
  const grace = await fn.waitFor((e) => e.signal === 'SIGTERM');
  t.is(grace.graceMs, 60_000);
  const during = await fetch(`${url}/after`, { method: 'POST', body: 'x' });
  t.is(during.status, 200, 'still answering after SIGTERM');
  t.false(fn.logs.some((e) => e.msg === 'draining'));
  const started = Date.now();
  fn.child.kill('SIGINT');
  t.is(await fn.exited, 0);
  t.true(Date.now() - started < 10_000, 'SIGINT cut the grace short');
  t.like(
    fn.logs.find((e) => e.msg === 'stopped'),
    { drained: true, abandoned: 0 },
  );
});

// The `listening` line was written before the SIGTERM/SIGINT handlers were installed: a supervisor that
// signalled on reading it could kill the process by the default action, with no drain and no close().
test('a SIGTERM sent the moment `listening` is read still drains and exits 0', async (t) => {
  const dir = await tempDir(t, 'tpl');
  const handler = await fixtureHandler(dir, SLEEPY_HANDLER);
  for (let i = 0; i < 3; i++) {
    const fn = run(
      t,
      process.execPath,
      ['--import', 'tsx', TEMPLATE_ENTRY],
      functionEnv({ HANDLER_PATH: handler, PORT: '0', HXP_FUNCTION_NAME: 'sleepy' }),
    );
    await fn.waitFor(isListening);
    fn.child.kill('SIGTERM');
    t.is(await fn.exited, 0, `run ${i + 1}: exited by its own drain, not by the signal`);
    t.truthy(fn.logs.find((e) => e.msg === 'stopped'));
  }
});
