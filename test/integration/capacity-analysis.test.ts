// analyze-capacity on real PostgreSQL and on PGlite: hourly aggregates in, analyses and forecast points
// stored in one run, read back typed; statistics equal to SQL over the same aggregates; once-a-day catch-up;
// capacity.alert; settings; the routes of the function (GET computes a first analysis, POST needs the token).
import type { QueryResultRow } from 'pg';
import { Registry } from 'prom-client';
import {
  capacityGaugeRows,
  handleCapacityRequest,
  latestCapacityAnalysis,
  runCapacityAnalysis,
  setCapacityGauges,
  type CapacityApiDeps,
} from '../../shared/capacity/index.ts';
import { loadConfig } from '../../shared/config/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { isBatchError } from '../../shared/errors/index.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import { HOUR, hostRows, storeHourlyRows } from '../fixtures/capacity-series.ts';
import { bothBackends, deps as aggregationDeps, storeTestEvents } from './aggregate-fixtures.ts';

const END = new Date('2026-12-01T00:00:00Z');

function capacityDeps(
  db: Database,
  env: Record<string, string> = {},
  extra: Partial<CapacityApiDeps> = {},
): CapacityApiDeps {
  const config = loadConfig({
    env: {
      BATCH_PROCESSING_CAPACITY_ANALYSES: 'cpu,gpu',
      BATCH_PROCESSING_FORECAST_HORIZON_DAYS: '7',
      ...env,
    },
  });
  return {
    db,
    config,
    apiToken: config.api.token,
    clock: () => new Date(END.getTime() + 10 * 60_000),
    ...extra,
  };
}

async function seed(db: Database, hours = 15 * 24): Promise<void> {
  await storeHourlyRows(
    db,
    hostRows(END, hours, [
      { host: 'node-1', signal: { level: 66, growth: 6, daily: 12, weekend: 4, noise: 2 } },
      { host: 'node-2', signal: { level: 62, growth: 6, daily: 12, weekend: 4, noise: 2 } },
    ]),
    'system_metric',
    'gpu_usage',
  );
  await storeHourlyRows(
    db,
    hostRows(
      END,
      hours,
      [
        { host: 'node-1', signal: { level: 30, daily: 5, noise: 1 } },
        { host: 'node-2', signal: { level: 30, daily: 5, noise: 1 }, stopsHoursBeforeEnd: 40 },
      ],
      11,
    ),
    'system_metric',
    'cpu_usage',
  );
}

