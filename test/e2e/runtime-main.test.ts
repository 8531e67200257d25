// `npm start` as a process (what it prints, clean shutdown) and the Kafka bridge run standalone
// against a gateway, as it would run next to a real OpenFaaS CE.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from '../../runtime/free-port.ts';
import { createTopics } from '../fixtures/ingest-kafka.ts';
import { requireService, serviceTest } from '../helpers/services.ts';
import {
  ECHO_HANDLER,
  RECORDER_HANDLER,
  ROOT,
  startTestRuntime,
  tempStack,
  until,
} from './runtime-fixtures.ts';

function launch(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('npm start prints what it started and where, and stops its functions on SIGTERM', async (t) => {
  const stack = tempStack({
    echo: { source: ECHO_HANDLER },
    recorder: { source: RECORDER_HANDLER, annotations: { topic: 'cron-function', schedule: '*/5 * * * *' } },
  });
  t.teardown(() => stack.cleanup());
  const [gatewayPort, apiPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const run = launch(['runtime/main.ts', '--stack', stack.stackFile, '--data-dir', stack.dir, '--no-cron'], {
    ...process.env,
    GATEWAY_PORT: String(gatewayPort),
    BATCH_PROCESSING_API_PORT: String(apiPort),
    BATCH_PROCESSING_METRICS_PORT: String(metricsPort),
    DATABASE_URL: '',
    KAFKA_BOOTSTRAP_SERVERS: '',
    BATCH_PROCESSING_ARCHIVAL_PATH: '',
    LOG_LEVEL: 'warn',
  });
  t.teardown(() => {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  });
  const printed = await until(
    () => (/^ {4}recorder .*$/m.test(run.output()) ? run.output() : undefined),
    90_000,
    'the start summary',
  );
  t.true(printed.includes(`gateway   http://127.0.0.1:${gatewayPort}`));
  t.true(printed.includes(`API       http://127.0.0.1:${apiPort}`));
  t.true(printed.includes(`metrics   http://127.0.0.1:${metricsPort}/metrics`));
  t.regex(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), /gateway_service_count/);
  // --data-dir holds both: the database in pglite/ and the archive (reports, archived days) in archive/
  t.true(printed.includes(`database  embedded PGlite at ${join(stack.dir, 'pglite')}`), printed);
  t.true(printed.includes(`archive   ${pathToFileURL(join(stack.dir, 'archive')).href}`), printed);
  t.regex(printed, /kafka {5}off/);
  t.regex(printed, new RegExp(`^ {4}echo +pid \\d+ +http://127.0.0.1:${gatewayPort}/function/echo$`, 'm'));
  t.regex(printed, /^ {4}recorder .*cron "\*\/5 \* \* \* \*"$/m);
  const pids = [...printed.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
  t.is(pids.length, 2);
  t.is((await fetch(`http://127.0.0.1:${gatewayPort}/function/echo`)).status, 200);
  // where `npm run restore -- --data-dir` finds this runtime's API, removed when it stops
  const record = join(stack.dir, 'runtime.json');
  t.like(JSON.parse(readFileSync(record, 'utf8')), { apiUrl: `http://127.0.0.1:${apiPort}` });
  run.child.kill('SIGTERM');
  t.is(await run.exited, 0);
  t.false(existsSync(record));
  t.deepEqual(
    pids.filter((p) => alive(p)),
    [],
    'no function process outlives the runtime',
  );
});

test('npm start on a port already taken says which port and which setting, without a stack, and exits 1', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const taken = (holder.address() as AddressInfo).port;
  const stack = tempStack({ echo: { source: ECHO_HANDLER } });
  t.teardown(() => stack.cleanup());
  const run = launch(['runtime/main.ts', '--stack', stack.stackFile, '--data-dir', stack.dir], {
    ...process.env,
    GATEWAY_PORT: String(taken),
    BATCH_PROCESSING_API_PORT: String(await freePort()),
    BATCH_PROCESSING_METRICS_PORT: String(await freePort()),
    DATABASE_URL: '',
    KAFKA_BOOTSTRAP_SERVERS: '',
    LOG_LEVEL: 'warn',
  });
  t.teardown(() => {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  });
  t.is(await run.exited, 1);
  t.regex(
    run.output(),
    new RegExp(`runtime failed to start: port ${taken} on 127.0.0.1 is in use;.*GATEWAY_PORT`),
  );
  t.notRegex(run.output(), /^\s+at /m, 'a known condition is told without a stack');
});

serviceTest('kafka')(
  'the Kafka bridge runs standalone against a gateway and delivers with connector headers',
  async (t) => {
    const brokers = requireService('kafka')!.brokers;
    const topic = `rt.standalone.${randomBytes(4).toString('hex')}`;
    const group = `rt-sa-${randomBytes(4).toString('hex')}`;
    const kafka = new Kafka({ clientId: 'rt-test', brokers, logLevel: logLevel.NOTHING });
    await createTopics(t, kafka, [topic], 1, [group]);
    const stack = tempStack({
      recorder: { source: RECORDER_HANDLER, annotations: { topic: `${topic},cron-function` } },
    });
    const rt = await startTestRuntime(t, stack);
    t.is(rt.bridge, undefined, 'no in-process bridge without KAFKA_BOOTSTRAP_SERVERS');
    const bridge = launch(
      [
        'runtime/kafka-bridge.ts',
        '--gateway',
        rt.gatewayUrl,
        '--brokers',
        brokers.join(','),
        '--group',
        group,
      ],
      // With an API token configured, deliveries carry it (ingest needs it) and it is never printed.
      { ...process.env, KAFKA_BOOTSTRAP_SERVERS: '', BATCH_PROCESSING_API_TOKEN: 'bridge-tok-5e1a9c' },
    );
    t.teardown(() => {
      if (bridge.child.exitCode === null) bridge.child.kill('SIGKILL');
    });
    await until(
      () => (bridge.output().includes('kafka bridge consuming') ? true : undefined),
      60_000,
      'the bridge to consume',
    );
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: 'user-7', value: 'raw bytes', headers: { origin: 'test' } }],
    });
    await producer.disconnect();
    const seen = await until(
      async () => {
        const list = (await (await fetch(`${rt.gatewayUrl}/function/recorder/seen`)).json()) as Array<{
          headers: Record<string, string>;
          body: string;
        }>;
        return list.length > 0 ? list : undefined;
      },
      60_000,
      'the delivery',
    );
    t.is(seen.length, 1);
    t.is(seen[0]!.body, 'raw bytes');
    t.like(seen[0]!.headers, {
      'x-topic': topic,
      'x-kafka-partition': '0',
      'x-kafka-offset': '0',
      'x-kafka-key': 'user-7',
      'x-kafka-origin': 'test',
      authorization: 'Bearer bridge-tok-5e1a9c',
    });
    bridge.child.kill('SIGTERM');
    t.is(await bridge.exited, 0);
    t.false(bridge.output().includes('bridge-tok-5e1a9c'), 'the token is in none of its log lines');
  },
);
