// npm run build: makes every function of stack.yml runnable without TypeScript or node_modules, and
// prepares what faas-cli needs.
//   1. copies templates/ to ./template/ (faas-cli reads templates only from ./template/<lang>)
//   2. bundles each function with esbuild into build/functions/<name>/ (index.js = template server +
//      handler + shared library; migrations/; package.json) — `DATABASE_URL=… node index.js` runs it
// Flags: --only <name>[,<name>]  build some functions;  --check  start each bundle and wait for `listening`.
import { spawn } from 'node:child_process';
import { cp, mkdir, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadStack, type FunctionSpec } from '../runtime/stack.ts';
import { bundleFunction } from '../templates/node20-ts/bundle.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const FUNCTIONS_OUT = join(ROOT, 'build', 'functions');
const MIGRATIONS_DIR = join(ROOT, 'shared', 'db', 'migrations');

/** Copies templates/<lang> to template/<lang> for faas-cli (a fresh copy each time; template/ is gitignored). */
export async function prepareFaasTemplates(root = ROOT): Promise<void> {
  const target = join(root, 'template');
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  await cp(join(root, 'templates'), target, { recursive: true });
}

/** Starts a built function on a free port and resolves with the port once it logs `listening`; then stops it. */
export function checkBundle(dir: string, timeoutMs = 15_000): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const child = spawn(process.execPath, [join(dir, 'index.js')], {
      cwd: dir,
      // A function refuses to start without DATABASE_URL; it connects on its first request, so an
      // unreachable placeholder is enough to see it listen.
      env: { DATABASE_URL: 'postgres://build-check@127.0.0.1:1/none', ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${dir}: no "listening" line within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${dir}: exited with code ${code} before listening`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && typeof entry.port === 'number') {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          child.kill('SIGTERM');
          resolvePort(entry.port);
        }
      } catch {
        // not a log line
      }
    });
  });
}

export interface BuildOptions {
  /** Where the function folders go (default build/functions). */
  outDir?: string;
  /** Start each bundle and wait for its `listening` line. */
  check?: boolean;
  log?: (line: string) => void;
}

export async function buildFunctions(functions: FunctionSpec[], options: BuildOptions = {}): Promise<void> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  for (const fn of functions) {
    const started = Date.now();
    const out = await bundleFunction({
      handlerPath: fn.handlerPath,
      outDir: join(options.outDir ?? FUNCTIONS_OUT, fn.name),
      functionName: fn.name,
      migrationsDir: MIGRATIONS_DIR,
    });
    let note = '';
    if (options.check) note = ` — listening on port ${await checkBundle(out.outDir)}`;
    log(
      `built ${fn.name.padEnd(18)} ${relative(ROOT, out.outDir)}/ ${(out.bytes / 1024).toFixed(0)} KiB, ` +
        `${out.files.length} files in ${Date.now() - started} ms${note}`,
    );
  }
}

async function main(argv: string[]): Promise<void> {
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',').filter(Boolean)) : undefined;
  const stack = loadStack(resolve(ROOT, 'stack.yml'));
  const functions = stack.functions.filter((fn) => !only || only.has(fn.name));
  const unknown = [...(only ?? [])].filter((name) => !stack.functions.some((fn) => fn.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `--only ${unknown.join(',')}: not in stack.yml (${stack.functions.map((f) => f.name).join(', ')})`,
    );
  }
  await prepareFaasTemplates();
  process.stdout.write(`copied templates/ to template/ for faas-cli\n`);
  await buildFunctions(functions, { check: argv.includes('--check') });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`build failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
