// stack.yml invariants: one entry per function folder and back, images and env named after the
// function, resources within the original 3 GiB / 4 cores, schedules and topics equal to the
// configuration defaults, long jobs given the job timeout.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import test from 'ava';
import { CronExpressionParser } from 'cron-parser';
import { parse } from 'yaml';
import {
  loadConfig,
  MAX_JOB_TIMEOUT_SECONDS,
  parseConfig,
  settings,
  settingsAsEnv,
} from '../../shared/config/index.ts';
import { envsubst } from '../../runtime/stack.ts';

/** The original deployment's budget (its BATCH_PROCESSING_MEMORY_LIMIT / _CPU_LIMIT defaults). */
const ORIGINAL_MEMORY_BYTES = 3 * 2 ** 30;
const ORIGINAL_CORES = 4;

const ROOT = resolve(import.meta.dirname, '../..');
const text = readFileSync(join(ROOT, 'stack.yml'), 'utf8');

interface Resources {
  memory: string;
  cpu: string;
}
interface StackFunction {
  lang: string;
  handler: string;
  image: string;
  environment: Record<string, string>;
  secrets?: string[];
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  limits: Resources;
  requests: Resources;
  readonly_root_filesystem: boolean;
}
interface StackFile {
  version: unknown;
  provider: { name: string; gateway: string };
  configuration: { copy: string[] };
  functions: Record<string, StackFunction>;
}

// As faas-cli and the local runtime read it: `${VAR:-default}` expanded (here with no variable set).
const stack = parse(envsubst(text, {})) as StackFile;
const functions = Object.entries(stack.functions);
const defaults = parseConfig({});
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Kubernetes quantities as stack.yml uses them: 384Mi, 1Gi, 500M → bytes; 500m, 1 → cores. */
function bytesOf(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  if (!m) throw new Error(`memory quantity ${quantity} is not like 384Mi`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}
function coresOf(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity);
  if (!m) throw new Error(`cpu quantity ${quantity} is not like 500m or 1`);
  return Number(m[1]) / (m[2] ? 1000 : 1);
}

test('the quantity parsers read Kubernetes units', (t) => {
  t.is(bytesOf('384Mi'), 384 * 2 ** 20);
  t.is(bytesOf('1Gi'), 2 ** 30);
  t.is(bytesOf('500M'), 5e8);
  t.is(coresOf('500m'), 0.5);
  t.is(coresOf('2'), 2);
  t.throws(() => bytesOf('lots'));
});

test('stack.yml is faas-cli version 1.0 with the openfaas provider and an overridable gateway', (t) => {
  t.regex(text, /^version: 1\.0$/m);
  t.is(stack.provider.name, 'openfaas');
  t.regex(text, /^ {2}gateway: \$\{OPENFAAS_GATEWAY_URL:-http:\/\/127\.0\.0\.1:8080\}$/m);
  t.is(stack.provider.gateway, defaults.openfaas.gatewayUrl);
  t.deepEqual(stack.configuration.copy, ['./shared', './package.json', './package-lock.json']);
});

test('every function folder has a stack.yml entry and every entry a folder with handler.ts', (t) => {
  const folders = readdirSync(join(ROOT, 'functions')).filter((f) =>
    statSync(join(ROOT, 'functions', f)).isDirectory(),
  );
  const handlers = new Set(functions.map(([, fn]) => fn.handler));
  for (const folder of folders)
    t.true(handlers.has(`./functions/${folder}`), `functions/${folder} has no entry`);
  for (const [name, fn] of functions) {
    t.true(existsSync(join(ROOT, fn.handler, 'handler.ts')), `${name}: ${fn.handler}/handler.ts missing`);
  }
  t.true(folders.length >= 4);
});

