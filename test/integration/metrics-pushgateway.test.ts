// Run metrics reach the real Pushgateway: a function's context pushes its process registry after a run, under
// the grouping key job = the function's name and instance = metrics.instance; a push replaces the group; a
// Pushgateway that is down costs one warning and never fails the run.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { Registry } from 'prom-client';
import { closeFunctionContext, getFunctionContext, jobDeps } from '../../shared/function-context.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import { createMetricsPusher, recordRun } from '../../shared/metrics/index.ts';
import { EMBEDDED_SOCKET_FLAG } from '../../shared/db/gated.ts';
import { startEmbeddedServer } from '../../runtime/embedded-db.ts';
import { freePort } from '../../runtime/free-port.ts';
import { waitForSamples } from '../helpers/prometheus.ts';
import { requireService, serviceTest } from '../helpers/services.ts';

const pushgatewayTest = serviceTest('pushgateway');
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function uniqueInstance(): string {
  return `test-${randomBytes(5).toString('hex')}`;
}

async function groupText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Polls the Pushgateway until `pattern` shows (a push is scheduled, not immediate). */
async function waitFor(url: string, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await groupText(url);
    if (pattern.test(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function deleteGroup(url: string, job: string, instance: string): Promise<void> {
  await fetch(`${url}/metrics/job/${job}/instance/${instance}`, { method: 'DELETE' });
}

serviceTest('pushgateway', 'prometheus').serial(
  "after an aggregation run the function context pushes the original's run metrics, grouped by job and instance, and Prometheus scrapes them",
  async (t) => {
    const { url } = requireService('pushgateway')!;
    const instance = uniqueInstance();
    t.teardown(() => deleteGroup(url, 'aggregate-hourly', instance));
    // A function has no database of its own: the local runtime's embedded one, as under `npm start`.
    const embedded = await startEmbeddedServer();
    t.teardown(() => embedded.close());
    t.teardown(closeFunctionContext);
    const fx = await getFunctionContext({
      env: {
        DATABASE_URL: embedded.url,
        [EMBEDDED_SOCKET_FLAG]: '1',
        PROMETHEUS_PUSHGATEWAY_URL: url,
        BATCH_PROCESSING_METRICS_INSTANCE: instance,
        HXP_FUNCTION_NAME: 'aggregate-hourly',
      },
    });
    t.deepEqual(fx.metrics.pusher?.grouping, { job: 'aggregate-hourly', instance });
    const summary = await runAggregation(jobDeps(fx, silent), { level: 'hour', trigger: 'http' });
    t.is(summary.status, 'succeeded');
    const labels = `instance="${instance}",job="aggregate-hourly"`;
    const text = await waitFor(url, new RegExp(`batch_processing_completion_rate\\{${labels}\\} 1`));
    t.regex(text, new RegExp(`batch_processing_completion_rate\\{${labels}\\} 1`));
    t.regex(text, new RegExp(`batch_processing_success_rate\\{${labels}\\} 1`));
    t.regex(text, new RegExp(`batch_processing_runs_total\\{${labels},result="succeeded"\\} 1`));
    t.regex(text, new RegExp(`batch_processing_duration_seconds_count\\{${labels}\\} 1`));
    t.regex(text, new RegExp(`push_time_seconds\\{${labels}\\}`));
    // The harness's Prometheus scrapes the Pushgateway with honor_labels: the push's job and instance stay.
    const prometheus = requireService('prometheus')!;
    const samples = await waitForSamples(
      prometheus.url,
      `batch_processing_completion_rate{job="aggregate-hourly",instance="${instance}"}`,
    );
    t.is(samples[0]?.value[1], '1');
  },
);

pushgatewayTest(
  'a push replaces the whole group (PUT), so a metric the process no longer has goes away',
  async (t) => {
    const { url } = requireService('pushgateway')!;
    const instance = uniqueInstance();
    t.teardown(() => deleteGroup(url, 'push-test', instance));
    const registry = new Registry();
    const pusher = createMetricsPusher({
      url,
      registry,
      grouping: { job: 'push-test', instance },
      delayMs: 10,
    });
    recordRun(registry, {
      result: 'failed',
      durationSeconds: 2,
      due: 4,
      attempted: 4,
      succeeded: 1,
      finishedAt: new Date('2026-11-28T10:00:00Z'),
    });
    pusher.schedule();
    pusher.schedule(); // coalesced with the first
    const labels = `instance="${instance}",job="push-test"`;
    const first = await waitFor(url, new RegExp(`batch_processing_success_rate\\{${labels}\\} 0.25`));
    t.regex(first, new RegExp(`batch_processing_success_rate\\{${labels}\\} 0.25`));
    t.regex(first, new RegExp(`batch_processing_last_run_timestamp_seconds\\{${labels}\\} 1.79586e\\+09`));
    registry.removeSingleMetric('batch_processing_last_run_timestamp_seconds');
    await pusher.flush();
    t.notRegex(
      await groupText(url),
      new RegExp(`batch_processing_last_run_timestamp_seconds\\{${labels}\\}`),
    );
  },
);

test('a Pushgateway that does not answer costs one warning per failing streak and never throws', async (t) => {
  const port = await freePort();
  const warnings: unknown[] = [];
  const registry = new Registry();
  recordRun(registry, {
    result: 'succeeded',
    durationSeconds: 1,
    due: 1,
    attempted: 1,
    succeeded: 1,
    finishedAt: new Date(),
  });
  const pusher = createMetricsPusher({
    url: `http://127.0.0.1:${port}`,
    registry,
    grouping: { job: 'x', instance: 'y' },
    log: { info: () => undefined, warn: (obj) => warnings.push(obj) },
    timeoutMs: 500,
  });
  await pusher.flush();
  await pusher.flush();
  t.is(warnings.length, 1);
});
