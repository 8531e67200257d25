// The original API's retention paths on port 9101, served by the retention-sweep function in its own
// process: with no services (embedded PGlite, the local archive folder) POST /retention/cleanup archives
// and drops what is past retention and POST /retention/restore brings a day back; with PostgreSQL and S3
// the bundled function does the same on a cron tick and over HTTP.
import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedRuntimeOptions, startRuntime } from '../../runtime/runtime.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import test from 'ava';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { DAY, loadDemoDays, rawRowsText, s3Target } from '../fixtures/retention.ts';
import { recordingLog, tempStack } from './runtime-fixtures.ts';
import { bundleInto, functionEnv, isListening, ROOT, run, tempDir } from './template-helpers.ts';

const TOKEN = 'retention-e2e-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const jobOptions = {
  timeZone: 'UTC',
  weekStart: 'monday' as const,
  retries: 3,
  retryDelayMs: 1,
  timeoutMs: 600_000,
};

function spawnAsync(
  command: string,
  args: string[],
  options: SpawnOptions,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Three days of events ending four days ago: past a 2-day raw retention. */
function oldDays(): { end: Date; days: string[] } {
  const end = new Date(Math.floor(Date.now() / DAY) * DAY - 3 * DAY);
  const days = [3, 2, 1].map((n) => new Date(end.getTime() - n * DAY).toISOString().slice(0, 10));
  return { end, days };
}

test('no services: curl -X POST :9101/retention/cleanup archives to the local folder and drops; restore brings a day back', async (t) => {
  t.timeout(240_000, 'a function process, three days of events and their aggregation on a shared machine');
  const stack = tempStack({
    'retention-sweep': { projectHandler: 'functions/retention-sweep' },
    status: { projectHandler: 'functions/status' },
  });
  t.teardown(() => stack.cleanup());
  const archive = join(stack.dir, 'archive');
  const rt = await startRuntime(
    isolatedRuntimeOptions(
      stack.dataDir,
      recordingLog(),
      {
        S3_BUCKET: '',
        S3_ENDPOINT: '',
        LOG_LEVEL: 'warn',
        BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '2',
        BATCH_PROCESSING_ARCHIVAL_PATH: archive,
        BATCH_PROCESSING_API_TOKEN: TOKEN,
      },
      { stackFile: stack.stackFile },
    ),
  );
  t.teardown(() => rt.stop());
  t.is(rt.database.mode, 'embedded');
  const { end, days } = oldDays();
  await loadDemoDays(rt.db, { days: 3, end, requestsPerHour: 2 });
  await runAggregation({ db: rt.db, options: jobOptions }, { level: 'hour', trigger: 'manual' });
  const before = await rawRowsText(rt.db, new Date(`${days[0]}T00:00:00Z`), end);

  const refused = await fetch(`${rt.apiUrl}/retention/cleanup`, { method: 'POST' });
  t.is(refused.status, 401);
  t.is(
    (await fetch(`${rt.apiUrl}/retention/cleanup`, { method: 'POST', body: '{"dry_run":false}' })).status,
    401,
  );
  // the plan only reads: open like the other reads
  const plan = await fetch(`${rt.apiUrl}/retention/cleanup`, { method: 'POST', body: '{"dry_run":true}' });
  t.is(plan.status, 200);
  t.like(await plan.json(), { status: 'planned', dryRun: true });
  const bad = await fetch(`${rt.apiUrl}/retention/cleanup`, {
    method: 'POST',
    headers: auth,
    body: '{"dry_run":"yes"}',
  });
  t.is(bad.status, 400);
  t.like(await bad.json(), {
    error: {
      code: 'REQUEST_INVALID',
      details: [{ path: 'dry_run', message: '"dry_run" must be true or false' }],
    },
  });

  const cleanup = await fetch(`${rt.apiUrl}/retention/cleanup`, { method: 'POST', headers: auth });
  const summary = (await cleanup.json()) as {
    status: string;
    units: { kind: string; unit: string; outcome: string }[];
  };
  t.is(cleanup.status, 200, JSON.stringify(summary));
  t.deepEqual(
    summary.units.filter((u) => u.kind === 'raw').map((u) => [u.unit, u.outcome]),
    days.map((d) => [d, 'done']),
  );
  for (const day of days) {
    t.true(existsSync(join(archive, 'raw', `date=${day}`, 'manifest.json')), day);
    t.true(
      readdirSync(join(archive, 'raw', `date=${day}`)).some((f) => f.endsWith('.parquet')),
      day,
    );
  }
  t.deepEqual(await rawRowsText(rt.db, new Date(`${days[0]}T00:00:00Z`), end), []);

  const status = (await (await fetch(`${rt.apiUrl}/retention/status`)).json()) as {
    archived: { raw: { from: string; to: string; units: number }[] };
    lastSweep: { status: string };
  };
  t.deepEqual(
    status.archived.raw.map((r) => [r.from, r.to, r.units]),
    [[days[0], days[2], 3]],
  );
  t.is(status.lastSweep.status, 'succeeded');
  // the sweep's run metrics (its process, collected by the runtime) and the state ones (the status function)
  const metrics = await (await fetch(`${rt.apiUrl}/metrics`)).text();
  t.regex(
    metrics,
    new RegExp(
      `retention_archived_rows_total\\{kind="raw",job="retention-sweep",[^}]*\\} ${before.length}\\b`,
    ),
  );
  t.regex(metrics, /retention_dropped_partitions_total\{job="retention-sweep",[^}]*\} 3\b/);
  t.regex(metrics, /batch_processing_success_rate\{job="retention-sweep",[^}]*\} 1\b/);
  t.regex(metrics, /data_retention_storage_usage\{store="archive"\} [0-9.e-]+/);
  t.regex(metrics, /retention_last_success_timestamp_seconds \d+/);

  // npm run restore while the runtime holds the embedded database: the CLI asks the runtime to do it (run
  // without blocking: the runtime answering it lives in this process)
  const cli = await spawnAsync(
    process.execPath,
    ['--import', 'tsx', 'scripts/restore.ts', '--from', days[2]!, '--data-dir', stack.dir],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: '',
        BATCH_PROCESSING_API_PORT: new URL(rt.apiUrl).port,
        BATCH_PROCESSING_API_TOKEN: TOKEN,
      },
    },
  );
  t.is(cli.status, 0, cli.stderr);
  t.regex(cli.stderr, /the embedded database is open in the runtime \(pid \d+\); asking it to restore/);
  t.regex(cli.stdout, new RegExp(`${days[2]}  restored  \\d+ rows from 1 file\\(s\\), kept until`));

  const restore = await fetch(`${rt.apiUrl}/retention/restore`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ from: days[0], to: days[2] }),
  });
  t.is(restore.status, 200);
  const restored = (await restore.json()) as { status: string; days: { outcome: string }[] };
  t.is(restored.status, 'succeeded');
  t.deepEqual(
    restored.days.map((d) => d.outcome),
    ['restored', 'restored', 'live'],
  );
  t.deepEqual(await rawRowsText(rt.db, new Date(`${days[0]}T00:00:00Z`), end), before);

  // the cron-connector's tick carries no token: it runs the scheduled sweep, which keeps the restored days
  const tick = await fetch(`${rt.gatewayUrl}/function/retention-sweep`, {
    method: 'POST',
    headers: { 'X-Connector': 'cron-connector', 'X-Topic': 'cron-function' },
  });
  t.is(tick.status, 200);
  const ticked = (await tick.json()) as { units: { kind: string; outcome: string; reason?: string }[] };
  t.deepEqual(
    ticked.units.filter((u) => u.kind === 'raw').map((u) => u.outcome),
    ['kept', 'kept', 'kept'],
  );
  t.deepEqual(await rawRowsText(rt.db, new Date(`${days[0]}T00:00:00Z`), end), before);
});