test('each entry: node20-ts, image hxp-batch/<name>:<version>, its name in env, read-only root, scale labels', (t) => {
  for (const [name, fn] of functions) {
    t.is(fn.lang, 'node20-ts', name);
    t.is(fn.image, `hxp-batch/${name}:${version}`, name);
    t.is(fn.environment.HXP_FUNCTION_NAME, name, name);
    t.true(fn.readonly_root_filesystem, name);
    const min = Number(fn.labels['com.openfaas.scale.min']);
    const max = Number(fn.labels['com.openfaas.scale.max']);
    t.true(
      Number.isInteger(min) && Number.isInteger(max) && min >= 1 && max >= min,
      `${name}: scale ${min}..${max}`,
    );
    t.true(bytesOf(fn.requests.memory) <= bytesOf(fn.limits.memory), `${name}: memory request ≤ limit`);
    t.true(coresOf(fn.requests.cpu) <= coresOf(fn.limits.cpu), `${name}: cpu request ≤ limit`);
  }
});

test('all functions at their maximum scale fit the original 3 GiB / 4 cores', (t) => {
  let memory = 0;
  let cpu = 0;
  for (const [, fn] of functions) {
    const max = Number(fn.labels['com.openfaas.scale.max']);
    memory += bytesOf(fn.limits.memory) * max;
    cpu += coresOf(fn.limits.cpu) * max;
  }
  t.true(memory <= ORIGINAL_MEMORY_BYTES, `memory ${memory / 2 ** 20} MiB > 3072 MiB`);
  t.true(cpu <= ORIGINAL_CORES, `cpu ${cpu} > 4 cores`);
});

test('cron annotations: topic cron-function and the configured default schedule of each level', (t) => {
  const expected: Record<string, { level: string; schedule: string }> = {
    'aggregate-hourly': { level: '', schedule: defaults.aggregation.cron.hourly },
    'aggregate-daily': { level: 'day', schedule: defaults.aggregation.cron.daily },
    'aggregate-weekly': { level: 'week', schedule: defaults.aggregation.cron.weekly },
    'aggregate-monthly': { level: 'month', schedule: defaults.aggregation.cron.monthly },
    'retention-sweep': { level: '', schedule: defaults.retention.cron },
  };
  t.deepEqual(
    Object.values(expected).map((e) => e.schedule),
    ['0 * * * *', '5 0 * * *', '10 0 * * *', '15 0 * * *', '30 0 * * *'],
  );
  for (const [name, want] of Object.entries(expected)) {
    const fn = stack.functions[name];
    if (!fn) {
      t.fail(`${name} missing from stack.yml`);
      continue;
    }
    t.is(fn.annotations?.topic, 'cron-function', name);
    t.is(fn.annotations?.schedule, want.schedule, name);
    if (want.level) {
      t.is(fn.handler, './functions/aggregate-daily', `${name} is the aggregate-daily handler`);
      t.is(fn.environment.AGGREGATION_LEVEL, want.level, name);
    }
  }
  const reportCron = stack.functions['generate-report-cron'];
  t.is(
    reportCron?.handler,
    './functions/generate-report',
    'generate-report-cron is the generate-report handler',
  );
  t.is(reportCron?.annotations?.topic, 'cron-function');
  t.is(
    reportCron?.annotations?.schedule,
    defaults.reports.cron,
    'generate-report-cron fires on reports.cron',
  );
  t.is(
    stack.functions['generate-report']?.annotations?.topic,
    defaults.kafka.topics.events,
    'generate-report hears hxp.batch.events',
  );
  for (const [name, fn] of functions) {
    if (fn.annotations?.topic !== 'cron-function') continue;
    // a plain 5-field expression (DESIGN.md): the cron-connector's image has no zone database for a prefix
    const schedule = fn.annotations.schedule ?? '';
    t.is(schedule.split(/\s+/).length, 5, `${name}: 5-field cron`);
    t.notThrows(() => CronExpressionParser.parse(schedule), `${name}: ${schedule}`);
  }
});

