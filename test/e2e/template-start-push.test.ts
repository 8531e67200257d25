// A function process tells the Pushgateway it started as soon as it starts — not on its first request — so
// FunctionRestarting (changes of hxp_function_start_time_seconds) sees a process that dies before any
// request: one that cannot start at all (no database URL, a bad setting) and one that listens and waits.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { requireService, serviceTest } from '../helpers/services.ts';
import {
  bundleInto,
  embeddedDatabaseEnv,
  functionEnv,
  isListening,
  run,
  tempDir,
} from './template-helpers.ts';

const pushgatewayTest = serviceTest('pushgateway');

/** The start time the Pushgateway holds for job `job` and `instance`, polled until it differs from `not`. */
async function pushedStart(
  url: string,
  job: string,
  instance: string,
  not?: number,
): Promise<number | undefined> {
  const pattern = new RegExp(
    `hxp_function_start_time_seconds\\{instance="${instance}",job="${job}"\\} (\\S+)`,
  );
  const deadline = Date.now() + 15_000;
  for (;;) {
    const match = pattern.exec(await (await fetch(`${url}/metrics`)).text());
    const value = match ? Number(match[1]) : undefined;
    if ((value !== undefined && value !== not) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

pushgatewayTest.serial(
  'a function that cannot start pushes its start time before it exits, each start a new value',
  async (t) => {
    const { url } = requireService('pushgateway')!;
    const instance = `start-${randomBytes(5).toString('hex')}`;
    t.teardown(() => fetch(`${url}/metrics/job/ingest/instance/${instance}`, { method: 'DELETE' }));
    const out = await bundleInto(await tempDir(t, 'start-push'), 'ingest');
    const env = { PORT: '0', PROMETHEUS_PUSHGATEWAY_URL: url, BATCH_PROCESSING_METRICS_INSTANCE: instance };

    const noDatabase = run(t, process.execPath, [join(out, 'index.js')], functionEnv(env), out);
    t.is(await noDatabase.exited, 1);
    t.is(noDatabase.logs.find((e) => e.level === 'fatal')?.code, 'DATABASE_URL_REQUIRED');
    const first = await pushedStart(url, 'ingest', instance);
    t.true(
      first !== undefined && Math.abs(first - Date.now() / 1000) < 60,
      `pushed start time ${String(first)}`,
    );

    // A second start, a second later, with a setting that does not parse: the configuration names no
    // Pushgateway then, so the environment's does.
    await new Promise((r) => setTimeout(r, 1_100));
    const badSetting = run(
      t,
      process.execPath,
      [join(out, 'index.js')],
      functionEnv({ ...env, DATABASE_URL: 'postgres://h/db', BATCH_PROCESSING_MAX_EVENT_FIELDS: 'many' }),
      out,
    );
    t.is(await badSetting.exited, 1);
    t.is(badSetting.logs.find((e) => e.level === 'fatal')?.code, 'CONFIG_INVALID');
    const second = await pushedStart(url, 'ingest', instance, first);
    t.true(
      second !== undefined && first !== undefined && second > first,
      `${String(first)} then ${String(second)}`,
    );
  },
);

pushgatewayTest.serial('a function that starts and gets no request has pushed its start time', async (t) => {
  const { url } = requireService('pushgateway')!;
  const instance = `start-${randomBytes(5).toString('hex')}`;
  t.teardown(() => fetch(`${url}/metrics/job/status/instance/${instance}`, { method: 'DELETE' }));
  const out = await bundleInto(await tempDir(t, 'start-push'), 'status');
  const fn = run(
    t,
    process.execPath,
    [join(out, 'index.js')],
    functionEnv({
      PORT: '0',
      PROMETHEUS_PUSHGATEWAY_URL: url,
      BATCH_PROCESSING_METRICS_INSTANCE: instance,
      ...(await embeddedDatabaseEnv(t)),
    }),
    out,
  );
  await fn.waitFor(isListening, 60_000);
  const pushed = await pushedStart(url, 'status', instance);
  t.true(
    pushed !== undefined && Math.abs(pushed - Date.now() / 1000) < 60,
    `pushed start time ${String(pushed)}`,
  );
});