serviceTest('postgres', 's3')(
  'with PostgreSQL and S3: the bundled function archives on its cron tick and restores over HTTP',
  async (t) => {
    t.timeout(240_000, 'bundling and a function process on a shared machine');
    const { url: databaseUrl, db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const { store, settings } = s3Target(t);
    const { end, days } = oldDays();
    await loadDemoDays(db, { days: 3, end, requestsPerHour: 2 });
    await runAggregation({ db, options: jobOptions }, { level: 'hour', trigger: 'manual' });
    const before = await rawRowsText(db, new Date(`${days[0]}T00:00:00Z`), end);
    const dir = await tempDir(t, 'fn-retention');
    const bundle = await bundleInto(dir, 'retention-sweep');
    const fn = run(
      t,
      process.execPath,
      [join(bundle, 'index.js')],
      functionEnv({
        PORT: '0',
        DATABASE_URL: databaseUrl,
        DATABASE_POOL_SIZE: '2',
        S3_ENDPOINT: settings.endpoint ?? '',
        S3_BUCKET: settings.bucket,
        S3_PREFIX: settings.prefix ?? '',
        S3_ACCESS_KEY_ID: settings.accessKeyId ?? '',
        S3_SECRET_ACCESS_KEY: settings.secretAccessKey ?? '',
        BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '2',
      }),
      bundle,
    );
    const listening = await fn.waitFor(isListening, 60_000);
    const url = `http://127.0.0.1:${String(listening.port)}`;

    const tick = await fetch(url, {
      method: 'POST',
      headers: { 'X-Connector': 'cron-connector', 'X-Topic': 'cron-function' },
    });
    const summary = (await tick.json()) as { status: string; totals: { droppedPartitions: number } };
    t.is(tick.status, 200, JSON.stringify(summary));
    t.is(summary.totals.droppedPartitions, 3);
    const run_ = await db.query<{ trigger: string; status: string }>(
      `SELECT trigger, status FROM runs WHERE job = 'retention-sweep' ORDER BY id DESC LIMIT 1`,
    );
    t.deepEqual(run_.rows[0], { trigger: 'cron', status: 'succeeded' });
    t.deepEqual(
      (await store.list('raw/')).filter((o) => o.key.endsWith('manifest.json')).map((o) => o.key),
      days.map((d) => `raw/date=${d}/manifest.json`),
    );
    const restore = await fetch(`${url}/retention/restore`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: days[1] }),
    });
    t.is(restore.status, 200);
    t.deepEqual(
      await rawRowsText(db, new Date(`${days[1]}T00:00:00Z`), new Date(`${days[2]}T00:00:00Z`)),
      before.filter((r) => r.startsWith(days[1]!)),
    );
  },
);
