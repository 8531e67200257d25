// Every class of invalid value gives one CONFIG_INVALID error whose lines name the source, show the value,
// say what is wrong and give the expected form.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig, type LoadConfigOptions } from '../../shared/config/index.ts';
import { BatchError } from '../../shared/errors/index.ts';

const noSecrets = join(tmpdir(), 'hxp-no-such-secrets-dir');

function problemsOf(options: LoadConfigOptions): string[] {
  const error = (() => {
    try {
      loadConfig({ secretsDir: noSecrets, ...options });
    } catch (caught) {
      return caught;
    }
    throw new Error('loadConfig accepted an invalid configuration');
  })();
  if (!(error instanceof BatchError)) throw error;
  if (error.code !== 'CONFIG_INVALID') throw error;
  return error.context.problems as string[];
}

const problemsOfEnv = (env: Record<string, string>) => problemsOf({ env });

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hxp-config-')), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

test('the cron error names BATCH_PROCESSING_HOURLY_CRON, the value, the expected form and an example', (t) => {
  t.deepEqual(problemsOfEnv({ BATCH_PROCESSING_HOURLY_CRON: 'every hour' }), [
    'BATCH_PROCESSING_HOURLY_CRON="every hour": not a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. "0 * * * *"',
  ]);
});

test('the error message starts with a count and lists each problem on its own line', (t) => {
  const error = t.throws(
    () => loadConfig({ env: { BATCH_PROCESSING_HOURLY_CRON: 'every hour' }, secretsDir: noSecrets }),
    { instanceOf: BatchError },
  );
  t.is(error?.code, 'CONFIG_INVALID');
  t.false(error?.retriable);
  t.is(
    error?.message,
    'Invalid configuration (1 problem); fix and restart:\n' +
      '  BATCH_PROCESSING_HOURLY_CRON="every hour": not a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. "0 * * * *"',
  );
});