bothBackends(
  'a run stores every series, and latestCapacityAnalysis reads it back typed, points and all',
  async (t, db) => {
    await seed(db);
    const published: Array<{ topic: string; key: string; value: Record<string, unknown> }> = [];
    const deps = capacityDeps(
      db,
      {},
      {
        publish: async (topic, key, value) =>
          void published.push({ topic, key, value: value as Record<string, unknown> }),
      },
    );
    const run = await runCapacityAnalysis(deps, { trigger: 'manual', force: false });
    t.is(run.status, 'succeeded');
    t.is(run.dataEnd, END.toISOString());
    t.is(run.analyses, 6);
    const answer = (await latestCapacityAnalysis(db))!;
    t.is(answer.run_id, run.runId!);
    t.is(answer.data_end, END.toISOString());
    t.deepEqual(
      answer.analyses.map((a) => `${a.resource}/${a.series}/${a.status}`),
      ['cpu/fleet/ok', 'cpu/node-1/ok', 'cpu/node-2/stale', 'gpu/fleet/ok', 'gpu/node-1/ok', 'gpu/node-2/ok'],
    );
    const gpu = answer.analyses.find((a) => a.resource === 'gpu' && a.series === 'fleet')!;
    t.is(gpu.forecast!.points!.length, 7 * 24);
    t.is(gpu.forecast!.points![0]!.timestamp, END.toISOString());
    t.deepEqual(gpu.forecast!.periods, [24, 168]);
    t.true(gpu.alert, 'growing 6 %/week from a ~76 % peak crosses 80 % within the 7-day horizon');
    t.is(gpu.hosts, 2);
    const alerts = published.filter((p) => p.value.type === 'capacity.alert');
    t.true(alerts.length >= 1);
    t.true(alerts.every((a) => a.topic === 'hxp.batch.events'));
    t.like(alerts.find((a) => a.key === 'gpu:fleet')?.value, {
      type: 'capacity.alert',
      resource: 'gpu',
      series: 'fleet',
      threshold: 80,
      runId: run.runId,
      crossingAt: gpu.crossing_at,
    });
    const cpu = answer.analyses.find((a) => a.resource === 'cpu' && a.series === 'fleet')!;
    t.is(cpu.hosts, 1, 'node-2 stopped reporting');
    // ?points=false leaves the points out, in the store's read as in the API
    const light = (await latestCapacityAnalysis(db, { resource: 'gpu', series: 'node-1', points: false }))!;
    t.is(light.analyses.length, 1);
    t.is(light.analyses[0]!.forecast!.points, undefined);
    // the gauges of the newest run
    const registry = new Registry();
    setCapacityGauges(registry, await capacityGaugeRows(db));
    const text = await registry.metrics();
    t.regex(
      text,
      new RegExp(
        `capacity_forecast_days_to_threshold\\{resource="gpu",series="fleet"\\} ${gpu.days_to_threshold!.point}`,
      ),
    );
    t.regex(text, /capacity_forecast_days_to_threshold\{resource="cpu",series="node-1"\} \+Inf/);
    t.regex(text, /capacity_utilization_ratio\{resource="cpu",series="node-2"\} 0\.\d+/);
  },
);

bothBackends('utilisation statistics equal SQL over the same hourly aggregates', async (t, db) => {
  await seed(db);
  await runCapacityAnalysis(capacityDeps(db), { trigger: 'manual', force: true });
  const answer = (await latestCapacityAnalysis(db, { points: false }))!;
  const { rows } = await db.query<{ series: string; mean: number; p95: number; max: number; hours: number }>(
    `SELECT CASE WHEN dimension = 'all' THEN 'fleet' ELSE dimension_value END AS series,
            avg(avg) AS mean, percentile_cont(0.95) WITHIN GROUP (ORDER BY avg) AS p95, max(avg) AS max,
            count(*)::int AS hours
       FROM hourly_aggregations
      WHERE event_type = 'system_metric' AND metric = 'gpu_usage' AND dimension IN ('all', 'source')
      GROUP BY 1 ORDER BY 1`,
  );
  t.is(rows.length, 3);
  for (const row of rows) {
    const a = answer.analyses.find((x) => x.resource === 'gpu' && x.series === row.series)!;
    t.is(a.history.observed_hours, row.hours);
    t.true(
      Math.abs(a.utilization.mean - row.mean) < 1e-3,
      `${row.series} mean ${a.utilization.mean} vs ${row.mean}`,
    );
    t.true(
      Math.abs(a.utilization.p95 - row.p95) < 1e-3,
      `${row.series} p95 ${a.utilization.p95} vs ${row.p95}`,
    );
    t.true(Math.abs(a.utilization.max - row.max) < 1e-3, `${row.series} max`);
  }
});

