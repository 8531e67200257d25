// The real cron-connector (0.7.0, built by scripts/services install) against the local gateway behind
// basic auth, as on OpenFaaS CE: it reads /system/namespaces and /system/functions with the credentials
// from its secret mount, schedules the functions annotated `topic: cron-function`, and invokes
// /function/<name>.<namespace> when the schedule fires. The test stack fires every minute, so this waits
// for the next minute to turn (the runtime's own cron timers are off: only the connector invokes).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntime } from '../../runtime/runtime.ts';
import { binaryTest, requireBinary } from '../helpers/services.ts';
import { RECORDER_HANDLER, recordingLog, tempStack, until } from './runtime-fixtures.ts';
import { run } from './template-helpers.ts';

const test = binaryTest('cron-connector');

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

test.serial(
  'the cron-connector finds the cron functions through basic auth and invokes one when its schedule fires',
  async (t) => {
    t.timeout(180_000, 'a schedule of every minute fires within 60 s of the connector listing it');
    const stack = tempStack({
      ticker: {
        source: RECORDER_HANDLER,
        annotations: { topic: 'cron-function', schedule: '* * * * *' },
      },
      // Not a cron function: the connector must leave it alone.
      bystander: { source: RECORDER_HANDLER, annotations: { topic: 'hxp.batch.events' } },
    });
    t.teardown(() => stack.cleanup());
    const rt = await startRuntime({
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
        BASIC_AUTH_PASSWORD: 'cron-s3cret',
      },
      log: recordingLog(),
      output: () => undefined,
    });
    t.teardown(() => rt.stop());

    const secrets = await mkdtemp(join(tmpdir(), 'hxp-cron-secrets-'));
    t.teardown(() => rm(secrets, { recursive: true, force: true }));
    await writeFile(join(secrets, 'basic-auth-user'), 'admin');
    await writeFile(join(secrets, 'basic-auth-password'), 'cron-s3cret');
    const connector = run(
      t,
      requireBinary('cron-connector')!,
      [],
      {
        PATH: process.env.PATH,
        gateway_url: rt.gatewayUrl,
        basic_auth: 'true',
        secret_mount_path: secrets,
        rebuild_interval: '1s',
      },
      stack.dir,
    );
    const output = () => connector.lines.join('\n');
    await until(
      () => (/Added: ticker\.openfaas-fn \[\* \* \* \* \*\]/.test(output()) ? true : undefined),
      30_000,
      'the connector to schedule ticker',
    );
    t.notRegex(output(), /bystander/, 'only cron-function functions are scheduled');
    t.notRegex(output(), /error listing/, 'the listing calls passed basic auth');

    const seen = async (fn: string) =>
      (await (await fetch(`${rt.gatewayUrl}/function/${fn}/seen`)).json()) as Seen[];
    const calls = await until(
      async () => {
        const got = await seen('ticker');
        return got.length > 0 ? got : undefined;
      },
      75_000,
      'the minute to turn and the connector to invoke ticker',
    );
    t.like(calls[0], { method: 'POST', path: '/', body: '' });
    t.is(calls[0]!.headers['x-connector'], 'cron-connector');
    t.is(calls[0]!.headers['x-topic'], 'cron-function');
    await until(
      () => (/Response: ticker \[200\]/.test(output()) ? true : undefined),
      10_000,
      'the connector to log the answer',
    );
    t.deepEqual(await seen('bystander'), []);
    t.false(output().includes('cron-s3cret'), 'the connector never printed the password');
  },
);

test.serial('with wrong credentials the connector cannot list functions and schedules nothing', async (t) => {
  const stack = tempStack({
    ticker: { source: RECORDER_HANDLER, annotations: { topic: 'cron-function', schedule: '* * * * *' } },
  });
  t.teardown(() => stack.cleanup());
  const rt = await startRuntime({
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
      BASIC_AUTH_PASSWORD: 'right',
    },
    log: recordingLog(),
    output: () => undefined,
  });
  t.teardown(() => rt.stop());
  const secrets = await mkdtemp(join(tmpdir(), 'hxp-cron-secrets-'));
  t.teardown(() => rm(secrets, { recursive: true, force: true }));
  await writeFile(join(secrets, 'basic-auth-user'), 'admin');
  await writeFile(join(secrets, 'basic-auth-password'), 'wrong');
  const connector = run(
    t,
    requireBinary('cron-connector')!,
    [],
    {
      PATH: process.env.PATH,
      gateway_url: rt.gatewayUrl,
      basic_auth: 'true',
      secret_mount_path: secrets,
      rebuild_interval: '1s',
    },
    stack.dir,
  );
  await until(
    () => (/error listing namespaces/.test(connector.lines.join('\n')) ? true : undefined),
    30_000,
    'the connector to be refused',
  );
  t.notRegex(connector.lines.join('\n'), /Added: ticker/);
});