const invalid: [string, Record<string, string>, RegExp][] = [
  [
    'cron with a field out of range',
    { BATCH_PROCESSING_DAILY_CRON: '0 25 * * *' },
    /^BATCH_PROCESSING_DAILY_CRON="0 25 \* \* \*": not a valid 5-field cron expression .*25.*, e\.g\. "5 0 \* \* \*"$/,
  ],
  [
    'cron with 6 fields',
    { BATCH_PROCESSING_WEEKLY_CRON: '0 0 0 * * 0' },
    /^BATCH_PROCESSING_WEEKLY_CRON="0 0 0 \* \* 0": not a 5-field cron/,
  ],
  [
    'cron macro',
    { BATCH_PROCESSING_MONTHLY_CRON: '@monthly' },
    /^BATCH_PROCESSING_MONTHLY_CRON="@monthly": not a 5-field cron/,
  ],
  [
    'URL',
    { OPENFAAS_GATEWAY_URL: 'gateway:8080' },
    /^OPENFAAS_GATEWAY_URL="gateway:8080": not an http\(s\) URL \(http:\/\/host:port\), e\.g\. "http:\/\/127\.0\.0\.1:8080"$/,
  ],
  [
    'URL with a wrong scheme',
    { PROMETHEUS_PUSHGATEWAY_URL: 'ftp://push:9091' },
    /^PROMETHEUS_PUSHGATEWAY_URL="ftp:\/\/push:9091": not an http\(s\) URL/,
  ],
  [
    'port out of range',
    { BATCH_PROCESSING_API_PORT: '70000' },
    /^BATCH_PROCESSING_API_PORT="70000": out of range; expected a port number: an integer 1–65535, e\.g\. "9101"$/,
  ],
  [
    'port not a number',
    { GATEWAY_PORT: 'http' },
    /^GATEWAY_PORT="http": not a port number: an integer 1–65535, e\.g\. "8080"$/,
  ],
  ['port zero', { BATCH_PROCESSING_METRICS_PORT: '0' }, /^BATCH_PROCESSING_METRICS_PORT="0": out of range/],
  [
    'duration',
    { BATCH_PROCESSING_RETRY_DELAY: 'five minutes' },
    /^BATCH_PROCESSING_RETRY_DELAY="five minutes": not a duration \(a number of seconds, or a number with a unit ms\/s\/m\/h\/d such as 300, 300s, 5m, 1h\), e\.g\. "300"$/,
  ],
  [
    'duration with an unknown unit',
    { BATCH_PROCESSING_TIMEOUT: '1w' },
    /^BATCH_PROCESSING_TIMEOUT="1w": not a duration/,
  ],
  [
    'a job timeout past the watchdog exec_timeout of stack.yml',
    { BATCH_PROCESSING_TIMEOUT: '2h' },
    /^BATCH_PROCESSING_TIMEOUT="2h": too long; expected at most 3600 seconds/,
  ],
  ['negative duration', { KAFKA_SESSION_TIMEOUT_MS: '-5' }, /^KAFKA_SESSION_TIMEOUT_MS="-5": not a duration/],
  [
    'size',
    { BATCH_PROCESSING_MAX_EVENT_BYTES: '3 elephants' },
    /^BATCH_PROCESSING_MAX_EVENT_BYTES="3 elephants": not a size .*3Gi.*, e\.g\. "64KiB"$/,
  ],
  [
    'size with an unknown unit',
    { BATCH_PROCESSING_MAX_EVENT_BYTES: '64KX' },
    /^BATCH_PROCESSING_MAX_EVENT_BYTES="64KX": not a size/,
  ],
  [
    'enum',
    { LOG_LEVEL: 'verbose' },
    /^LOG_LEVEL="verbose": not one of fatal, error, warn, info, debug, trace, silent, e\.g\. "info"$/,
  ],
  [
    'enum (week start)',
    { BATCH_PROCESSING_WEEK_START: 'saturday' },
    /^BATCH_PROCESSING_WEEK_START="saturday": not one of monday, sunday/,
  ],
  [
    'enum list item',
    { BATCH_PROCESSING_REPORT_FORMATS: 'json,xml' },
    /^BATCH_PROCESSING_REPORT_FORMATS="json,xml": item "xml" is not one of json, csv, pdf, docx/,
  ],
  [
    'time zone',
    { BATCH_PROCESSING_TIMEZONE: 'Mars/Olympus_Mons' },
    /^BATCH_PROCESSING_TIMEZONE="Mars\/Olympus_Mons": not a time zone known to Intl .*, e\.g\. "UTC"$/,
  ],
  [
    'boolean',
    { BATCH_PROCESSING_AGGREGATION_ENABLED: 'maybe' },
    /^BATCH_PROCESSING_AGGREGATION_ENABLED="maybe": not a boolean \(true\/false, 1\/0, yes\/no\), e\.g\. "true"$/,
  ],
  [
    'number',
    { BATCH_PROCESSING_RETRIES: 'three' },
    /^BATCH_PROCESSING_RETRIES="three": not an integer 0–100, e\.g\. "3"$/,
  ],
  [
    'fractional integer',
    { BATCH_PROCESSING_MAX_EVENT_FIELDS: '2.5' },
    /^BATCH_PROCESSING_MAX_EVENT_FIELDS="2\.5": not an integer ≥ 1/,
  ],
  [
    'number out of range',
    { BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '0' },
    /^BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS="0": out of range; expected an integer ≥ 1/,
  ],
  ['consumption path', { KAFKA_CONSUMPTION: 'both' }, /^KAFKA_CONSUMPTION="both": not one of pull, push/],
  [
    'host:port list',
    { KAFKA_BOOTSTRAP_SERVERS: 'kafka-1:9092,kafka-2' },
    /^KAFKA_BOOTSTRAP_SERVERS="kafka-1:9092,kafka-2": item "kafka-2" is not a host:port address/,
  ],
  ['Kafka topic', { KAFKA_DLQ_TOPIC: 'bad topic!' }, /^KAFKA_DLQ_TOPIC="bad topic!": not a Kafka topic name/],
  [
    'e-mail',
    { BATCH_PROCESSING_REPORT_RECIPIENTS: 'ops@example.com,nobody' },
    /^BATCH_PROCESSING_REPORT_RECIPIENTS=".*": item "nobody" is not an e-mail address/,
  ],
];

