// The local runtime end to end: real function processes behind the gateway, the original API, async
// callbacks, cron through the injectable clock, crash restarts, the embedded database gate, faas-cli.
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import test from 'ava';
import { startRuntime, type Runtime } from '../../runtime/runtime.ts';
import { binaryTest, requireBinary } from '../helpers/services.ts';
import {
  CRASHY_HANDLER,
  ECHO_HANDLER,
  LAZY_HANDLER,
  RECORDER_HANDLER,
  SLEEPY_HANDLER,
  TX_HANDLER,
  recordingLog,
  tempStack,
  until,
  type TempStack,
} from './runtime-fixtures.ts';

const run = promisify(execFile);
let rt: Runtime;
let stack: TempStack;
const log = recordingLog();
const output: string[] = [];

test.before(async () => {
  stack = tempStack({
    echo: { source: ECHO_HANDLER, labels: { team: 'batch' }, environment: { ECHO_MODE: 'loud' } },
    recorder: { source: RECORDER_HANDLER, annotations: { topic: 'cron-function', schedule: '*/5 * * * *' } },
    crashy: { source: CRASHY_HANDLER },
    'tx-a': { source: TX_HANDLER },
    'tx-b': { source: TX_HANDLER },
    sleepy: { source: SLEEPY_HANDLER, environment: { exec_timeout: '1s', MAX_REQUEST_BODY: '1048576' } },
    lazy: { source: LAZY_HANDLER, environment: { LAZY_START_MS: '1500' } },
  });
  rt = await startRuntime({
    stackFile: stack.stackFile,
    dataDir: stack.dataDir,
    gatewayPort: 0,
    apiPort: 0,
    cronTimers: false,
    env: {
      ...process.env,
      DATABASE_URL: '',
      KAFKA_BOOTSTRAP_SERVERS: '',
      BASIC_AUTH_USER: 'admin',
      BASIC_AUTH_PASSWORD: 's3cret',
    },
    log,
    output: (fn, line) => void output.push(`[${fn}] ${line}`),
    backoffMs: { initial: 100, max: 1000 },
  });
});

test.after.always(async () => {
  await rt?.stop();
  stack?.cleanup();
});

const auth = { Authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` };

test.serial('the gateway preserves method, path suffix, query, headers, body and status', async (t) => {
  const res = await fetch(`${rt.gatewayUrl}/function/echo/some/path?x=1&status=201`, {
    method: 'PUT',
    headers: { 'content-type': 'text/plain', 'x-custom': 'abc' },
    body: 'hello body',
  });
  t.is(res.status, 201);
  t.is(res.headers.get('x-echo'), 'yes');
  t.truthy(res.headers.get('x-call-id'));
  t.truthy(res.headers.get('x-duration-seconds'));
  const body = (await res.json()) as {
    method: string;
    path: string;
    query: Record<string, string>;
    headers: IncomingHttpHeaders;
    body: string;
  };
  t.is(body.method, 'PUT');
  t.is(body.path, '/some/path');
  t.deepEqual(body.query, { x: '1', status: '201' });
  t.is(body.headers['x-custom'], 'abc');
  t.is(body.body, 'hello body');

  const namespaced = await fetch(`${rt.gatewayUrl}/function/echo.openfaas-fn?status=418`, {
    method: 'DELETE',
  });
  t.is(namespaced.status, 418);
  t.is(((await namespaced.json()) as { method: string; path: string }).path, '/');
  t.is((await fetch(`${rt.gatewayUrl}/function/echo.other-ns`)).status, 404);
  const missing = await fetch(`${rt.gatewayUrl}/function/nope`);
  t.is(missing.status, 404);
  t.regex(await missing.text(), /nope/);
});

test.serial(
  'a body over the function’s MAX_REQUEST_BODY is answered 413 every time, never 502',
  async (t) => {
    // A new user sent 20 MB and got `502 FUNCTION_UNREACHABLE "write EPIPE"` in 3 of 8 tries: the function
    // refused the body and closed while the gateway was still sending it.
    const body = Buffer.alloc(20 * 2 ** 20, 'x');
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${rt.gatewayUrl}/function/sleepy`, { method: 'POST', body });
      const answer = (await res.json()) as { error: { code: string; message: string } };
      statuses.push(res.status);
      t.is(answer.error.code, 'REQUEST_TOO_LARGE');
      t.regex(answer.error.message, /exceeds the limit of 1048576 bytes \(MAX_REQUEST_BODY\)/);
    }
    t.deepEqual(statuses, Array(20).fill(413));
    // Without a Content-Length (chunked), the gateway counts while it forwards.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(new Uint8Array(64 * 1024).fill(120));
        controller.close();
      },
    });
    const chunked = await fetch(`${rt.gatewayUrl}/function/sleepy`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    t.is(chunked.status, 413);
    t.like(await chunked.json(), { error: { code: 'REQUEST_TOO_LARGE' } });
    const small = await fetch(`${rt.gatewayUrl}/function/sleepy`, { method: 'POST', body: 'x'.repeat(1000) });
    t.is(small.status, 200, 'a body within the limit still gets through');
  },
);