bothBackends(
  'scheduled runs analyse once a day; a forced run always; the lock answers already_running',
  async (t, db) => {
    await seed(db, 5 * 24);
    const deps = capacityDeps(db);
    t.is((await runCapacityAnalysis(deps, { trigger: 'cron', force: false })).status, 'succeeded');
    const again = await runCapacityAnalysis(deps, { trigger: 'kafka', force: false });
    t.is(again.status, 'skipped');
    t.regex(again.reason!, /already covers this day/);
    // the first hour of the next day is still the day already analysed up to its end; the day after is due
    await storeHourlyRows(
      db,
      [{ hour: END, dimension: 'all', dimensionValue: '*', value: 50 }],
      'system_metric',
      'gpu_usage',
    );
    t.is((await runCapacityAnalysis(deps, { trigger: 'cron', force: false })).status, 'skipped');
    const nextDay = new Date(END.getTime() + 24 * HOUR);
    await storeHourlyRows(
      db,
      [{ hour: nextDay, dimension: 'all', dimensionValue: '*', value: 50 }],
      'system_metric',
      'gpu_usage',
    );
    t.is((await runCapacityAnalysis(deps, { trigger: 'cron', force: false })).status, 'succeeded');
    t.is((await runCapacityAnalysis(deps, { trigger: 'http', force: true })).status, 'succeeded');
    const { rows } = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM runs WHERE job = 'analyze-capacity' GROUP BY 1 ORDER BY 1`,
    );
    t.deepEqual(rows, [
      { status: 'skipped', n: 2 },
      { status: 'succeeded', n: 3 },
    ]);
    await db.query(`INSERT INTO job_locks (job, locked_by, locked_at) VALUES ('analyze-capacity', 'other', now())
                  ON CONFLICT (job) DO UPDATE SET locked_by = 'other', locked_at = now()`);
    t.is((await runCapacityAnalysis(deps, { trigger: 'http', force: true })).status, 'already_running');
    const skipped = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM runs WHERE job = 'analyze-capacity' AND status = 'skipped'`,
    );
    t.is(skipped.rows[0]!.n, 3, 'the locked-out invocation is in the ledger too');
    const points = await db.query<{ runs: number }>(
      'SELECT count(DISTINCT run_id)::int AS runs FROM capacity_forecast_points',
    );
    t.is(points.rows[0]!.runs, 3, 'points of runs younger than the horizon are kept');
  },
);

bothBackends(
  'a run left running by a killed invocation is marked RUN_ABANDONED by the next one, a skipped tick too',
  async (t, db) => {
    await seed(db, 5 * 24);
    const deps = capacityDeps(db);
    t.is((await runCapacityAnalysis(deps, { trigger: 'cron', force: false })).status, 'succeeded');
    // a forced run killed mid-analysis: its run row says 'running', its lock was never released and is stale
    const { rows: killed } = await db.query<{ id: string }>(
      `INSERT INTO runs (job, trigger, status, started_at) VALUES ('analyze-capacity', 'http', 'running', now() - interval '1 day')
       RETURNING id`,
    );
    await db.query(`INSERT INTO job_locks (job, locked_by, locked_at) VALUES ('analyze-capacity', 'dead', now() - interval '1 day')
                    ON CONFLICT (job) DO UPDATE SET locked_by = 'dead', locked_at = now() - interval '1 day'`);
    // the day is analysed already: the next tick has nothing to do, and still expires the dead run
    const tick = await runCapacityAnalysis(deps, { trigger: 'cron', force: false });
    t.is(tick.status, 'skipped');
    const { rows } = await db.query<{ status: string; error_code: string | null; error: string | null }>(
      'SELECT status, error_code, error FROM runs WHERE id = $1',
      [killed[0]!.id],
    );
    t.like(rows[0], { status: 'failed', error_code: 'RUN_ABANDONED' });
    t.regex(rows[0]?.error ?? '', new RegExp(`expired by run ${tick.runId}$`));
  },
);

