import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { authorized, basicAuthFromEnv } from '../../runtime/auth.ts';
import { parseFunctionRoute } from '../../runtime/gateway.ts';
import { loadConfig } from '../../shared/config/index.ts';
import {
  cronSchedule,
  envsubst,
  kafkaTopics,
  loadConfiguredStack,
  loadStack,
  parseStack,
} from '../../runtime/stack.ts';

test('envsubst expands ${VAR}, ${VAR:-default} and ${VAR-default} like faas-cli', (t) => {
  const env = { SET: 'yes', EMPTY: '' };
  t.is(
    envsubst('${SET} ${MISSING} ${MISSING:-dflt} ${EMPTY:-dflt} ${EMPTY-dflt} ${MISSING-x}', env),
    'yes  dflt dflt  x',
  );
  t.is(envsubst('no vars $SET here', env), 'no vars $SET here');
});

test('parseStack reads functions, resolves handler folders and merges environment files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hxp-stack-'));
  mkdirSync(join(dir, 'functions', 'ingest'), { recursive: true });
  writeFileSync(join(dir, 'functions', 'ingest', 'handler.ts'), 'export default () => 1;');
  // faas-cli expands ${VAR} in stack.yml only, not in an environment file (checked with faas-cli generate)
  writeFileSync(
    join(dir, 'env.yml'),
    'environment:\n  FROM_FILE: "1"\n  OVERRIDDEN: file\n  LITERAL: "${TAG:-x}"\n',
  );
  writeFileSync(
    join(dir, 'stack.yml'),
    `version: 1.0
provider: {name: openfaas, gateway: "\${GW:-http://127.0.0.1:8080}"}
functions:
  ingest:
    lang: node20-ts
    handler: ./functions/ingest
    image: hxp/ingest:\${TAG:-dev}
    environment_file: [env.yml]
    environment: {OVERRIDDEN: stack, NUM: 5}
    annotations: {topic: "a, b,cron-function", schedule: "*/5 * * * *"}
    labels: {com.openfaas.scale.min: "1"}
    secrets: [database-url]
    limits: {memory: 128Mi}
    readonly_root_filesystem: true
`,
  );
  const stack = loadStack(join(dir, 'stack.yml'), { TAG: '1.2.3' });
  t.is(stack.gateway, 'http://127.0.0.1:8080');
  const fn = stack.functions[0]!;
  t.is(fn.name, 'ingest');
  t.is(fn.image, 'hxp/ingest:1.2.3');
  t.is(fn.handlerPath, join(dir, 'functions', 'ingest', 'handler.ts'));
  t.deepEqual(fn.environment, { OVERRIDDEN: 'file', NUM: '5', FROM_FILE: '1', LITERAL: '${TAG:-x}' });
  t.deepEqual(fn.secrets, ['database-url']);
  t.deepEqual(fn.limits, { memory: '128Mi' });
  t.is(fn.requests, null);
  t.true(fn.readOnlyRootFilesystem);
  t.deepEqual(kafkaTopics(fn), ['a', 'b']);
  t.is(cronSchedule(fn), '*/5 * * * *');
});

test('parseStack explains a missing handler', (t) => {
  const err = t.throws(() => parseStack('functions:\n  x:\n    lang: node20-ts\n', '/tmp/stack.yml'));
  t.regex(err.message, /function "x" has no "handler:" path/);
});

test('the project stack.yml parses', (t) => {
  const stack = loadStack(new URL('../../stack.yml', import.meta.url).pathname, {});
  t.true(stack.functions.length > 0);
  for (const f of stack.functions) t.regex(f.handlerPath, /handler\.ts$/);
});

test('the runtime expands stack.yml from the loaded configuration: a YAML file reaches schedules and env', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hxp-stack-config-'));
  const file = join(dir, 'config.yml');
  writeFileSync(
    file,
    [
      'batch_processing:',
      '  reports:',
      '    schedule: "5 6 * * *"',
      '  jobs:',
      '    timeout: 10m',
      'kafka:',
      '  topics:',
      '    events: my.events',
      '',
    ].join('\n'),
  );
  const env = { CONFIG_FILE: file, BATCH_PROCESSING_HOURLY_CRON: '7 * * * *' };
  const config = loadConfig({ env, secretsDir: dir });
  const stack = loadConfiguredStack(new URL('../../stack.yml', import.meta.url).pathname, env, config);
  const fn = (name: string) => stack.functions.find((f) => f.name === name);
  t.is(fn('generate-report-cron')?.annotations.schedule, '5 6 * * *');
  t.is(fn('aggregate-hourly')?.annotations.schedule, '7 * * * *', 'the environment too');
  t.is(fn('retention-sweep')?.annotations.schedule, '30 0 * * *', 'and the defaults');
  t.is(fn('analyze-capacity')?.annotations.topic, 'my.events');
  t.is(fn('status')?.environment.BATCH_PROCESSING_REPORTS_CRON, '5 6 * * *');
  t.is(fn('aggregate-daily')?.environment.BATCH_PROCESSING_TIMEOUT, '600');
});