test.serial(
  'exec_timeout: a call that outlives it is answered 504 FUNCTION_TIMEOUT, sync and async',
  async (t) => {
    const quick = await fetch(`${rt.gatewayUrl}/function/sleepy?ms=10`);
    t.deepEqual(await quick.json(), { slept: 10 });
    const started = Date.now();
    const slow = await fetch(`${rt.gatewayUrl}/function/sleepy?ms=5000`);
    t.is(slow.status, 504);
    t.true(Date.now() - started < 4000, 'answered at exec_timeout, not when the handler finished');
    const answer = (await slow.json()) as { error: { code: string; message: string } };
    t.is(answer.error.code, 'FUNCTION_TIMEOUT');
    t.regex(answer.error.message, /sleepy did not answer within its exec_timeout of 1s/);

    const received: Array<{ status: string; body: string }> = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          status: String(req.headers['x-function-status']),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => receiver.close());
    const callback = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
    const accepted = await fetch(`${rt.gatewayUrl}/async-function/sleepy?ms=5000`, {
      method: 'POST',
      headers: { 'X-Callback-Url': callback },
    });
    t.is(accepted.status, 202);
    const got = await until(() => received[0], 20_000, 'the async callback');
    t.is(got.status, '504');
    t.like(JSON.parse(got.body), { error: { code: 'FUNCTION_TIMEOUT' } });
  },
);