test('ingest subscribes to the configured raw topics; the long jobs get the job timeout', (t) => {
  t.is(stack.functions.ingest?.annotations?.topic, defaults.kafka.topics.raw.join(','));
  t.is(defaults.jobs.timeoutSeconds, MAX_JOB_TIMEOUT_SECONDS);
  for (const [name, fn] of functions.filter(([n]) => n.startsWith('aggregate-') || n === 'retention-sweep')) {
    // The watchdog ends an invocation at exec_timeout: the longest timeout the configuration allows fits in it.
    t.is(fn.environment.exec_timeout, `${MAX_JOB_TIMEOUT_SECONDS}s`, name);
    t.is(Number(fn.environment.BATCH_PROCESSING_TIMEOUT), defaults.jobs.timeoutSeconds, name);
    for (const key of ['read_timeout', 'write_timeout']) {
      const seconds = Number.parseInt(fn.environment[key] ?? '0', 10);
      t.true(seconds > MAX_JOB_TIMEOUT_SECONDS, `${name}: ${key} above exec_timeout`);
    }
  }
  // status judges a run abandoned past the same job timeout
  t.is(Number(stack.functions.status?.environment.BATCH_PROCESSING_TIMEOUT), defaults.jobs.timeoutSeconds);
  for (const [name, fn] of functions) {
    for (const key of ['exec_timeout', 'read_timeout', 'write_timeout']) {
      t.regex(fn.environment[key] ?? '', /^\d+s$/, `${name}: ${key} is set (of-watchdog needs > 0)`);
    }
  }
});

test('schedules, raw topics and the gateway follow the configuration variables of the same names', (t) => {
  const env = {
    BATCH_PROCESSING_HOURLY_CRON: '5 * * * *',
    BATCH_PROCESSING_WEEKLY_CRON: '0 3 * * 1',
    BATCH_PROCESSING_REPORTS_CRON: '5 6 * * *',
    BATCH_PROCESSING_RETENTION_CRON: '7 4 * * *',
    BATCH_PROCESSING_TIMEOUT: '600',
    KAFKA_RAW_TOPICS: 'a.raw,b.raw',
    KAFKA_EVENTS_TOPIC: 'my.events',
    OPENFAAS_GATEWAY_URL: 'http://gw.example:8080',
  };
  const configured = parse(envsubst(text, env)) as StackFile;
  const config = parseConfig({
    aggregation: { cron: { hourly: '5 * * * *', weekly: '0 3 * * 1' } },
    kafka: { topics: { raw: ['a.raw', 'b.raw'] } },
    openfaas: { gatewayUrl: 'http://gw.example:8080' },
  });
  const fired = (name: string) => configured.functions[name]?.annotations?.schedule;
  t.is(fired('aggregate-hourly'), config.aggregation.cron.hourly);
  t.is(fired('aggregate-weekly'), config.aggregation.cron.weekly);
  t.is(fired('aggregate-daily'), config.aggregation.cron.daily);
  t.is(fired('generate-report-cron'), '5 6 * * *');
  t.is(fired('retention-sweep'), '7 4 * * *');
  t.is(configured.functions.ingest?.annotations?.topic, config.kafka.topics.raw.join(','));
  // aggregation.completed reaches the functions that wait for it on the configured topic
  t.is(configured.functions['generate-report']?.annotations?.topic, 'my.events');
  t.is(configured.functions['analyze-capacity']?.annotations?.topic, 'my.events');
  // the long jobs stop at the configured timeout, and status judges their runs by it
  for (const name of ['aggregate-hourly', 'aggregate-monthly', 'retention-sweep', 'status']) {
    t.is(configured.functions[name]?.environment.BATCH_PROCESSING_TIMEOUT, '600', name);
  }
  t.is(configured.provider.gateway, config.openfaas.gatewayUrl);
  // The status function reports next fire times from the schedules that really apply.
  t.is(configured.functions.status?.environment.BATCH_PROCESSING_HOURLY_CRON, '5 * * * *');
  t.is(configured.functions.status?.environment.BATCH_PROCESSING_MONTHLY_CRON, '15 0 * * *');
  t.is(configured.functions.status?.environment.BATCH_PROCESSING_RETENTION_CRON, '7 4 * * *');
  for (const name of ['status', 'generate-report', 'generate-report-cron']) {
    t.is(configured.functions[name]?.environment.BATCH_PROCESSING_REPORTS_CRON, '5 6 * * *', name);
  }
  t.is(configured.functions['retention-sweep']?.environment.BATCH_PROCESSING_RETENTION_CRON, '7 4 * * *');
});

// Every `${…}` faas-cli would expand (it takes any name, lower case included; a bare $NAME it leaves alone).
const expansions = [...text.matchAll(/\$\{([^}:-]*)(?::?-([^}]*))?\}/g)].map(([whole, name, fallback]) => ({
  whole,
  name: name!,
  fallback,
}));