for (const [name, env, expected] of invalid) {
  test(`invalid ${name}`, (t) => {
    const problems = problemsOfEnv(env);
    t.is(problems.length, 1, problems.join('\n'));
    t.regex(problems[0] ?? '', expected);
  });
}

test('one error lists every bad key at once', (t) => {
  const problems = problemsOfEnv({
    BATCH_PROCESSING_HOURLY_CRON: 'every hour',
    BATCH_PROCESSING_API_PORT: '99999',
    BATCH_PROCESSING_TIMEZONE: 'Nowhere/Land',
    BATCH_PROCESSING_ARCHIVAL_ENABLED: 'perhaps',
    BATCH_PROCESSING_MAX_EVENT_BYTES: 'lots',
    LOG_LEVEL: 'loud',
  });
  const sources = problems.map((line) => line.split('=')[0]).sort();
  t.deepEqual(sources, [
    'BATCH_PROCESSING_API_PORT',
    'BATCH_PROCESSING_ARCHIVAL_ENABLED',
    'BATCH_PROCESSING_HOURLY_CRON',
    'BATCH_PROCESSING_MAX_EVENT_BYTES',
    'BATCH_PROCESSING_TIMEZONE',
    'LOG_LEVEL',
  ]);
});

test('YAML: an unknown key is an error naming it, with a suggestion for a typo', (t) => {
  const file = yamlFile(
    'batch_processing:\n  aggregation:\n    schedule:\n      hourly: "0 * * * *"\n  colour: blue\n',
  );
  t.deepEqual(problemsOf({ env: {}, file }), [
    `batch_processing.aggregation.schedule (${file}): unknown key; did you mean batch_processing.aggregation.schedules?`,
    `batch_processing.colour (${file}): unknown key; see docs/configuration.md for the known keys`,
  ]);
});

test('YAML: bad values name the YAML path and file, and errors from env and file come together', (t) => {
  const file = yamlFile(
    'batch_processing:\n  api:\n    port: 0\n  aggregation:\n    schedules:\n      daily: nightly\n',
  );
  const problems = problemsOf({ env: { LOG_LEVEL: 'loud' }, file });
  t.deepEqual(problems.sort(), [
    `LOG_LEVEL="loud": not one of fatal, error, warn, info, debug, trace, silent, e.g. "info"`,
    `batch_processing.aggregation.schedules.daily (${file})="nightly": not a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. "5 0 * * *"`,
    `batch_processing.api.port (${file})=0: out of range; expected a port number: an integer 1–65535, e.g. "9101"`,
  ]);
});

test('YAML: a scalar where a section belongs, a non-mapping file, bad YAML, a missing file', (t) => {
  const scalar = yamlFile('kafka: localhost:9092\n');
  t.deepEqual(problemsOf({ env: {}, file: scalar }), [
    `kafka (${scalar}): expected a mapping of settings, got string`,
  ]);
  const list = yamlFile('- a\n- b\n');
  t.regex(problemsOf({ env: {}, file: list })[0] ?? '', /expected a YAML mapping at the top/);
  const broken = yamlFile('batch_processing:\n  api: [port: 1\n');
  t.regex(problemsOf({ env: {}, file: broken })[0] ?? '', /: not valid YAML: /);
  const missing = join(tmpdir(), 'hxp-no-such-config.yaml');
  t.deepEqual(problemsOf({ env: { CONFIG_FILE: missing } }), [
    `CONFIG_FILE=${JSON.stringify(missing)}: cannot read the configuration file (ENOENT)`,
  ]);
});