test('the runtime hands the functions the deployment services of the loaded configuration, empty when unset', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hxp-stack-services-'));
  const file = join(dir, 'config.yml');
  writeFileSync(
    file,
    [
      's3:',
      '  bucket: from-file',
      '  prefix: p1',
      'monitoring:',
      '  pushgateway_url: http://pg:9091',
      '',
    ].join('\n'),
  );
  const stackFile = new URL('../../stack.yml', import.meta.url).pathname;
  const env = { CONFIG_FILE: file, KAFKA_BOOTSTRAP_SERVERS: 'k1:9092, k2:9092', S3_PREFIX: 'from-env' };
  const stack = loadConfiguredStack(stackFile, env, loadConfig({ env, secretsDir: dir }));
  const envOf = (name: string) => stack.functions.find((f) => f.name === name)?.environment ?? {};
  t.is(
    envOf('generate-report').S3_BUCKET,
    'from-file',
    'a YAML file reaches the functions as faas-cli would',
  );
  t.is(
    envOf('retention-sweep').S3_PREFIX,
    'from-env',
    'the environment over the file, as in the configuration',
  );
  t.is(envOf('status').S3_REGION, 'us-east-1', 'and the defaults');
  t.is(envOf('aggregate-daily').KAFKA_BOOTSTRAP_SERVERS, 'k1:9092,k2:9092');
  for (const f of stack.functions) t.is(f.environment.PROMETHEUS_PUSHGATEWAY_URL, 'http://pg:9091', f.name);

  // nothing configured: the variables are empty, which the functions' configuration reads as unset
  const bare = loadConfiguredStack(stackFile, {}, loadConfig({ env: {}, secretsDir: dir }));
  const report = bare.functions.find((f) => f.name === 'generate-report')!;
  t.is(report.environment.S3_BUCKET, '');
  t.is(report.environment.KAFKA_BOOTSTRAP_SERVERS, '');
  t.is(report.environment.PROMETHEUS_PUSHGATEWAY_URL, '');
  const seen = loadConfig({ env: report.environment, secretsDir: dir });
  t.is(seen.s3.bucket, undefined);
  t.is(seen.kafka.bootstrapServers, undefined);
  t.is(seen.metrics.pushgatewayUrl, undefined);
});

test('function routes parse name, namespace, suffix and query', (t) => {
  t.deepEqual(parseFunctionRoute('/function/echo'), {
    kind: 'function',
    name: 'echo',
    namespace: 'openfaas-fn',
    path: '/',
  });
  t.deepEqual(parseFunctionRoute('/function/echo.openfaas-fn/a/b?x=1'), {
    kind: 'function',
    name: 'echo',
    namespace: 'openfaas-fn',
    path: '/a/b?x=1',
  });
  t.deepEqual(parseFunctionRoute('/async-function/echo?y=2'), {
    kind: 'async-function',
    name: 'echo',
    namespace: 'openfaas-fn',
    path: '/?y=2',
  });
  t.is(parseFunctionRoute('/system/functions'), undefined);
});

test('basic auth reads env or secret files and checks the header', (t) => {
  t.is(basicAuthFromEnv({}), undefined);
  const creds = basicAuthFromEnv({ BASIC_AUTH_USER: 'admin', BASIC_AUTH_PASSWORD: 'pw' })!;
  const header = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  t.true(authorized(header('admin', 'pw'), creds));
  t.false(authorized(header('admin', 'nope'), creds));
  t.false(authorized(undefined, creds));
  t.true(authorized(undefined, undefined));
  const dir = mkdtempSync(join(tmpdir(), 'hxp-secrets-'));
  writeFileSync(join(dir, 'basic-auth-user'), 'u1\n');
  writeFileSync(join(dir, 'basic-auth-password'), 'p1\n');
  t.deepEqual(basicAuthFromEnv({ SECRET_MOUNT_PATH: dir }), { user: 'u1', password: 'p1' });
});