test.serial(
  'a caller that gives up while the function starts is recorded as 499 and never forwarded (no 408 a minute later)',
  async (t) => {
    // Health polls with a short timeout during a slow start left an unsent request on an idle connection to
    // the function; its server answered that connection 408 after headersTimeout, and the gateway counted it.
    const proc = rt.supervisor.get('lazy')!;
    proc.kill('SIGKILL');
    await until(
      () => (proc.state === 'starting' || proc.state === 'crashed' ? true : undefined),
      10_000,
      'restart',
    );
    const { port } = new URL(rt.gatewayUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('GET /function/lazy/health HTTP/1.1\r\nHost: gw\r\n\r\n');
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy(); // the poller's timeout
    await proc.ready(30_000);
    const metric = await until(
      async () => {
        const text = await (await fetch(`${rt.apiUrl}/metrics`)).text();
        return /gateway_function_invocation_total\{function_name="lazy",code="499"\} 1/.test(text)
          ? text
          : undefined;
      },
      10_000,
      'the 499 in the gateway metrics',
    );
    t.notRegex(metric, /function_name="lazy",code="408"/);
    const hits = (await (await fetch(`${rt.gatewayUrl}/function/lazy/hits`)).json()) as { hits: number };
    t.is(hits.hits, 0, 'the abandoned call never reached the function');
  },
);

test.serial('/system/functions speaks the OpenFaaS shape behind basic auth', async (t) => {
  t.is((await fetch(`${rt.gatewayUrl}/system/functions`)).status, 401);
  const res = await fetch(`${rt.gatewayUrl}/system/functions`, { headers: auth });
  t.is(res.status, 200);
  const fns = (await res.json()) as Array<Record<string, unknown>>;
  t.deepEqual(fns.map((f) => f.name).sort(), [
    'crashy',
    'echo',
    'lazy',
    'recorder',
    'sleepy',
    'tx-a',
    'tx-b',
  ]);
  const echo = fns.find((f) => f.name === 'echo')!;
  for (const key of [
    'name',
    'image',
    'namespace',
    'envProcess',
    'envVars',
    'labels',
    'annotations',
    'secrets',
    'limits',
    'requests',
    'readOnlyRootFilesystem',
    'invocationCount',
    'replicas',
    'availableReplicas',
    'createdAt',
  ]) {
    t.true(key in echo, `missing ${key}`);
  }
  t.like(echo, {
    namespace: 'openfaas-fn',
    image: 'test/echo:latest',
    labels: { team: 'batch' },
    availableReplicas: 1,
    replicas: 1,
  });
  t.is((echo.envVars as Record<string, string>).ECHO_MODE, 'loud');
  t.true((echo.invocationCount as number) >= 2);
  const recorder = (await (
    await fetch(`${rt.gatewayUrl}/system/function/recorder`, { headers: auth })
  ).json()) as Record<string, unknown>;
  t.deepEqual(recorder.annotations, { topic: 'cron-function', schedule: '*/5 * * * *' });
  t.deepEqual(await (await fetch(`${rt.gatewayUrl}/system/namespaces`, { headers: auth })).json(), [
    'openfaas-fn',
  ]);
  t.is((await fetch(`${rt.gatewayUrl}/healthz`)).status, 200);
});

test.serial('an async invocation answers 202 and calls back with the queue-worker headers', async (t) => {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => receiver.close());
  const callback = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
  const res = await fetch(`${rt.gatewayUrl}/async-function/echo/later?status=202`, {
    method: 'POST',
    headers: { 'X-Callback-Url': callback, 'content-type': 'text/plain' },
    body: 'async payload',
  });
  t.is(res.status, 202);
  const callId = res.headers.get('x-call-id');
  t.truthy(callId);
  const got = await until(() => received[0], 20_000, 'the callback');
  t.is(got.headers['x-call-id'], callId!);
  t.is(got.headers['x-function-status'], '202');
  t.regex(String(got.headers['x-duration-seconds']), /^\d+\.\d+$/);
  const body = JSON.parse(got.body) as { path: string; body: string; headers: IncomingHttpHeaders };
  t.is(body.path, '/later');
  t.is(body.body, 'async payload');
  t.is(body.headers['x-call-id'], callId!);
});

test.serial(
  'cron annotations fire through the gateway with the cron-connector shape (injected clock)',
  async (t) => {
    const quiet = await rt.cron.fireDue(new Date('2026-11-28T10:01:00Z'), new Date('2026-11-28T10:04:59Z'));
    t.deepEqual(quiet, []);
    const fired = await rt.cron.fireDue(new Date('2026-11-28T10:04:00Z'), new Date('2026-11-28T10:05:00Z'));
    t.deepEqual(fired, [{ fn: 'recorder', status: 200 }]);
    const seen = (await (await fetch(`${rt.gatewayUrl}/function/recorder/seen`)).json()) as Array<{
      method: string;
      path: string;
      headers: IncomingHttpHeaders;
      body: string;
    }>;
    t.is(seen.length, 1);
    t.like(seen[0], { method: 'POST', path: '/', body: '' });
    t.is(seen[0]!.headers['x-connector'], 'cron-connector');
    t.is(seen[0]!.headers['x-topic'], 'cron-function');
  },
);

test.serial('a crashed function is reported and restarted', async (t) => {
  const before = (await (await fetch(`${rt.gatewayUrl}/function/crashy`)).json()) as { pid: number };
  await fetch(`${rt.gatewayUrl}/function/crashy/crash`);
  const status = await until(
    async () => {
      const s = (await (
        await fetch(`${rt.gatewayUrl}/system/function/crashy`, { headers: auth })
      ).json()) as {
        restarts: number;
        availableReplicas: number;
      };
      return s.restarts >= 1 && s.availableReplicas === 1 ? s : undefined;
    },
    30_000,
    'crashy to restart',
  );
  t.is(status.restarts, 1);
  const after = (await (await fetch(`${rt.gatewayUrl}/function/crashy`)).json()) as { pid: number };
  t.not(after.pid, before.pid);
  t.true(
    log.lines.some(
      (l) => l.level === 'warn' && l.msg.includes('restarting') && (l.obj as { fn?: string }).fn === 'crashy',
    ),
  );
  const metrics = await (await fetch(`${rt.apiUrl}/metrics`)).text();
  t.regex(metrics, /hxp_runtime_function_restarts_total\{function_name="crashy"\} 1/);
});

