// Helpers of the runtime e2e suites: a temp folder with a stack.yml and handler modules, and a runtime
// log that records what it said. Handlers import project modules by absolute path, so they run from /tmp.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { ExecutionContext } from 'ava';
import {
  isolatedRuntimeOptions,
  startRuntime,
  type Runtime,
  type RuntimeOptions,
} from '../../runtime/runtime.ts';
import type { RuntimeLog } from '../../runtime/supervisor.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
export const PG_MODULE = require.resolve('pg');

export interface TempStack {
  dir: string;
  stackFile: string;
  dataDir: string;
  cleanup(): void;
}

export interface FixtureFunction {
  /** Handler source (TypeScript module with a default export). */
  source?: string;
  /** Or a handler folder of the project, e.g. functions/ingest. */
  projectHandler?: string;
  environment?: Record<string, string>;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export function tempStack(functions: Record<string, FixtureFunction>): TempStack {
  const dir = mkdtempSync(join(tmpdir(), 'hxp-rt-'));
  const entries: Record<string, object> = {};
  for (const [name, fn] of Object.entries(functions)) {
    let handler: string;
    if (fn.projectHandler) handler = join(ROOT, fn.projectHandler);
    else {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'handler.ts'), fn.source ?? '');
      handler = `./${name}`;
    }
    entries[name] = {
      lang: 'node20-ts',
      handler,
      image: `test/${name}:latest`,
      environment: { HXP_FUNCTION_NAME: name, LOG_LEVEL: 'warn', ...fn.environment },
      ...(fn.labels ? { labels: fn.labels } : {}),
      ...(fn.annotations ? { annotations: fn.annotations } : {}),
    };
  }
  const stackFile = join(dir, 'stack.yml');
  writeFileSync(stackFile, stringify({ version: 1.0, provider: { name: 'openfaas' }, functions: entries }));
  return {
    dir,
    stackFile,
    dataDir: join(dir, 'pglite'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A runtime on free ports and its own embedded database, serving some of the project's functions
 * (e.g. ['ingest', 'status']), with no external service configured whatever the test's environment says;
 * stopped and removed at teardown.
 */
export async function projectRuntime(
  t: ExecutionContext,
  functions: readonly string[],
  options: Partial<Omit<RuntimeOptions, 'log'>> = {},
): Promise<Runtime> {
  const stack = tempStack(
    Object.fromEntries(functions.map((name) => [name, { projectHandler: `functions/${name}` }])),
  );
  return startTestRuntime(t, stack, { PROMETHEUS_PUSHGATEWAY_URL: '' }, options);
}

export interface RecordingLog extends RuntimeLog {
  lines: Array<{ level: string; msg: string; obj: object }>;
}

export function recordingLog(): RecordingLog {
  const lines: RecordingLog['lines'] = [];
  const push = (level: string) => (obj: object, msg: string) => void lines.push({ level, msg, obj });
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

export async function until<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The runtime on the real PostgreSQL database `databaseUrl` and the real Kafka `brokers` (free ports, no cron
 * timers, function output dropped), stopped at teardown.
 */
export async function startServiceRuntime(
  t: ExecutionContext,
  options: {
    stackFile: string;
    databaseUrl: string;
    brokers: string[];
    env?: Record<string, string>;
    kafka: RuntimeOptions['kafka'];
    log?: RuntimeLog;
  },
): Promise<Runtime> {
  const rt = await startRuntime({
    stackFile: options.stackFile,
    gatewayPort: 0,
    apiPort: 0,
    cronTimers: false,
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      KAFKA_BOOTSTRAP_SERVERS: options.brokers.join(','),
      ...options.env,
    },
    ...(options.kafka ? { kafka: options.kafka } : {}),
    log: options.log ?? recordingLog(),
    output: () => undefined,
  });
  t.teardown(() => rt.stop());
  return rt;
}

export const ECHO_HANDLER = `
import type { FunctionContext, FunctionEvent } from ${JSON.stringify(join(ROOT, 'templates/node20-ts/types.ts'))};
export default async (event: FunctionEvent, context: FunctionContext) => {
  const status = Number(event.query.status ?? 200);
  context.status(status).headers({ 'x-echo': 'yes' });
  return { method: event.method, path: event.path, query: event.query, headers: event.headers, body: event.rawBody.toString('utf8'), pid: process.pid };
};
`;

export const RECORDER_HANDLER = `
import type { FunctionContext, FunctionEvent } from ${JSON.stringify(join(ROOT, 'templates/node20-ts/types.ts'))};
const seen: unknown[] = [];
export default async (event: FunctionEvent) => {
  if (event.method === 'GET' && event.path === '/seen') return seen;
  seen.push({ method: event.method, path: event.path, headers: event.headers, body: event.rawBody.toString('utf8') });
  return 'recorded';
};
`;

export const CRASHY_HANDLER = `
import type { FunctionContext, FunctionEvent } from ${JSON.stringify(join(ROOT, 'templates/node20-ts/types.ts'))};
export default async (event: FunctionEvent) => {
  if (event.path === '/crash') setTimeout(() => process.exit(3), 20);
  return { pid: process.pid };
};
`;

/** A function that holds a transaction open for a while through the embedded gate. */
export const TX_HANDLER = `
import { gatedDatabase } from ${JSON.stringify(join(ROOT, 'shared/db/gated.ts'))};
const db = gatedDatabase(process.env.DATABASE_URL!);
export default async () => {
  const me = process.env.HXP_FUNCTION_NAME!;
  return db.transaction(async (client) => {
    await client.query('INSERT INTO gate_marks (who) VALUES ($1)', [me]);
    await new Promise((r) => setTimeout(r, 400));
    const seen = await client.query('SELECT who FROM gate_marks ORDER BY who');
    return { me, seen: seen.rows.map((r: { who: string }) => r.who), flag: process.env.HXP_DB_EMBEDDED_SOCKET ?? null };
  });
};
export const close = () => db.close();
`;

/** Sleeps `?ms=` milliseconds before answering (exec_timeout tests). */
export const SLEEPY_HANDLER = `
export default async (event: { query: Record<string, string> }) => {
  const ms = Number(event.query.ms ?? 0);
  await new Promise((r) => setTimeout(r, ms));
  return { slept: ms };
};
`;

/** Takes `LAZY_START_MS` to load (a slow start), then counts the calls that reach it. */
export const LAZY_HANDLER = `
// A synchronous wait: the module may load as CommonJS, where top-level await is not allowed.
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.LAZY_START_MS ?? 0));
let hits = 0;
export default async (event: { path: string }) => {
  if (event.path === '/hits') return { hits };
  hits += 1;
  return { hits };
};
`;

/**
 * The local runtime on `stack` for one test, on free ports, with its own embedded database and no
 * services or cron timers unless `env` brings them; stopped (and the stack removed) at teardown.
 */
export async function startTestRuntime(
  t: { teardown(fn: () => unknown): void },
  stack: TempStack,
  env: Record<string, string> = {},
  options: Partial<RuntimeOptions> = {},
): Promise<Runtime> {
  t.teardown(() => stack.cleanup());
  const rt = await startRuntime(
    isolatedRuntimeOptions(stack.dataDir, recordingLog(), env, { stackFile: stack.stackFile, ...options }),
  );
  t.teardown(() => rt.stop());
  return rt;
}
