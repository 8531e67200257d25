// The real Prometheus of the services harness scrapes a local runtime: after an aggregation run the
// original service's check — curl 'http://127.0.0.1:9090/api/v1/query?query=batch_processing_completion_rate'
// — returns a sample, with the function's job and instance, next to the state metrics of the status function.
import { randomBytes } from 'node:crypto';
import { URL as NodeURL } from 'node:url';
import { query, registerScrapeTarget, waitForSamples } from '../helpers/prometheus.ts';
import { requireService, serviceTest } from '../helpers/services.ts';
import { projectRuntime } from './runtime-fixtures.ts';

serviceTest('prometheus')(
  'Prometheus scrapes the runtime: the original query answers after an aggregation run',
  async (t) => {
    t.timeout(180_000, 'three function processes, then two scrapes by the real Prometheus');
    const prometheus = requireService('prometheus')!;
    const instance = `e2e-${randomBytes(5).toString('hex')}`;
    const rt = await projectRuntime(t, ['ingest', 'aggregate-hourly', 'status'], {
      metricsPort: 0,
      metricsInstance: instance,
    });
    const event = {
      event_type: 'llm_request',
      timestamp: new Date(Date.now() - 3 * 3_600_000).toISOString(),
      source: 'api-1',
      data: { model: 'llama-3-70b', latency_ms: 800 },
    };
    t.is(
      (await fetch(`${rt.gatewayUrl}/function/ingest`, { method: 'POST', body: JSON.stringify(event) }))
        .status,
      200,
    );
    const run = await fetch(`${rt.gatewayUrl}/function/aggregate-hourly`, { method: 'POST' });
    t.is(run.status, 200);
    t.like(await run.json(), { status: 'succeeded', windowsDone: 1 });

    await registerScrapeTarget(t, prometheus.targetsDir, Number(new NodeURL(rt.metricsUrl!).port));
    const mine = `batch_processing_completion_rate{instance="${instance}"}`;
    const samples = await waitForSamples(prometheus.url, mine);
    t.is(samples.length, 1, `${mine} scraped`);
    t.like(samples[0]?.metric, {
      __name__: 'batch_processing_completion_rate',
      job: 'aggregate-hourly',
      instance,
    });
    t.is(samples[0]?.value[1], '1');
    // The original's query, as its README gives it, answers (with this sample among any others).
    t.true((await query(prometheus.url, 'batch_processing_completion_rate')).length >= 1);
    // The state metrics of the status function come through the same scrape.
    const target = `127.0.0.1:${new NodeURL(rt.metricsUrl!).port}`;
    const status = await waitForSamples(
      prometheus.url,
      `data_aggregation_hourly_status{instance="${target}"}`,
    );
    t.is(status[0]?.value[1], '1');
    const stored = await query(
      prometheus.url,
      `hxp_ingest_events_total{instance="${instance}",job="ingest",outcome="stored"}`,
    );
    t.is(stored[0]?.value[1], '1');
    // The harness loaded the project's rules, and every one of them evaluates without an error.
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data: {
        groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }>;
      };
    };
    const groups = new Map(rules.data.groups.map((g) => [g.name, g.rules]));
    t.true((groups.get('batch_processing') ?? []).some((r) => r.name === 'BatchProcessingFailed'));
    for (const rule of [...groups.values()].flat())
      t.not(rule.health, 'err', `${rule.name}: ${rule.lastError}`);
  },
);