test.serial(
  'two functions in transactions at once through the embedded database do not see each other',
  async (t) => {
    t.is(rt.database.mode, 'embedded');
    await rt.db.query('CREATE TABLE IF NOT EXISTS gate_marks (who text)');
    const call = async (fn: string) => {
      const res = await fetch(`${rt.gatewayUrl}/function/${fn}`, { method: 'POST' });
      return {
        status: res.status,
        body: (await res.json()) as { me: string; seen: string[]; flag: string | null },
      };
    };
    const [a, b] = await Promise.all([call('tx-a'), call('tx-b')]);
    t.is(a.status, 200, JSON.stringify(a.body));
    t.is(b.status, 200, JSON.stringify(b.body));
    t.is(a.body.flag, '1');
    const [first, second] = [a.body, b.body].sort((x, y) => x.seen.length - y.seen.length);
    t.deepEqual(first!.seen, [first!.me], 'the first transaction saw only its own row');
    t.deepEqual(second!.seen, ['tx-a', 'tx-b'], 'the second ran after the first committed');
  },
);

test.serial(
  'the original API routes to functions, names a function the stack leaves out, and serves /metrics',
  async (t) => {
    const reports = await fetch(`${rt.apiUrl}/reports/list`);
    t.is(reports.status, 503);
    t.like(await reports.json(), { error: { code: 'FUNCTION_NOT_DEPLOYED', function: 'generate-report' } });
    t.is((await fetch(`${rt.apiUrl}/health`)).status, 503, 'no status function in this stack');
    const metrics = await fetch(`${rt.apiUrl}/metrics`);
    t.is(metrics.status, 200);
    t.regex(await metrics.text(), /gateway_function_invocation_total\{function_name="echo",code="201"\} 1/);
  },
);

binaryTest('faas-cli').serial('faas-cli list and invoke work against the runtime', async (t) => {
  const bin = requireBinary('faas-cli')!;
  const env = { ...process.env, OPENFAAS_URL: '' };
  const list = await run(bin, ['list', '--gateway', rt.gatewayUrl, '--tls-no-verify'], {
    env: { ...env, OPENFAAS_USERNAME: '' },
  }).catch((err: { stdout?: string; stderr?: string }) => err);
  // faas-cli answers 401 without credentials; log in the way users do
  t.regex(`${list.stdout ?? ''}${list.stderr ?? ''}`, /401|unauthorized/i);
  // as the OpenFaaS docs have it: the password on stdin, never in the process list
  const login = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      bin,
      ['login', '--gateway', rt.gatewayUrl, '-u', 'admin', '--password-stdin'],
      { env: { ...env, HOME: stack.dir } },
      (err, stdout, stderr) => (err ? reject(err) : resolve(`${stdout}${stderr}`)),
    );
    child.stdin!.end('s3cret');
  });
  t.regex(login, /credentials saved/i);
  const listed = await run(bin, ['list', '--gateway', rt.gatewayUrl], { env: { ...env, HOME: stack.dir } });
  for (const name of ['echo', 'recorder', 'crashy']) t.regex(listed.stdout, new RegExp(`^${name}\\s`, 'm'));
  const invoked = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      bin,
      ['invoke', 'echo', '--gateway', rt.gatewayUrl, '--query', 'q=2'],
      { env: { ...env, HOME: stack.dir } },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
    child.stdin!.end('from faas-cli');
  });
  const body = JSON.parse(invoked) as { body: string; query: Record<string, string>; method: string };
  t.is(body.body, 'from faas-cli');
  t.is(body.query.q, '2');
  t.is(body.method, 'POST');
  // Neither the runtime nor a function logged the credentials.
  const logged = [...output, ...log.lines.map((l) => `${l.msg} ${JSON.stringify(l.obj)}`)].join('\n');
  t.false(logged.includes('s3cret'));
  t.false(logged.includes(Buffer.from('admin:s3cret').toString('base64')));
});
