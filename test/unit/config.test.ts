// Defaults, sources and their precedence, freezing. Invalid values: config-invalid.test.ts; secrets:
// config-secrets.test.ts; docs: config-docs.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CronExpressionParser } from 'cron-parser';
import { loadConfig, parseConfig } from '../../shared/config/index.ts';

const noSecrets = join(tmpdir(), 'hxp-no-such-secrets-dir');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'hxp-config-'));
}

function yamlFile(text: string): string {
  const file = join(tempDir(), 'batch-processing-api.yaml');
  writeFileSync(file, text);
  return file;
}

function secretsDir(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), value);
  return dir;
}

test('by default every rollup fires each day, after the level below: a re-opened week or month waits a day, not a period', (t) => {
  const { cron } = loadConfig({ env: {}, secretsDir: noSecrets }).aggregation;
  const fires = (schedule: string): Date[] => {
    const parsed = CronExpressionParser.parse(schedule, {
      tz: 'UTC',
      currentDate: new Date('2026-12-01T12:00:00Z'),
    });
    return Array.from({ length: 40 }, () => parsed.next().toDate());
  };
  const daily = fires(cron.daily);
  const weekly = fires(cron.weekly);
  const monthly = fires(cron.monthly);
  for (let d = 0; d < 40; d++) {
    const day = daily[d]!.toISOString().slice(0, 10);
    t.is(weekly[d]!.toISOString().slice(0, 10), day, `the weekly rollup fires on ${day}`);
    t.is(monthly[d]!.toISOString().slice(0, 10), day, `the monthly rollup fires on ${day}`);
    t.true(daily[d]! < weekly[d]! && weekly[d]! < monthly[d]!, `${day}: daily, then weekly, then monthly`);
  }
});

test('defaults match the original service', (t) => {
  const config = loadConfig({ env: {}, secretsDir: noSecrets });
  t.is(config.api.port, 9101);
  t.is(config.api.token, undefined);
  t.false(config.api.ingestOpen);
  t.deepEqual(config.jobs, { timeoutSeconds: 3600, retries: 3, retryDelaySeconds: 300 });
  t.true(config.aggregation.enabled);
  t.deepEqual(config.aggregation.intervals, { hourly: true, daily: true, weekly: true, monthly: true });
  t.deepEqual(config.aggregation.cron, {
    hourly: '0 * * * *',
    daily: '5 0 * * *',
    weekly: '10 0 * * *',
    monthly: '15 0 * * *',
  });
  t.deepEqual(config.time, { zone: 'UTC', weekStart: 'monday' });
  t.deepEqual(config.retention, {
    rawDays: 30,
    aggregatedDays: 365,
    aggregatedLevelDays: {},
    reportsDays: 730,
    deadLetterDays: 90,
    runsDays: 90,
    restoredKeepDays: 7,
    cron: '30 0 * * *',
    quota: { databaseBytes: 100 * 2 ** 30, archiveBytes: 2 ** 40 },
    archival: { enabled: true, path: './.data/archive' },
  });
  t.deepEqual(config.reports.formats, ['json', 'csv', 'pdf', 'docx']);
  t.deepEqual(config.reports.distribution, ['s3']);
  t.deepEqual(config.reports.email.recipients, []);
  t.true(config.capacityAnalysis.forecasting.enabled);
  t.deepEqual(config.ingestion, {
    maxEventBytes: 65536,
    maxFields: 256,
    maxFutureSkewSeconds: 300,
    dimensionKeys: ['model'],
  });
  t.is(config.kafka.bootstrapServers, undefined);
  t.is(config.kafka.consumerGroup, 'hxp-batch-processing');
  t.is(config.kafka.consumption, 'pull');
  t.deepEqual(config.kafka.topics, {
    raw: ['hxp.events.raw'],
    events: 'hxp.batch.events',
    dlq: 'hxp.batch.dlq',
    create: true,
    partitions: 4,
    replicationFactor: 1,
  });
  t.is(config.database.url, undefined);
  t.is(config.openfaas.gatewayUrl, 'http://127.0.0.1:8080');
  t.is(config.openfaas.gatewayPort, 8080);
  t.is(config.log.level, 'info');
  t.is(config.s3.endpoint, undefined);
  t.is(config.s3.bucket, undefined);
});