test('every ${VAR} in stack.yml is a documented configuration variable: a typo cannot deploy an unset setting', (t) => {
  const known = new Set(Object.values(settings).map((s) => s.env));
  const documented = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  t.true(expansions.length > 20, 'the pattern finds the expansions');
  for (const { whole, name } of expansions) {
    t.true(known.has(name), `${whole}: ${name} is no configuration variable (shared/config/keys.ts)`);
    t.true(documented.includes(`| \`${name}\` |`), `${whole}: ${name} is in docs/configuration.md`);
  }
  // the other forms, which the configuration would never see
  t.deepEqual(text.match(/\$[A-Za-z_]\w*/g) ?? [], [], 'no bare $NAME (faas-cli leaves it as it is)');
  t.deepEqual(text.match(/\$\{[^}]*$/gm) ?? [], [], 'no unclosed ${');
});

test("a ${VAR:-default} in stack.yml defaults to the setting's default, or to empty (unset) when it has none", (t) => {
  const asEnv = settingsAsEnv(defaults);
  for (const { whole, name, fallback } of expansions) {
    if (fallback === undefined) continue;
    t.is(fallback, asEnv[name] ?? '', `${whole}: the default of ${name} in shared/config`);
  }
});

/** Functions whose code uses each service: Kafka (publish, pull or probe), the archive (S3 or folder). */
const KAFKA_USERS = functions.map(([name]) => name).filter((name) => name !== 'ingest');
const ARCHIVE_USERS = ['status', 'generate-report', 'generate-report-cron', 'retention-sweep'];
const S3_VARIABLES = ['S3_BUCKET', 'S3_ENDPOINT', 'S3_REGION', 'S3_FORCE_PATH_STYLE', 'S3_PREFIX'];

test("a plain faas-cli deploy hands each function the services it uses, from the deployer's environment", (t) => {
  const env = {
    KAFKA_BOOTSTRAP_SERVERS: 'kafka-0.kafka:9092,kafka-1.kafka:9092',
    KAFKA_CONSUMPTION: 'push',
    S3_BUCKET: 'hxp-archive',
    S3_ENDPOINT: 'https://s3.example.com',
    S3_REGION: 'eu-central-1',
    S3_FORCE_PATH_STYLE: 'false',
    S3_PREFIX: 'prod',
    BATCH_PROCESSING_ARCHIVAL_PATH: '/mnt/archive',
    PROMETHEUS_PUSHGATEWAY_URL: 'http://pushgateway.monitoring:9091',
  };
  const deployed = parse(envsubst(text, env)) as StackFile;
  for (const [name, fn] of Object.entries(deployed.functions)) {
    const got = loadConfig({ env: fn.environment, secretsDir: '/nonexistent-hxp-secrets' });
    t.is(got.metrics.pushgatewayUrl, env.PROMETHEUS_PUSHGATEWAY_URL, `${name}: Pushgateway`);
    if (KAFKA_USERS.includes(name)) {
      t.deepEqual(got.kafka.bootstrapServers, env.KAFKA_BOOTSTRAP_SERVERS.split(','), `${name}: brokers`);
    }
    if (ARCHIVE_USERS.includes(name)) {
      t.deepEqual(
        { ...got.s3 },
        {
          bucket: 'hxp-archive',
          endpoint: 'https://s3.example.com',
          region: 'eu-central-1',
          forcePathStyle: false,
          prefix: 'prod',
        },
        `${name}: S3`,
      );
      t.is(got.retention.archival.path, '/mnt/archive', `${name}: archival path`);
      // the S3 keys come as the secrets these functions mount, never through stack.yml
      for (const secret of ['s3-access-key-id', 's3-secret-access-key']) {
        t.true(fn.secrets?.includes(secret), `${name}: mounts ${secret}`);
      }
    } else {
      for (const variable of S3_VARIABLES) t.false(variable in fn.environment, `${name}: no ${variable}`);
      t.false(fn.secrets?.includes('s3-access-key-id'), `${name}: no S3 keys it does not use`);
    }
  }
  for (const name of ['ingest', 'aggregate-hourly']) {
    t.is(deployed.functions[name]?.environment.KAFKA_CONSUMPTION, 'push', `${name}: one consumption path`);
  }
  t.deepEqual(
    functions.filter(([, fn]) => 'KAFKA_BOOTSTRAP_SERVERS' in fn.environment).map(([name]) => name),
    KAFKA_USERS,
  );
});

