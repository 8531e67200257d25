// Service-backed tests read their endpoints from the TEST_* variables printed by `scripts/services env`.
// Without them a suite is skipped with the reason in its title; with HXP_REQUIRE_SERVICES=1 (CI) a missing
// service is a failing test instead, so CI can never pass by skipping.
import { accessSync, constants } from 'node:fs';
import test, { type ImplementationFn } from 'ava';

export type ServiceName = 'postgres' | 'kafka' | 's3' | 'pushgateway' | 'prometheus' | 'smtp';

export interface ServiceEndpoints {
  postgres: { url: string };
  kafka: { brokers: string[] };
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string; bucket: string; region: string };
  pushgateway: { url: string };
  /** The harness's Prometheus and the folder of its file_sd runtime targets. */
  prometheus: { url: string; targetsDir: string };
  smtp: { url: string; apiUrl: string };
}

const requiredVariables: Record<ServiceName, string[]> = {
  postgres: ['TEST_DATABASE_URL'],
  kafka: ['TEST_KAFKA_BROKERS'],
  s3: ['TEST_S3_ENDPOINT', 'TEST_S3_ACCESS_KEY', 'TEST_S3_SECRET_KEY', 'TEST_S3_BUCKET'],
  pushgateway: ['TEST_PUSHGATEWAY_URL'],
  prometheus: ['TEST_PROMETHEUS_URL', 'TEST_PROMETHEUS_TARGETS_DIR'],
  smtp: ['TEST_SMTP_URL', 'TEST_MAILPIT_URL'],
};

function env(name: string): string {
  return process.env[name] ?? '';
}

function missingVariables(name: ServiceName): string[] {
  return requiredVariables[name].filter((v) => !env(v));
}

export function requireService<N extends ServiceName>(name: N): ServiceEndpoints[N] | undefined {
  if (missingVariables(name).length > 0) return undefined;
  const endpoints: ServiceEndpoints = {
    postgres: { url: env('TEST_DATABASE_URL') },
    kafka: {
      brokers: env('TEST_KAFKA_BROKERS')
        .split(',')
        .map((b) => b.trim()),
    },
    s3: {
      endpoint: env('TEST_S3_ENDPOINT'),
      accessKeyId: env('TEST_S3_ACCESS_KEY'),
      secretAccessKey: env('TEST_S3_SECRET_KEY'),
      bucket: env('TEST_S3_BUCKET'),
      region: env('TEST_S3_REGION') || 'us-east-1',
    },
    pushgateway: { url: env('TEST_PUSHGATEWAY_URL') },
    prometheus: { url: env('TEST_PROMETHEUS_URL'), targetsDir: env('TEST_PROMETHEUS_TARGETS_DIR') },
    smtp: { url: env('TEST_SMTP_URL'), apiUrl: env('TEST_MAILPIT_URL') },
  };
  return endpoints[name];
}

/** The S3 test bucket as the S3_* variables a deployment sets (requires the s3 service). */
export function s3Env(): Record<string, string> {
  const s3 = requireService('s3')!;
  return {
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}

export const servicesRequired = process.env.HXP_REQUIRE_SERVICES === '1';

type Register = (title: string, implementation: ImplementationFn<[]>) => void;
export interface ServiceTest extends Register {
  serial: Register;
}

export type Gate = { kind: 'run' } | { kind: 'skip' | 'fail'; reason: string };

/**
 * The one rule for every gated suite: run when nothing is missing; otherwise fail when CI requires the
 * dependencies (HXP_REQUIRE_SERVICES=1), else skip with the reason. There is no exception list: every
 * service and tool installs here (scripts/services install), so CI runs every suite.
 */
export function gate(problems: readonly string[], fix: string, env: NodeJS.ProcessEnv = process.env): Gate {
  if (problems.length === 0) return { kind: 'run' };
  const reason = `${problems.join(', ')}; ${fix}`;
  return env.HXP_REQUIRE_SERVICES === '1'
    ? { kind: 'fail', reason: `HXP_REQUIRE_SERVICES=1 but ${reason}` }
    : { kind: 'skip', reason };
}

function gatedTest(problems: readonly string[], fix: string): ServiceTest {
  const decided = gate(problems, fix);
  const make =
    (runner: typeof test | typeof test.serial): Register =>
    (title, implementation) => {
      if (decided.kind === 'run') runner(title, implementation);
      else if (decided.kind === 'fail') runner(title, (t) => t.fail(decided.reason));
      else runner.skip(`${title} (skipped: ${decided.reason})`, () => {});
    };
  return Object.assign(make(test), { serial: make(test.serial) });
}

/** `test` for a suite that needs `names`: runs, skips with the reason, or fails when CI requires it. */
export function serviceTest(...names: ServiceName[]): ServiceTest {
  const problems = names.flatMap(missingVariables).map((v) => `${v} not set`);
  return gatedTest(problems, 'run: bash scripts/services up && eval "$(bash scripts/services env)"');
}

// ---- binaries (faas-cli, of-watchdog, cron-connector): the same run / skip / fail-in-CI rule as services -------------

export type BinaryName = 'faas-cli' | 'of-watchdog' | 'cron-connector' | 'promtool' | 'chromium';

const binaryVariables: Record<BinaryName, string> = {
  'faas-cli': 'FAAS_CLI_BIN',
  'of-watchdog': 'OF_WATCHDOG_BIN',
  'cron-connector': 'CRON_CONNECTOR_BIN',
  promtool: 'PROMTOOL_BIN',
  chromium: 'CHROMIUM_BIN',
};

function missingBinary(name: BinaryName): string | undefined {
  const variable = binaryVariables[name];
  const path = env(variable);
  if (!path) return `${variable} not set`;
  try {
    accessSync(path, constants.X_OK);
    return undefined;
  } catch {
    return `${variable}=${path} is not an executable file`;
  }
}

/** The path of an installed binary, or undefined when its variable is unset or not executable. */
export function requireBinary(name: BinaryName): string | undefined {
  return missingBinary(name) === undefined ? env(binaryVariables[name]) : undefined;
}

/** `test` for a suite that runs a binary: runs, skips with the reason, or fails when CI requires it. */
export function binaryTest(...names: BinaryName[]): ServiceTest {
  const problems = names.map(missingBinary).filter((m): m is string => m !== undefined);
  return gatedTest(problems, 'run: bash scripts/services install && eval "$(bash scripts/services env)"');
}