test('environment strings are coerced: booleans, numbers, durations, sizes, lists, enums', (t) => {
  const config = loadConfig({
    secretsDir: noSecrets,
    env: {
      BATCH_PROCESSING_AGGREGATION_ENABLED: 'no',
      BATCH_PROCESSING_WEEKLY_ENABLED: '0',
      BATCH_PROCESSING_ARCHIVAL_ENABLED: 'FALSE',
      BATCH_PROCESSING_FORECASTING_ENABLED: 'yes',
      BATCH_PROCESSING_API_PORT: '9200',
      BATCH_PROCESSING_TIMEOUT: '1h',
      BATCH_PROCESSING_RETRY_DELAY: '5m',
      BATCH_PROCESSING_MAX_FUTURE_SKEW: '300s',
      KAFKA_SESSION_TIMEOUT_MS: '45s',
      KAFKA_CONSUMPTION: 'PUSH',
      BATCH_PROCESSING_INGEST_OPEN: 'true',
      BATCH_PROCESSING_MAX_EVENT_BYTES: '3GB',
      BATCH_PROCESSING_REPORT_FORMATS: ' csv , PDF,,csv ',
      KAFKA_BOOTSTRAP_SERVERS: 'kafka-1:9092,kafka-2:9092',
      KAFKA_RAW_TOPICS: 'a.raw,b.raw',
      BATCH_PROCESSING_WEEK_START: 'Sunday',
      BATCH_PROCESSING_TIMEZONE: 'Europe/Berlin',
      LOG_LEVEL: 'debug',
      BATCH_PROCESSING_HOURLY_CRON: '*/15  *  * * *',
    },
  });
  t.false(config.aggregation.enabled);
  t.false(config.aggregation.intervals.weekly);
  t.true(config.aggregation.intervals.daily);
  t.false(config.retention.archival.enabled);
  t.true(config.capacityAnalysis.forecasting.enabled);
  t.is(config.api.port, 9200);
  t.is(config.jobs.timeoutSeconds, 3600);
  t.is(config.jobs.retryDelaySeconds, 300);
  t.is(config.ingestion.maxFutureSkewSeconds, 300);
  t.is(config.kafka.sessionTimeoutMs, 45_000);
  t.is(config.kafka.consumption, 'push');
  t.true(config.api.ingestOpen);
  t.is(config.ingestion.maxEventBytes, 3_000_000_000);
  t.deepEqual(config.reports.formats, ['csv', 'pdf']);
  t.deepEqual(config.kafka.bootstrapServers, ['kafka-1:9092', 'kafka-2:9092']);
  t.deepEqual(config.kafka.topics.raw, ['a.raw', 'b.raw']);
  t.is(config.time.weekStart, 'sunday');
  t.is(config.time.zone, 'Europe/Berlin');
  t.is(config.log.level, 'debug');
  t.is(config.aggregation.cron.hourly, '*/15 * * * *');
});

test('sizes: 3Gi and 3GiB are IEC, 3GB is SI, a bare number is bytes', (t) => {
  const bytes = (value: string) =>
    loadConfig({ env: { BATCH_PROCESSING_MAX_EVENT_BYTES: value }, secretsDir: noSecrets }).ingestion
      .maxEventBytes;
  t.is(bytes('3Gi'), 3 * 2 ** 30);
  t.is(bytes('3GiB'), 3 * 2 ** 30);
  t.is(bytes('3GB'), 3e9);
  t.is(bytes('65536'), 65536);
  t.is(bytes('64 KiB'), 65536);
});

test('an empty environment variable counts as unset', (t) => {
  const config = loadConfig({
    env: { BATCH_PROCESSING_API_PORT: '', DATABASE_URL: '  ' },
    secretsDir: noSecrets,
  });
  t.is(config.api.port, 9101);
  t.is(config.database.url, undefined);
});

test('time.zone is kept as configured: Asia/Kolkata is not renamed Asia/Calcutta, the older link ICU resolves it to', (t) => {
  const zone = (value: string) =>
    loadConfig({ env: { BATCH_PROCESSING_TIMEZONE: value }, secretsDir: noSecrets }).time.zone;
  t.is(zone('Asia/Kolkata'), 'Asia/Kolkata');
  t.is(zone('Europe/Kyiv'), 'Europe/Kyiv');
  t.is(zone('Asia/Calcutta'), 'Asia/Calcutta');
  // a difference of letter case only takes Intl's spelling
  t.is(zone('utc'), 'UTC');
  t.is(zone('europe/berlin'), 'Europe/Berlin');
});

test('the YAML file is read from CONFIG_FILE, snake_case and nested like the original', (t) => {
  const file = yamlFile(`
batch_processing:
  api: { port: 9300 }
  ingestion: { max_event_bytes: 2Mi }
  jobs: { timeout: 10m, retries: 5 }
  aggregation:
    enabled: true
    intervals: { monthly: false }
    schedules: { daily: "30 1 * * *" }
  retention: { raw_data_days: 7 }
  reports:
    formats: [json, docx]
    distribution: [email]
    email: { smtp_host: mail.local, smtp_port: 1025, recipients: [ops@example.com] }
kafka:
  bootstrap_servers: [k1:9092]
  topics: { dlq: my.dlq }
database:
  pool_size: 4
`);
  const config = loadConfig({ env: { CONFIG_FILE: file }, secretsDir: noSecrets });
  t.is(config.api.port, 9300);
  t.is(config.ingestion.maxEventBytes, 2 * 2 ** 20);
  t.is(config.jobs.timeoutSeconds, 600);
  t.is(config.jobs.retries, 5);
  t.false(config.aggregation.intervals.monthly);
  t.true(config.aggregation.intervals.hourly, 'unset keys of a section keep their defaults');
  t.is(config.aggregation.cron.daily, '30 1 * * *');
  t.is(config.retention.rawDays, 7);
  t.deepEqual(config.reports.formats, ['json', 'docx']);
  t.deepEqual(config.reports.email.recipients, ['ops@example.com']);
  t.is(config.reports.email.port, 1025);
  t.deepEqual(config.kafka.bootstrapServers, ['k1:9092']);
  t.is(config.kafka.topics.dlq, 'my.dlq');
  t.is(config.database.poolSize, 4);
});

