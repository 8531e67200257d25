// The project's own stack.yml on the embedded database: the demo pipeline (ingest → hourly → daily →
// weekly → monthly) through the gateway, then the status function behind the original API paths, with the
// demo's price table as `npm run demo` configures it (api-3 reports no cost).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  DEMO_MODELS,
  DEMO_UNMETERED_SOURCE,
  generateDemoEvents,
  withDemoPricing,
} from '../../runtime/demo/generate.ts';
import { parseConfig } from '../../shared/config/index.ts';
import type { AggregatesPage, DailyUsage } from '../../shared/query/index.ts';
import { runDemo } from '../../runtime/demo/run-demo.ts';
import { isolatedRuntimeOptions, startRuntime } from '../../runtime/runtime.ts';
import { recordingLog } from './runtime-fixtures.ts';

const nextDay = (date: string): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

test('the demo runs the real functions end to end and the status API reports it', async (t) => {
  t.timeout(240_000, 'eight function processes and the whole chain on a shared 2-core machine');
  const dir = mkdtempSync(join(tmpdir(), 'hxp-demo-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const started: Array<[string, number, number]> = [];
  const rt = await startRuntime(
    isolatedRuntimeOptions(
      join(dir, 'pglite'),
      recordingLog(),
      withDemoPricing({ LOG_LEVEL: 'warn' }, parseConfig({}).pricing).env,
      {
        onFunctionReady: (fn, ready, total) => started.push([fn, ready, total]),
        metricsPort: 0,
        metricsInstance: 'demo-host',
      },
    ),
  );
  t.teardown(() => rt.stop());
  t.is(rt.database.mode, 'embedded');
  // the start reports each function as it comes up, counting to all of them
  t.deepEqual(
    started.map(([, ready]) => ready),
    rt.stack.functions.map((_, i) => i + 1),
  );
  t.deepEqual(started.map(([fn]) => fn).sort(), rt.stack.functions.map((f) => f.name).sort());
  t.true(started.every(([, , total]) => total === rt.stack.functions.length));

  const now = new Date();
  const options = { now, days: 2, requestsPerHour: 8, seed: 3 };
  const progress: string[] = [];
  const result = await runDemo(rt.gatewayUrl, rt.db, {
    ...options,
    onProgress: (m) => progress.push(m),
    progressEveryMs: 20,
  });
  // progress while a step runs: ingested events per POST, then windows done while the hourly job works
  t.regex(progress[0] ?? '', /^ingested \d+ events \(\d+ new, 0 duplicates, 0 rejected\)$/);
  const hourly = progress.filter((m) => /^aggregate-hourly: \d+ of \d+ hour windows done/.test(m));
  t.true(hourly.length > 0, progress.join('\n'));
  const events = [...generateDemoEvents(options)];
  t.is(result.events, events.length);
  t.is(result.stored, events.length);
  t.is(result.rejected, 0);
  t.deepEqual(
    result.aggregations.map((a) => [a.fn, a.status]),
    [
      ['aggregate-hourly', 200],
      ['aggregate-daily', 200],
      ['aggregate-weekly', 200],
      ['aggregate-monthly', 200],
    ],
  );
  // every closed UTC day of the stream is in the table with exactly the requests generated for it
  t.true(result.table.length >= 1);
  for (const row of result.table) {
    const expected = events.filter(
      (e) => e.event_type === 'llm_request' && e.timestamp.startsWith(row.day),
    ).length;
    t.is(row.requests, expected, row.day);
  }
  // The README's query: the days per model, each day's count of a model what was generated for it.
  const perModel = (await (
    await fetch(`${rt.apiUrl}/aggregates?level=day&event_type=llm_request&metric=latency_ms&dimension=model`)
  ).json()) as AggregatesPage;
  const days = result.table.map((row) => row.day);
  t.deepEqual(
    [...new Set(perModel.rows.map((r) => r.dimension_value))].sort(),
    DEMO_MODELS.map((m) => m.model).sort(),
  );
  for (const day of days) {
    for (const { model } of DEMO_MODELS) {
      const row = perModel.rows.find((r) => r.timestamp.startsWith(day) && r.dimension_value === model);
      const expected = events.filter(
        (e) => e.event_type === 'llm_request' && e.data.model === model && e.timestamp.startsWith(day),
      ).length;
      t.is(row?.count ?? 0, expected, `${day} ${model}`);
    }
  }
  // api-3 reports no cost: its requests' cost is inferred from the demo prices and shown apart.
  const usage = (await (
    await fetch(`${rt.apiUrl}/aggregates/daily-usage?from=${days[0]}&to=${nextDay(days.at(-1)!)}`)
  ).json()) as DailyUsage;
  // (per day, not "every day has some": the first day is whatever is left of it, minutes late in the evening)
  let unmeteredRequests = 0;
  for (const day of usage.days) {
    const requests = events.filter((e) => e.event_type === 'llm_request' && e.timestamp.startsWith(day.date));
    const unmetered = requests.filter((e) => e.source === DEMO_UNMETERED_SOURCE);
    const reported = requests.reduce((sum, e) => sum + Number(e.data.cost_usd ?? 0), 0);
    unmeteredRequests += unmetered.length;
    t.is(day.requests, requests.length, day.date);
    t.true(
      unmetered.every((e) => e.data.cost_usd === undefined),
      day.date,
    );
    t.is(day.inferred_requests, unmetered.length, day.date);
    t.is(day.cost_inferred_usd > 0, unmetered.length > 0, day.date);
    t.true(Math.abs(day.cost_reported_usd - reported) < 1e-9, `${day.date} reported cost`);
  }
  t.true(unmeteredRequests > 0, `${DEMO_UNMETERED_SOURCE} sends requests without a cost`);
  // the demo's capacity analysis: two days are too short a history to forecast, and the answer says so
  t.is(result.capacity?.status, 200);
  const capacity = (await (await fetch(`${rt.apiUrl}/capacity/analysis?points=false`)).json()) as {
    analyses: Array<{ resource: string; series: string; status: string; reason: string }>;
  };
  t.deepEqual(
    [...new Set(capacity.analyses.map((a) => a.resource))],
    ['cpu', 'disk', 'gpu', 'memory', 'requests'],
  );
  for (const a of capacity.analyses) {
    t.is(a.status, 'insufficient_history', `${a.resource}/${a.series}`);
    t.regex(a.reason, /^insufficient history: \d+ hours, need 72$/);
  }
  // running the demo again stores nothing new (stable ids)
  const again = await runDemo(rt.gatewayUrl, rt.db, options);
  t.is(again.stored, 0);
  t.is(again.duplicates, events.length);

  const health = await fetch(`${rt.apiUrl}/health`);
  t.is(health.status, 200);
  t.like(await health.json(), {
    status: 'healthy',
    service: 'batch-processing-api',
    checks: { database: { status: 'healthy' } },
  });
  const status = (await (await fetch(`${rt.apiUrl}/aggregation/status`)).json()) as {
    periods: Record<string, { status: string; freshnessSeconds: number | null }>;
  };
  t.is(status.periods.hourly?.status, 'completed');
  t.true((status.periods.hourly?.freshnessSeconds ?? -1) >= 0);
  const runs = (await (await fetch(`${rt.apiUrl}/runs?job=aggregate-hour&limit=3`)).json()) as {
    runs: Array<{ job: string }>;
  };
  t.true(runs.runs.length > 0);
  t.true(runs.runs.every((r) => r.job === 'aggregate-hour'));
  const metrics = await (await fetch(`${rt.apiUrl}/metrics`)).text();
  t.regex(metrics, /gateway_function_invocation_total\{function_name="ingest",code="200"\}/);
  t.regex(metrics, /hxp_aggregation_state\{period="hourly",state="completed"\} 1/);
  t.regex(metrics, /^data_aggregation_hourly_status 1$/m);
  // Without a Pushgateway the runtime serves each function's own registry, labelled as a push would be.
  const fromMetricsPort = await fetch(`${rt.metricsUrl}/metrics`);
  t.regex(fromMetricsPort.headers.get('content-type') ?? '', /^text\/plain/);
  const scraped = await fromMetricsPort.text();
  const stored = new RegExp(
    `hxp_ingest_events_total\\{via="http",outcome="stored",job="ingest",instance="demo-host"\\} ${events.length}\\b`,
  );
  t.regex(scraped, stored);
  t.regex(
    scraped,
    /hxp_ingest_events_total\{via="http",outcome="duplicate",job="ingest",instance="demo-host"\}/,
  );
  t.regex(scraped, /batch_processing_completion_rate\{job="aggregate-hourly",instance="demo-host"\} 1/);
  t.regex(
    scraped,
    /batch_processing_runs_total\{result="succeeded",job="aggregate-daily",instance="demo-host"\} 2$/m,
  );
  t.regex(scraped, /hxp_function_invocations_total\{code="200",job="status",instance="demo-host"\}/);
  t.regex(scraped, /^data_aggregation_hourly_status 1$/m);
  t.is((scraped.match(/^# TYPE batch_processing_success_rate /gm) ?? []).length, 1, 'one family per name');
  t.is((await fetch(`${rt.metricsUrl}/other`)).status, 404);
  // the retention sweep answers the original path (a dry run plans: two fresh days are past nothing)
  const plan = await fetch(`${rt.apiUrl}/retention/cleanup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"dry_run": true}',
  });
  t.is(plan.status, 200);
  t.like(await plan.json(), { status: 'planned', dryRun: true, units: [] });
  t.is((await fetch(`${rt.apiUrl}/retention/status`)).status, 200);

  // the original's report commands on port 9101: generate (202), status until stored, list, download
  const generated = await fetch(`${rt.apiUrl}/reports/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ report_type: 'daily_summary', format: 'json' }),
  });
  t.is(generated.status, 202);
  const { id } = (await generated.json()) as { id: number };
  let report: { status: string; period: string; download_url: string | null } | undefined;
  for (let i = 0; i < 120 && report?.status !== 'stored'; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 500));
    report = (await (await fetch(`${rt.apiUrl}/reports/status?id=${id}`)).json()) as typeof report;
  }
  t.is(report?.status, 'stored', JSON.stringify(report));
  const listed = (await (await fetch(`${rt.apiUrl}/reports/list`)).json()) as {
    reports: Array<{ id: number }>;
  };
  t.true(listed.reports.some((r) => r.id === id));
  const reportStatus = (await (await fetch(`${rt.apiUrl}/reports/status`)).json()) as {
    types: Record<string, { last_success: { id: number } | null }>;
  };
  t.is(reportStatus.types.daily_summary?.last_success?.id, id);
  const file = (await (await fetch(`${rt.apiUrl}${report!.download_url}`)).json()) as {
    period: { label: string };
    data: { headline: { requests: { value: number } } };
  };
  const day = result.table.find((row) => row.day === file.period.label);
  t.truthy(day, `the demo covers ${file.period.label}`);
  t.is(file.data.headline.requests.value, day!.requests, 'the report counts what the demo generated');
});