/** `db` on which another invocation takes the analyze-capacity lock over as stale when the run reads its first series. */
function takenOverWhileReading(db: Database): Database {
  let taken = false;
  return {
    embedded: db.embedded,
    query: async <R extends QueryResultRow>(text: string, values?: unknown[]) => {
      if (!taken && text.includes('FROM hourly_aggregations')) {
        taken = true;
        await db.query(
          `UPDATE job_locks SET locked_by = 'other-host:2:y', locked_at = clock_timestamp() WHERE job = 'analyze-capacity'`,
        );
      }
      return db.query<R>(text, values);
    },
    withClient: (fn) => db.withClient(fn),
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
}

bothBackends(
  'a run whose lock was taken over while it analysed stores nothing and fails with JOB_LOCK_LOST',
  async (t, db) => {
    await seed(db, 5 * 24);
    const deps = capacityDeps(takenOverWhileReading(db));
    const error = await t.throwsAsync(runCapacityAnalysis(deps, { trigger: 'http', force: true }));
    t.true(isBatchError(error, 'JOB_LOCK_LOST'), String(error));
    t.is(await latestCapacityAnalysis(db), undefined, 'the run stored its analyses beside the new holder');
    const { rows } = await db.query<{ status: string; error_code: string }>(
      `SELECT status, error_code FROM runs WHERE job = 'analyze-capacity'`,
    );
    t.deepEqual(rows, [{ status: 'failed', error_code: 'JOB_LOCK_LOST' }]);
    const lock = await db.query<{ locked_by: string }>(
      `SELECT locked_by FROM job_locks WHERE job = 'analyze-capacity'`,
    );
    t.is(lock.rows[0]?.locked_by, 'other-host:2:y', 'the new holder keeps the lock');
  },
);

bothBackends('settings: history days, forecasting off, capacity analysis off', async (t, db) => {
  await seed(db);
  await runCapacityAnalysis(
    capacityDeps(db, {
      BATCH_PROCESSING_CAPACITY_HISTORY_DAYS: '4',
      BATCH_PROCESSING_FORECASTING_ENABLED: 'false',
    }),
    {
      trigger: 'manual',
      force: true,
    },
  );
  const answer = (await latestCapacityAnalysis(db))!;
  t.false(answer.forecasting);
  const gpu = answer.analyses.find((a) => a.resource === 'gpu' && a.series === 'fleet')!;
  t.is(gpu.history.hours, 4 * 24, 'capacityAnalysis.historyDays bounds what is read');
  t.is(gpu.forecast, null);
  t.regex(gpu.recommendations[0]!.text, /peak in the last 7 days/);
  const { rows } = await db.query('SELECT 1 FROM capacity_forecast_points');
  t.is(rows.length, 0);
  const off = capacityDeps(db, { BATCH_PROCESSING_CAPACITY_ANALYSIS_ENABLED: 'false' });
  const error = await t.throwsAsync(runCapacityAnalysis(off, { trigger: 'cron', force: false }));
  t.true(isBatchError(error, 'CAPACITY_ANALYSIS_DISABLED'));
  const answered = await handleCapacityRequest(
    { method: 'GET', path: '/capacity/analysis', query: {}, headers: {}, body: '' },
    off,
  ).catch((e: unknown) => e);
  t.true(isBatchError(answered, 'CAPACITY_ANALYSIS_DISABLED'));
  t.is((answered as { status: number }).status, 409);
});

bothBackends(
  'the routes: GET before any run analyses first; POST needs the token; filters; events and cron ticks',
  async (t, db) => {
    await seed(db, 5 * 24);
    const deps = capacityDeps(db, { BATCH_PROCESSING_API_TOKEN: 'sekrit' });
    const call = (
      method: string,
      path: string,
      query: Record<string, string> = {},
      headers: Record<string, string> = {},
      body: unknown = '',
    ) => handleCapacityRequest({ method, path, query, headers, body }, deps);
    const first = await call('GET', '/capacity/analysis', { points: 'false' });
    t.is(first.status, 200);
    const body = first.body as {
      run_id: number;
      analyses: Array<{ resource: string; forecast: { points?: unknown } | null }>;
    };
    t.true(body.run_id > 0, 'a first analysis was made instead of an empty answer');
    t.true(body.analyses.every((a) => a.forecast === null || a.forecast.points === undefined));
    const filtered = await call('GET', '/capacity/analysis', { resource: 'gpu', series: 'node-1' });
    t.deepEqual(
      (filtered.body as { analyses: Array<{ series: string }> }).analyses.map((a) => a.series),
      ['node-1'],
    );
    const missing = await call('GET', '/capacity/analysis', { resource: 'gpu', series: 'nope' }).catch(
      (e: unknown) => e,
    );
    t.true(isBatchError(missing, 'NOT_FOUND'));
    t.regex((missing as Error).message, /series: fleet, node-1, node-2/);
    const bad = await call('GET', '/capacity/analysis', { resource: 'cpus' }).catch((e: unknown) => e);
    t.true(isBatchError(bad, 'REQUEST_INVALID'));
    t.regex((bad as Error).message, /^\?resource: resource must be one of cpu, memory/);
    const notAnalysed = await call('GET', '/capacity/analysis', { resource: 'disk' }).catch(
      (e: unknown) => e,
    );
    t.true(isBatchError(notAnalysed, 'NOT_FOUND'));

    const refused = await call('POST', '/capacity/analysis').catch((e: unknown) => e);
    t.true(isBatchError(refused, 'UNAUTHORIZED'));
    const withBody = await call(
      'POST',
      '/capacity/analysis',
      {},
      { authorization: 'Bearer sekrit' },
      {
        resource: 'gpu',
      },
    ).catch((e: unknown) => e);
    t.true(isBatchError(withBody, 'REQUEST_INVALID'), 'a body is refused, not ignored');
    t.regex((withBody as Error).message, /takes no body/);
    const posted = await call('POST', '/capacity/analysis', {}, { authorization: 'Bearer sekrit' });
    t.is(posted.status, 200);
    t.like(posted.body, { status: 'succeeded', data_end: END.toISOString(), analyses: 6 });
    t.true(
      isBatchError(await call('POST', '/').catch((e: unknown) => e), 'UNAUTHORIZED'),
      'a plain invocation is a forced run',
    );

    const tick = await call('POST', '/', {}, { 'x-connector': 'cron-connector' });
    t.like(tick.body, { status: 'skipped' });
    const kafka = { 'x-topic': 'hxp.batch.events', 'x-kafka-partition': '0' };
    t.like((await call('POST', '/', {}, kafka, JSON.stringify({ type: 'report.generated' }))).body, {
      status: 'ignored',
    });
    t.like((await call('POST', '/', {}, kafka, '{not json')).body, { status: 'ignored' });
    const event = {
      type: 'aggregation.completed',
      level: 'day',
      bucket: '2026-11-30T00:00:00Z',
      runId: 7,
      at: END.toISOString(),
    };
    t.like((await call('POST', '/', {}, kafka, JSON.stringify(event))).body, { status: 'skipped' });
    t.true(
      isBatchError(await call('DELETE', '/capacity/analysis').catch((e: unknown) => e), 'METHOD_NOT_ALLOWED'),
    );
  },
);

bothBackends('from raw events through the hourly aggregation to an analysis', async (t, db) => {
  // one sample per host every 20 minutes for 4 days, through the real hourly aggregation
  const events = [];
  for (let t0 = END.getTime() - 4 * 24 * HOUR; t0 < END.getTime(); t0 += 20 * 60_000) {
    const hour = new Date(t0).getUTCHours();
    for (const host of ['a', 'b']) {
      events.push({
        ts: new Date(t0),
        type: 'system_metric',
        source: host,
        metrics: { cpu_usage: 40 + 20 * Math.sin((hour / 24) * 2 * Math.PI) + (host === 'a' ? 5 : 0) },
      });
    }
  }
  await storeTestEvents(db, events);
  await runAggregation(aggregationDeps(db), { level: 'hour', trigger: 'manual', now: END });
  const run = await runCapacityAnalysis(capacityDeps(db, { BATCH_PROCESSING_CAPACITY_ANALYSES: 'cpu' }), {
    trigger: 'manual',
    force: true,
  });
  t.is(run.status, 'succeeded');
  t.deepEqual(run.withoutData, []);
  const answer = (await latestCapacityAnalysis(db, { points: false }))!;
  t.deepEqual(
    answer.analyses.map((a) => [a.series, a.status, a.history.observed_hours]),
    [
      ['fleet', 'ok', 96],
      ['a', 'ok', 96],
      ['b', 'ok', 96],
    ],
  );
  const fleet = answer.analyses[0]!;
  t.true(Math.abs(fleet.utilization.mean - 42.5) < 0.5, `fleet mean ${fleet.utilization.mean}`);
  t.is(fleet.hosts, 2);
  t.is(fleet.recommendations[0]!.action, 'hold');
});