test('rules across keys point at the key to set', (t) => {
  t.deepEqual(problemsOfEnv({ S3_ENDPOINT: 'http://127.0.0.1:9000' }), [
    'S3_BUCKET (not set): required when S3_ENDPOINT is set, e.g. "hxp-batch"',
  ]);
  t.deepEqual(problemsOfEnv({ S3_ACCESS_KEY_ID: 'AKIAEXAMPLE' }), [
    'S3_SECRET_ACCESS_KEY (not set): S3 credentials come in pairs: set both the access key id and the secret access key, e.g. "<secret>"',
  ]);
  t.deepEqual(problemsOfEnv({ BATCH_PROCESSING_REPORT_DISTRIBUTION: 'email,s3' }).sort(), [
    'BATCH_PROCESSING_REPORT_RECIPIENTS (not set): required when BATCH_PROCESSING_REPORT_DISTRIBUTION includes email, e.g. "ops@example.com,finance@example.com"',
    'SMTP_HOST (not set): required when BATCH_PROCESSING_REPORT_DISTRIBUTION includes email, e.g. "smtp.example.com"',
  ]);
  // A rollup is made from the level below it: switching that one off alone would leave it empty.
  t.deepEqual(problemsOfEnv({ BATCH_PROCESSING_DAILY_ENABLED: 'false' }).sort(), [
    'BATCH_PROCESSING_DAILY_ENABLED="false": the monthly rollup is made from daily aggregates, so switch BATCH_PROCESSING_MONTHLY_ENABLED off too or keep this on, e.g. "true"',
    'BATCH_PROCESSING_DAILY_ENABLED="false": the weekly rollup is made from daily aggregates, so switch BATCH_PROCESSING_WEEKLY_ENABLED off too or keep this on, e.g. "true"',
  ]);
  const config = loadConfig({
    env: {
      BATCH_PROCESSING_DAILY_ENABLED: 'false',
      BATCH_PROCESSING_WEEKLY_ENABLED: 'false',
      BATCH_PROCESSING_MONTHLY_ENABLED: 'false',
    },
    secretsDir: noSecrets,
  });
  t.deepEqual(config.aggregation.intervals, { hourly: true, daily: false, weekly: false, monthly: false });
});

test('loadConfigOrExit prints the error to stderr and exits 1 before any work', (t) => {
  const script =
    "import { loadConfigOrExit } from './shared/config/index.ts'; loadConfigOrExit(); console.log('WORK STARTED');";
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url),
    env: { PATH: process.env.PATH, BATCH_PROCESSING_HOURLY_CRON: 'every hour', SECRETS_DIR: noSecrets },
    encoding: 'utf8',
  });
  t.is(result.status, 1, result.stderr);
  t.false(result.stdout.includes('WORK STARTED'));
  t.true(result.stderr.includes('Invalid configuration (1 problem)'));
  t.true(result.stderr.includes('BATCH_PROCESSING_HOURLY_CRON="every hour": not a 5-field cron expression'));
});

test('YAML: an alias bomb is refused as a configuration problem, and so is nesting too deep to parse', (t) => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
    const previous = String.fromCharCode('a'.charCodeAt(0) + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
  }
  const bomb = yamlFile(`batch_processing:\n  ${lines.join('\n  ')}\n`);
  const problems = problemsOf({ env: {}, file: bomb });
  t.is(problems.length, 1);
  t.regex(
    problems[0] ?? '',
    /: YAML aliases expand too far \(.*\); at most 100 alias expansions are accepted/,
  );
  const deep = yamlFile(`batch_processing: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
  t.regex(problemsOf({ env: {}, file: deep })[0] ?? '', /: not valid YAML: /);
});

// Regression: the line ended `e.g. "1"`, an example the same check refuses.
test('a dedup-key retention below its minimum gives the minimum as the example, and that example is accepted', (t) => {
  const cases: Array<[Record<string, string>, string]> = [
    [{}, '31'], // 30 days of raw events plus 300 s of skew, rounded up to a day
    [{ BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '10', BATCH_PROCESSING_MAX_FUTURE_SKEW: '172801' }, '13'],
  ];
  for (const [others, minimum] of cases) {
    const env = { ...others, BATCH_PROCESSING_DEDUP_KEYS_RETENTION_DAYS: '5' };
    const [line] = problemsOfEnv(env);
    const example = /, e\.g\. "(\d+)"$/.exec(line ?? '')?.[1];
    t.is(example, minimum, line);
    const config = loadConfig({
      env: { ...env, BATCH_PROCESSING_DEDUP_KEYS_RETENTION_DAYS: example ?? '' },
      secretsDir: noSecrets,
    });
    t.is(config.retention.dedupKeysDays, Number(example));
  }
});