test('with none of them set, the deployment variables are empty, and empty means unset', (t) => {
  for (const [name, fn] of functions) {
    const got = loadConfig({ env: fn.environment, secretsDir: '/nonexistent-hxp-secrets' });
    t.is(got.metrics.pushgatewayUrl, undefined, `${name}: no Pushgateway`);
    t.is(got.kafka.bootstrapServers, undefined, `${name}: no Kafka`);
    t.is(got.s3.bucket, undefined, `${name}: no bucket (the local archive folder)`);
    t.is(got.s3.endpoint, undefined, name);
    t.is(got.s3.prefix, undefined, name);
    t.is(got.s3.region, defaults.s3.region, name);
    t.is(got.retention.archival.path, defaults.retention.archival.path, name);
    for (const variable of ['PROMETHEUS_PUSHGATEWAY_URL', 'S3_BUCKET', 'KAFKA_BOOTSTRAP_SERVERS']) {
      if (variable in fn.environment) t.is(fn.environment[variable], '', `${name}: ${variable}`);
    }
  }
});

test('the topics reach the functions that publish or pull them, not only the subscriptions', (t) => {
  const deployed = parse(
    envsubst(text, { KAFKA_EVENTS_TOPIC: 'my.events', KAFKA_RAW_TOPICS: 'a.raw,b.raw' }),
  ) as StackFile;
  for (const name of KAFKA_USERS.filter((n) => n !== 'status')) {
    const got = loadConfig({ env: deployed.functions[name]!.environment, secretsDir: '/nonexistent' });
    t.is(got.kafka.topics.events, 'my.events', `${name} publishes where generate-report listens`);
  }
  for (const name of ['ingest', 'aggregate-hourly']) {
    const got = loadConfig({ env: deployed.functions[name]!.environment, secretsDir: '/nonexistent' });
    t.deepEqual(got.kafka.topics.raw, ['a.raw', 'b.raw'], `${name}: the raw topics`);
  }
});

test('every handler starts through initFunction: no DATABASE_URL or a bad setting stops it before it listens', (t) => {
  for (const handler of new Set(functions.map(([, fn]) => fn.handler))) {
    const source = readFileSync(join(ROOT, handler, 'handler.ts'), 'utf8');
    // initFunction itself, or an init that starts with it and then checks what only its function needs
    t.regex(
      source,
      /^export (const init = initFunction;$|async function init\(\)[^{]*\{\n {2}const config = initFunction\(\);$)/m,
      `${handler}/handler.ts exports init`,
    );
  }
});

test('every function mounts the api-token secret: each takes a mutating call', (t) => {
  // The cron twins serve the same routes as their HTTP siblings (POST /reports/generate, deliveries,
  // POST /capacity/analysis); only their cron tick goes without the token.
  for (const [name, fn] of functions) t.true(fn.secrets?.includes('api-token'), name);
});

test('status mounts the S3 keys: its /health probes the archive bucket', (t) => {
  for (const secret of ['s3-access-key-id', 's3-secret-access-key']) {
    t.true(stack.functions.status?.secrets?.includes(secret), secret);
  }
});

test('secrets are the configuration secret files, and every function gets database-url', (t) => {
  const known = new Set(Object.values(settings).flatMap((s) => (s.secretFile ? [s.secretFile] : [])));
  for (const name of ['database-url', 's3-access-key-id', 's3-secret-access-key', 'api-token']) {
    t.true(known.has(name), `shared/config reads the secret file ${name}`);
  }
  for (const [name, fn] of functions) {
    t.true(fn.secrets?.includes('database-url'), `${name}: database-url`);
    for (const secret of fn.secrets ?? []) t.true(known.has(secret), `${name}: unknown secret ${secret}`);
  }
});
