// Helpers of the template / watchdog / faas-cli e2e suites: spawn a process, wait for a log line or a
// port, write fixture handlers into a temp dir, bundle a function outside the repository.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { bundleFunction } from '../../templates/node20-ts/bundle.ts';
import { EMBEDDED_SOCKET_FLAG } from '../../shared/db/gated.ts';
import { startEmbeddedServer } from '../../runtime/embedded-db.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const TEMPLATE_ENTRY = join(ROOT, 'templates/node20-ts/index.ts');
export const MIGRATIONS_DIR = join(ROOT, 'shared/db/migrations');

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface Running {
  child: ChildProcess;
  /** Every stdout/stderr line so far. */
  lines: string[];
  /** JSON lines of stdout. */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the first JSON log line that matches. */
  waitFor(
    match: (entry: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

export function run(
  t: Teardown,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd = ROOT,
  options: { group?: boolean } = {},
): Running {
  // group: the process leads its own process group, so teardown also ends the children it forked
  // (of-watchdog's fprocess) — by this group's id only.
  const child = spawn(command, args, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  const lines: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  const notify = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  let closed = false;
  // 'close' comes after the output streams ended, so no line is missed.
  const exited = once(child, 'close').then(([code]) => {
    closed = true;
    notify();
    return code as number | null;
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('{')) {
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not JSON
        }
      }
      notify();
    });
  }
  t.teardown(() => {
    if (options.group && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    } else if (!closed) {
      child.kill('SIGKILL');
    }
  });
  const waitFor: Running['waitFor'] = (match, timeoutMs = 20_000) =>
    new Promise((resolveEntry, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${lines.join('\n')}`));
      }, timeoutMs);
      const check = (): void => {
        const found = logs.find(match);
        if (found) {
          clearTimeout(timer);
          resolveEntry(found);
        } else if (closed) {
          clearTimeout(timer);
          reject(new Error(`process exited (${child.exitCode}) first; output:\n${lines.join('\n')}`));
        } else {
          waiters.push(check);
        }
      };
      check();
    });
  return { child, lines, logs, waitFor, exited };
}

export const isListening = (entry: Record<string, unknown>): boolean =>
  entry.msg === 'listening' && typeof entry.port === 'number';

export async function tempDir(t: Teardown, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `hxp-${prefix}-`));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a plain-JS handler module into `dir` and returns its path. */
export async function fixtureHandler(dir: string, source: string, name = 'handler.mjs'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, source);
  return path;
}

/** A handler that answers JSON, sleeps on /sleep?ms=N, throws on /boom. */
export const SLEEPY_HANDLER = `
export default async function handle(event, context) {
  if (event.path === '/boom') throw new Error('kaboom with internals');
  if (event.path === '/sleep') {
    const ms = Number(event.query.ms ?? 1000);
    context.log.info({ ms }, 'sleeping');
    await new Promise((r) => setTimeout(r, ms));
    return { slept: ms };
  }
  return { path: event.path, method: event.method, body: event.body, id: context.requestId };
}
`;

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Bundles functions/<handlerFolder> into `<dir>/<name>/` (a temp dir outside the repo: no node_modules above it). */
export async function bundleInto(dir: string, name: string, handlerFolder = name): Promise<string> {
  const out = await bundleFunction({
    handlerPath: join(ROOT, 'functions', handlerFolder, 'handler.ts'),
    outDir: join(dir, name),
    functionName: name,
    migrationsDir: MIGRATIONS_DIR,
  });
  return out.outDir;
}

/** The environment for a function process: no database or Kafka settings leak in from the test env. */
export function functionEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info' };
  return { ...env, SECRETS_DIR: '/nonexistent-hxp-secrets', ...extra };
}

/**
 * The database env a function gets under `npm start` without services: the local runtime's embedded
 * PGlite (in memory here) behind its one-connection gate. A function has no database of its own.
 */
export async function embeddedDatabaseEnv(t: Teardown): Promise<Record<string, string>> {
  const embedded = await startEmbeddedServer();
  t.teardown(() => embedded.close());
  return { DATABASE_URL: embedded.url, [EMBEDDED_SOCKET_FLAG]: '1' };
}
