// Secrets never leak (issue 15): the runtime with every secret configured — the database password (a private
// cluster with SCRAM auth, so the password is real and unique), the S3 keys, the SMTP password, the API token
// and the gateway's basic-auth password — drives every function and every documented route, with good
// requests, bad ones, wrong credentials and a database outage in between; then every log line (runtime and
// function processes) and every answer (status, headers, body) is searched for each secret, raw and encoded.
// Authorization and Cookie headers show in request logs as [Redacted].
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntime, type Runtime } from '../../runtime/runtime.ts';
import { apiOperations, wirePath } from '../../shared/openapi/index.ts';
import { ownS3Prefix } from '../helpers/s3-prefix.ts';
import { requireService, serviceTest } from '../helpers/services.ts';
import {
  privatePostgresAvailable,
  startPrivatePostgres,
  type PrivatePostgres,
} from '../helpers/private-postgres.ts';
import { recordingLog } from './runtime-fixtures.ts';

const servicesTest = serviceTest('postgres', 's3', 'smtp');

servicesTest('no secret shows in any log line or answer, whatever the functions are asked', async (t) => {
  t.timeout(600_000, 'every function process and route on a shared 2-core machine');
  t.true(privatePostgresAvailable(), 'PostgreSQL binaries (bash scripts/services install)');
  const s3 = requireService('s3')!;
  const smtp = new URL(requireService('smtp')!.url);
  const pg: PrivatePostgres = await startPrivatePostgres();
  t.teardown(() => pg.destroy());
  const dir = mkdtempSync(join(tmpdir(), 'hxp-secrets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
  const apiToken = secret('tok');
  const smtpPassword = secret('smtp');
  const basicPassword = secret('basic');
  const secrets: Record<string, string> = {
    'database password': pg.password,
    'S3 access key id': s3.accessKeyId,
    'S3 secret access key': s3.secretAccessKey,
    'SMTP password': smtpPassword,
    'API token': apiToken,
    'basic-auth password': basicPassword,
  };
  const basic = `Basic ${Buffer.from(`admin:${basicPassword}`).toString('base64')}`;
  const needles = Object.entries(secrets).flatMap(([what, value]) => [
    [what, value],
    [`${what} (URL-encoded)`, encodeURIComponent(value)],
    [`${what} (base64)`, Buffer.from(value).toString('base64')],
  ]);
  needles.push(['basic-auth header', basic.slice('Basic '.length)]);

  const log = recordingLog();
  const output: string[] = [];
  const rt: Runtime = await startRuntime({
    gatewayPort: 0,
    apiPort: 0,
    cronTimers: false,
    env: {
      ...process.env,
      DATABASE_URL: pg.url,
      DATABASE_PASSWORD: pg.password,
      KAFKA_BOOTSTRAP_SERVERS: '',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_PREFIX: ownS3Prefix(t, 'secrets-never-leak'),
      S3_REGION: s3.region,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      SMTP_HOST: smtp.hostname,
      SMTP_PORT: smtp.port,
      SMTP_USER: 'reports',
      SMTP_PASSWORD: smtpPassword,
      BATCH_PROCESSING_REPORT_DISTRIBUTION: 'email,s3',
      BATCH_PROCESSING_REPORT_RECIPIENTS: 'ops@example.com',
      BATCH_PROCESSING_API_TOKEN: apiToken,
      BATCH_PROCESSING_ARCHIVAL_PATH: join(dir, 'archive'),
      BASIC_AUTH_USER: 'admin',
      BASIC_AUTH_PASSWORD: basicPassword,
      LOG_LEVEL: 'debug',
    },
    log,
    output: (fn, line) => void output.push(`[${fn}] ${line}`),
  });
  t.teardown(() => rt.stop());

  const answers: string[] = [];
  async function call(url: string, init: RequestInit = {}): Promise<number> {
    const res = await fetch(url, init);
    const body = await res.text();
    answers.push(
      `${init.method ?? 'GET'} ${url} → ${res.status} ${JSON.stringify([...res.headers])} ${body}`,
    );
    return res.status;
  }
  const good = { authorization: `Bearer ${apiToken}` };
  const variants: Array<Record<string, string>> = [
    good,
    { authorization: 'Bearer not-the-token', cookie: `session=${randomBytes(6).toString('hex')}` },
    {},
    { authorization: basic },
  ];
  const now = Date.now();
  const events = Array.from({ length: 20 }, (_, i) => ({
    event_type: 'llm_request',
    id: `leak-${i}`,
    timestamp: new Date(now - 3 * 3_600_000 + i * 60_000).toISOString(),
    data: { model: 'm', latency_ms: 100 + i, cost_usd: 0.01 },
  }));

  async function driveEverything(round: string): Promise<void> {
    await call(`${rt.gatewayUrl}/function/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic },
      body: JSON.stringify([...events, { event_type: 'x', data: { n: 'NaN' } }, '{"bad"']),
    });
    for (const fn of rt.supervisor.all().map((f) => f.spec.name)) {
      for (const headers of variants) {
        await call(`${rt.gatewayUrl}/function/${fn}`, {
          method: 'POST',
          headers: { ...headers, 'x-connector': 'cron-connector' },
        });
        await call(`${rt.gatewayUrl}/function/${fn}`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: '{"from":"not a date"}',
        });
      }
    }
    for (const op of apiOperations) {
      for (const example of op.examples ?? [{}]) {
        const path = wirePath(op).replace(/\{(\w+)\}/g, (_, name: string) =>
          encodeURIComponent(example.params?.[name] ?? '1'),
        );
        const search = example.query ? `?${new URLSearchParams(example.query)}` : '';
        const base = op.served === 'api' ? rt.apiUrl : rt.gatewayUrl;
        for (const headers of variants) {
          const init: RequestInit = {
            method: op.method.toUpperCase(),
            headers: { ...example.headers, ...headers },
          };
          if (example.body !== undefined) {
            init.body = JSON.stringify(example.body);
            (init.headers as Record<string, string>)['content-type'] = 'application/json';
          }
          await call(`${base}${path}${search}`, init);
        }
      }
    }
    for (const path of ['/system/functions', '/system/info', '/system/function/ingest']) {
      await call(`${rt.gatewayUrl}${path}`);
      await call(`${rt.gatewayUrl}${path}`, { headers: { authorization: basic } });
    }
    await call(`${rt.apiUrl}/metrics`);
    t.log(`${round}: ${answers.length} answers so far`);
  }

  await driveEverything('services up');
  // A report e-mailed and stored in S3, so the SMTP and S3 credentials are used, not only configured.
  await call(`${rt.apiUrl}/reports/generate`, {
    method: 'POST',
    headers: { ...good, 'content-type': 'application/json' },
    body: JSON.stringify({ report_type: 'daily_summary', format: 'csv', wait: true }),
  });
  // The database gone: every error path that could print a connection string runs.
  await pg.stop('fast');
  const before = answers.length;
  await driveEverything('database down');
  const down = answers.slice(before).filter((a) => / → 5\d\d /.test(a));
  t.true(down.length > 10, `the outage answered 5xx (${down.length}), so its error paths ran`);
  await pg.start();
  await driveEverything('database back');

  const logs = [...log.lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.obj)}`), ...output];
  t.true(logs.length > 100, `${logs.length} log lines`);
  const leaks: string[] = [];
  for (const [what, value] of needles) {
    for (const line of logs) if (line.includes(value!)) leaks.push(`log: ${what} in ${line.slice(0, 300)}`);
    for (const answer of answers)
      if (answer.includes(value!)) leaks.push(`answer: ${what} in ${answer.slice(0, 300)}`);
  }
  t.deepEqual(leaks.slice(0, 10), [], `${leaks.length} leaks`);

  // Request logs censor the credentials a caller sent.
  const errorLines = output.filter((l) => l.includes('"function error"') && l.includes('"headers"'));
  t.true(
    errorLines.some((l) => l.includes('"authorization":"[Redacted]"')),
    'Authorization is censored',
  );
  t.true(
    errorLines.some((l) => l.includes('"cookie":"[Redacted]"')),
    'Cookie is censored',
  );
  t.false(
    output.some((l) => /"authorization":"(Bearer|Basic) /.test(l)),
    'no Authorization value in any log line',
  );
});
