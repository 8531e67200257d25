// A function behind the real of-watchdog binary in http mode, as in the image: requests go through the
// watchdog to the template server, /_/health is the watchdog's, and exec_timeout answers 504.
// of-watchdog's metrics port is fixed at 8081, so these run serially and retry while another holds it.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { binaryTest, requireBinary } from '../helpers/services.ts';
import {
  bundleInto,
  embeddedDatabaseEnv,
  fixtureHandler,
  freePort,
  ROOT,
  functionEnv,
  run,
  SLEEPY_HANDLER,
  TEMPLATE_ENTRY,
  tempDir,
  type Running,
} from './template-helpers.ts';

const test = binaryTest('of-watchdog');

interface Watchdog {
  url: string;
  proc: Running;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Starts of-watchdog (http mode) in front of `fprocess`; waits until /_/health answers 200. */
async function startWatchdog(
  t: Teardown,
  dir: string,
  fprocess: string,
  env: Record<string, string>,
  cwd = dir,
): Promise<Watchdog> {
  const bin = requireBinary('of-watchdog')!;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const upstream = await freePort();
    const proc = run(
      t,
      bin,
      [],
      functionEnv({
        mode: 'http',
        fprocess,
        port: String(port),
        upstream_url: `http://127.0.0.1:${upstream}`,
        PORT: String(upstream),
        exec_timeout: '10s',
        read_timeout: '15s',
        write_timeout: '15s',
        healthcheck_interval: '1s',
        prefix_logs: 'false',
        TMPDIR: dir, // the watchdog's /tmp/.lock, kept apart from other runs
        ...env,
      }),
      cwd,
      { group: true },
    );
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && proc.child.exitCode === null) {
      const ok = await fetch(`${url}/_/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return { url, proc };
      await sleep(200);
    }
    await sleep(100);
    const output = proc.lines.join('\n');
    if (
      proc.child.exitCode !== null &&
      /metrics.*(address already in use|bind)/i.test(output) &&
      attempt < 20
    ) {
      await sleep(1000); // another watchdog holds :8081; wait for it
      continue;
    }
    throw new Error(`of-watchdog did not become healthy (exit ${String(proc.child.exitCode)}):\n${output}`);
  }
}

/** Polls a path through the watchdog until the upstream answers (the fprocess may still be starting). */
async function whenUp(url: string, timeoutMs = 60_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return res;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(250);
  }
  throw new Error(`${url} not up within ${timeoutMs} ms: ${last}`);
}

test.serial(
  'the bundled status function answers through of-watchdog; /_/health is the watchdog’s',
  async (t) => {
    const dir = await tempDir(t, 'wd');
    const out = await bundleInto(dir, 'status');
    // The first request opens and migrates the database (the local runtime's embedded one): give it time.
    const wd = await startWatchdog(t, dir, `${process.execPath} ${join(out, 'index.js')}`, {
      ...(await embeddedDatabaseEnv(t)),
      exec_timeout: '60s',
      read_timeout: '65s',
      write_timeout: '65s',
    });
    const health = await whenUp(`${wd.url}/health`);
    t.is(health.status, 200);
    t.is(health.headers.get('content-type'), 'application/json');
    const report = (await health.json()) as Record<string, unknown>;
    t.truthy(report.status ?? report.checks, 'the status library’s health report came back');

    const runs = await fetch(`${wd.url}/runs`, { headers: { 'X-Call-Id': 'through-watchdog' } });
    t.is(runs.status, 200);
    // The watchdog relays the function's stdout line by line, a moment after the answer went out.
    const completed = await wd.proc.waitFor(
      (e) => e.reqId === 'through-watchdog' && e.msg === 'request completed',
    );
    t.is(completed.status, 200, 'the template server logged the request under the caller’s X-Call-Id');
    // The bundle carries the web dashboard's browser libraries (no node_modules in an image).
    const lib = await fetch(`${wd.url}/ui/vega-embed.min.js`);
    t.is(lib.status, 200);
    t.regex(lib.headers.get('content-type') ?? '', /^text\/javascript/);
    t.regex(await lib.text(), /vegaEmbed/);
    const missing = await fetch(`${wd.url}/no-such-route`);
    t.is(missing.status, 404);
    t.is(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');

    const watchdogHealth = await fetch(`${wd.url}/_/health`);
    t.is(watchdogHealth.status, 200);
    t.is(await watchdogHealth.text(), 'OK');
  },
);

test.serial('exec_timeout: a handler that sleeps past it is answered 504 by the watchdog', async (t) => {
  const dir = await tempDir(t, 'wd');
  const handler = await fixtureHandler(dir, SLEEPY_HANDLER);
  const wd = await startWatchdog(
    t,
    dir,
    `${process.execPath} --import tsx ${TEMPLATE_ENTRY}`,
    {
      HANDLER_PATH: handler,
      HXP_FUNCTION_NAME: 'sleepy',
      exec_timeout: '1s',
    },
    ROOT,
  );
  const quick = await whenUp(`${wd.url}/sleep?ms=10`);
  t.is(quick.status, 200);
  t.deepEqual(await quick.json(), { slept: 10 });
  const started = Date.now();
  const slow = await fetch(`${wd.url}/sleep?ms=4000`);
  t.is(slow.status, 504);
  t.true(Date.now() - started < 3500, 'answered at exec_timeout, not when the handler finished');
  const thrown = await fetch(`${wd.url}/boom`);
  t.is(thrown.status, 500, 'a thrown handler passes through the watchdog as 500');
  t.deepEqual(await thrown.json(), {
    error: { code: 'INTERNAL', message: 'An unexpected error (a bug); the cause is attached.' },
  });
});

// of-watchdog streams the body on without its Content-Length: the server learns a body is too large while
// the watchdog is still writing it. Answering then and closing the socket broke the watchdog's write (`broken
// pipe`), and it answered an empty 500 instead of the 413 (2 to 6 of 30 oversized requests).
test.serial(
  'every body over MAX_REQUEST_BODY is answered 413 through the watchdog, never an empty 500',
  async (t) => {
    const dir = await tempDir(t, 'wd');
    const handler = await fixtureHandler(dir, SLEEPY_HANDLER);
    const wd = await startWatchdog(
      t,
      dir,
      `${process.execPath} --import tsx ${TEMPLATE_ENTRY}`,
      { HANDLER_PATH: handler, HXP_FUNCTION_NAME: 'sleepy', MAX_REQUEST_BODY: String(1024 * 1024) },
      ROOT,
    );
    await whenUp(`${wd.url}/`);
    const fits = await fetch(`${wd.url}/`, { method: 'POST', body: Buffer.alloc(1024 * 1024, 97) });
    t.is(fits.status, 200, 'a body at the limit is taken');
    const body = Buffer.alloc(8 * 1024 * 1024, 97);
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${wd.url}/`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain' },
      });
      const text = await res.text();
      const code = text
        ? ((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? text)
        : '(empty)';
      answers.push(`${res.status} ${code}`);
    }
    t.deepEqual(answers, Array<string>(20).fill('413 REQUEST_TOO_LARGE'));
    // The server stays usable after refusing bodies.
    const after = await fetch(`${wd.url}/`, { method: 'POST', body: 'ok' });
    t.is(after.status, 200);
  },
);

// On SIGTERM of-watchdog forwards the signal to the function at once, but keeps taking requests for its
// healthcheck_interval (its lock file gone, so load balancers stop routing), then stops listening and waits
// for its in-flight requests (pkg/watchdog.go listenUntilShutdown, executor/http_runner.go). The function
// used to stop listening on the forwarded signal: a request in that grace got an empty 500.
test.serial(
  'after SIGTERM the function answers through most of the watchdog’s healthcheck_interval, then drains and runs close() before it ends',
  async (t) => {
    const dir = await tempDir(t, 'wd');
    const closedMarker = join(dir, 'closed');
    const handler = await fixtureHandler(
      dir,
      `${SLEEPY_HANDLER}
import { writeFileSync } from 'node:fs';
export async function close() { writeFileSync(${JSON.stringify(closedMarker)}, String(Date.now())); }
`,
    );
    const wd = await startWatchdog(
      t,
      dir,
      `${process.execPath} --import tsx ${TEMPLATE_ENTRY}`,
      { HANDLER_PATH: handler, HXP_FUNCTION_NAME: 'sleepy', healthcheck_interval: '3s' },
      ROOT,
    );
    await whenUp(`${wd.url}/sleep?ms=1`);
    const inFlight = fetch(`${wd.url}/sleep?ms=1500`, { headers: { 'X-Call-Id': 'in-flight' } });
    await wd.proc.waitFor((e) => e.msg === 'sleeping' && e.reqId === 'in-flight');
    // The watchdog alone, as a container runtime signals PID 1; it forwards SIGTERM to the function.
    const signalled = Date.now();
    process.kill(wd.proc.child.pid!, 'SIGTERM');
    const grace = await wd.proc.waitFor((e) => e.signal === 'SIGTERM');
    t.is(grace.graceMs, 3000, 'the function read the watchdog’s healthcheck_interval');
    const health = await fetch(`${wd.url}/_/health`);
    t.is(health.status, 503, 'the watchdog tells load balancers to stop routing');
    await sleep(1000);
    const during = await fetch(`${wd.url}/late`, { method: 'POST', body: 'after SIGTERM' });
    t.is(during.status, 200, 'a request within the grace gets a real answer');
    t.like(await during.json(), { path: '/late', body: 'after SIGTERM' });
    const first = await inFlight;
    t.is(first.status, 200, 'the request in flight at SIGTERM finished');
    t.deepEqual(await first.json(), { slept: 1500 });
    // After the grace the function drains and runs close() (its log lines may outlive the watchdog's pipe).
    const deadline = Date.now() + 15_000;
    while (!existsSync(closedMarker) && Date.now() < deadline) await sleep(100);
    t.true(existsSync(closedMarker), 'close() ran');
    const closedAt = Number(await readFile(closedMarker, 'utf8'));
    // It drains and closes half a short grace before the watchdog's ends, so close() is done while the
    // watchdog is still there (it exits once nothing is in flight after its grace).
    t.is(grace.listenMs, 1500);
    t.true(
      closedAt - signalled >= 1400 && closedAt - signalled < 3000,
      `close() ran after listening and before the watchdog's grace ended (${closedAt - signalled} ms after SIGTERM)`,
    );
  },
);