test('an empty YAML file or empty sections set nothing', (t) => {
  t.is(loadConfig({ file: yamlFile(''), env: {}, secretsDir: noSecrets }).api.port, 9101);
  t.is(
    loadConfig({ file: yamlFile('kafka:\nbatch_processing:\n  api:\n'), env: {}, secretsDir: noSecrets }).api
      .port,
    9101,
  );
});

test('precedence: default < YAML file < environment < secret file', (t) => {
  const file = yamlFile(`
batch_processing:
  api: { port: 9301, token: from-yaml-token }
  retention: { raw_data_days: 10, aggregated_data_days: 100 }
database:
  url: postgres://yaml:yamlpw@yaml-host/db
  pool_size: 3
`);
  const env = {
    CONFIG_FILE: file,
    BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '20',
    BATCH_PROCESSING_API_TOKEN: 'from-env-token',
    DATABASE_URL: 'postgres://env:envpw@env-host/db',
  };
  const secrets = secretsDir({ 'api-token': 'from-secret-token\n' });

  const withoutSecrets = loadConfig({ env, secretsDir: noSecrets });
  t.is(withoutSecrets.retention.aggregatedDays, 100, 'file beats default');
  t.is(withoutSecrets.retention.reportsDays, 730, 'default when no source sets it');
  t.is(withoutSecrets.retention.rawDays, 20, 'env beats file');
  t.is(withoutSecrets.api.token, 'from-env-token', 'env beats file');
  t.is(withoutSecrets.database.url, 'postgres://env:envpw@env-host/db');
  t.is(withoutSecrets.database.poolSize, 3);

  const withSecrets = loadConfig({ env, secretsDir: secrets });
  t.is(withSecrets.api.token, 'from-secret-token', 'secret file beats env, trailing newline trimmed');
  t.is(withSecrets.database.url, 'postgres://env:envpw@env-host/db', 'no secret file: env stays');
});

test('secret files: every secret name is read, SECRETS_DIR overrides the folder, one newline trimmed', (t) => {
  const dir = secretsDir({
    'database-url': 'postgres://u:pw@db:5432/hxp\r\n',
    'database-password': 'db-pass\n',
    's3-access-key-id': 'AKIAEXAMPLE',
    's3-secret-access-key': 'secret/key+value\n',
    'api-token': 'tok-123\n\n',
    'smtp-password': 'smtp-pass',
  });
  const config = loadConfig({ env: { SECRETS_DIR: dir } });
  t.is(config.database.url, 'postgres://u:pw@db:5432/hxp');
  t.is(config.database.password, 'db-pass');
  t.is(config.s3.accessKeyId, 'AKIAEXAMPLE');
  t.is(config.s3.secretAccessKey, 'secret/key+value');
  t.is(config.api.token, 'tok-123\n', 'only one trailing newline is trimmed');
  t.is(config.reports.email.password, 'smtp-pass');
});

test('options.file beats CONFIG_FILE; file: null ignores CONFIG_FILE', (t) => {
  const a = yamlFile('batch_processing:\n  api:\n    port: 9401\n');
  const b = yamlFile('batch_processing:\n  api:\n    port: 9402\n');
  t.is(loadConfig({ env: { CONFIG_FILE: a }, file: b, secretsDir: noSecrets }).api.port, 9402);
  t.is(loadConfig({ env: { CONFIG_FILE: a }, file: null, secretsDir: noSecrets }).api.port, 9101);
});

test('the loaded config is deeply frozen', (t) => {
  const config = loadConfig({ env: { DATABASE_URL: 'postgres://u:p@h/db' }, secretsDir: noSecrets });
  t.true(Object.isFrozen(config));
  t.true(Object.isFrozen(config.aggregation.cron));
  t.true(Object.isFrozen(config.kafka.topics.raw));
  t.throws(() => {
    (config.api as { port: number }).port = 1;
  });
  t.throws(() => {
    (config.kafka.topics.raw as string[]).push('x');
  });
  t.throws(() => {
    (config.database as { url?: string }).url = 'postgres://other';
  });
  t.is(config.api.port, 9101);
});

test('two loads share no mutable state (defaults are not aliased)', (t) => {
  const a = loadConfig({ env: {}, secretsDir: noSecrets });
  const b = loadConfig({ env: { KAFKA_RAW_TOPICS: 'x.raw' }, secretsDir: noSecrets });
  t.deepEqual(a.kafka.topics.raw, ['hxp.events.raw']);
  t.deepEqual(b.kafka.topics.raw, ['x.raw']);
});

test('parseConfig validates a structured object with typed or string values', (t) => {
  const config = parseConfig({ api: { port: '9500' }, database: { url: 'postgres://h/db', poolSize: 2 } });
  t.is(config.api.port, 9500);
  t.is(config.database.poolSize, 2);
  t.is(config.retention.rawDays, 30);
  t.true(Object.isFrozen(config));
});
