// The real cron-connector (0.7.0, built by scripts/services install) against the local gateway behind
// basic auth, as on OpenFaaS CE: it reads /system/namespaces and /system/functions with the credentials
// from its secret mount, schedules the functions annotated `topic: cron-function`, and invokes
// /function/<name>.<namespace> when the schedule fires. The test stack fires every minute, so this waits
// for the next minute to turn (the runtime's own cron timers are off: only the connector invokes).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaryTest, requireBinary } from '../helpers/services.ts';
import { RECORDER_HANDLER, startTestRuntime, tempStack, until, type TempStack } from './runtime-fixtures.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import { run, type Running } from './template-helpers.ts';

const test = binaryTest('cron-connector');

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The real cron-connector against `rt`, with basic-auth credentials in a secret mount as on OpenFaaS. */
async function launchConnector(
  t: { teardown(fn: () => unknown): void },
  rt: Runtime,
  stack: TempStack,
  credentials: { user: string; password: string },
): Promise<Running> {
  const secrets = await mkdtemp(join(tmpdir(), 'hxp-cron-secrets-'));
  t.teardown(() => rm(secrets, { recursive: true, force: true }));
  await writeFile(join(secrets, 'basic-auth-user'), credentials.user);
  await writeFile(join(secrets, 'basic-auth-password'), credentials.password);
  return run(
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
    const rt = await startTestRuntime(t, stack, {
      BASIC_AUTH_USER: 'admin',
      BASIC_AUTH_PASSWORD: 'cron-s3cret',
    });
    const connector = await launchConnector(t, rt, stack, { user: 'admin', password: 'cron-s3cret' });
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
  const rt = await startTestRuntime(t, stack, { BASIC_AUTH_USER: 'admin', BASIC_AUTH_PASSWORD: 'right' });
  const connector = await launchConnector(t, rt, stack, { user: 'admin', password: 'wrong' });
  await until(
    () => (/error listing namespaces/.test(connector.lines.join('\n')) ? true : undefined),
    30_000,
    'the connector to be refused',
  );
  t.notRegex(connector.lines.join('\n'), /Added: ticker/);
});
