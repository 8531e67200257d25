// The real faas-cli against stack.yml and the node20-ts template, in a scratch copy of the project:
// `build --shrinkwrap` writes a complete Docker build context per function (checked by replaying the
// Dockerfile's build stage without Docker), and `generate` prints openfaas.com/v1 Function resources.
import { execFile } from 'node:child_process';
import { cp, readFile, readdir, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { envsubst } from '../../runtime/stack.ts';
import { binaryTest, requireBinary } from '../helpers/services.ts';
import { functionEnv, isListening, ROOT, run, tempDir } from './template-helpers.ts';

const exec = promisify(execFile);
const test = binaryTest('faas-cli');

/** The of-watchdog release scripts/services builds and the watchdog tests run. */
const OF_WATCHDOG_RELEASE = /^OF_WATCHDOG_RELEASE=(\S+)/m.exec(
  await readFile(join(ROOT, 'scripts/services'), 'utf8'),
)![1]!;

/** Every file under `dir`, relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

interface StackFunction {
  handler: string;
  image: string;
  environment?: Record<string, string>;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  secrets?: string[];
  limits?: Record<string, string>;
}

/** stack.yml's functions as faas-cli reads them: `${VAR:-default}` expanded (none set in its env here). */
async function stackFunctions(): Promise<Record<string, StackFunction>> {
  const text = envsubst(await readFile(join(ROOT, 'stack.yml'), 'utf8'), {});
  return (parse(text) as { functions: Record<string, StackFunction> }).functions;
}

/** A scratch project: stack.yml, functions/, shared/, the manifests, and templates/ copied to template/. */
async function scratchProject(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await tempDir(t, 'faas');
  for (const path of ['stack.yml', 'functions', 'shared', 'package.json', 'package-lock.json']) {
    await cp(join(ROOT, path), join(dir, path), { recursive: true });
  }
  await cp(join(ROOT, 'templates'), join(dir, 'template'), { recursive: true });
  return dir;
}

async function faasCli(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const bin = requireBinary('faas-cli')!;
  return exec(bin, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd, OPENFAAS_TELEMETRY: '0', ...env },
    maxBuffer: 16 * 2 ** 20,
    timeout: 120_000,
  });
}

test.serial(
  'faas-cli build --shrinkwrap writes a complete build context for every function in stack.yml',
  async (t) => {
    const dir = await scratchProject(t);
    const { stdout } = await faasCli(dir, ['build', '--shrinkwrap', '-f', 'stack.yml']);
    const functions = await stackFunctions();
    const names = Object.keys(functions);
    t.deepEqual((await readdir(join(dir, 'build'))).sort(), [...names].sort());
    for (const [name, fn] of Object.entries(functions)) {
      const ctx = join(dir, 'build', name);
      t.regex(stdout, new RegExp(`${name} shrink-wrapped to`));
      for (const file of [
        'Dockerfile',
        'template.yml',
        'index.ts',
        'main.ts',
        'server.ts',
        'bundle.ts',
        'package.json',
      ]) {
        t.true(existsSync(join(ctx, file)), `${name}: template file ${file}`);
      }
      const handlerFolder = fn.handler.replace('./functions/', '');
      const handlerSource = await readFile(join(ROOT, 'functions', handlerFolder, 'handler.ts'), 'utf8');
      t.is(
        await readFile(join(ctx, 'function', 'handler.ts'), 'utf8'),
        handlerSource,
        `${name}: its own handler`,
      );
      for (const file of [
        'package.json',
        'package-lock.json',
        'shared/function-context.ts',
        'shared/db/migrations/000001_initial.sql',
      ]) {
        t.true(
          existsSync(join(ctx, 'function', file)),
          `${name}: configuration.copy put ${file} in function/`,
        );
      }
      // Only what the function imports: no local runtime, no demo generator, no tests.
      const context = await listFiles(ctx);
      t.deepEqual(
        context.filter((f) => /(^|\/)(runtime|test|bench|scripts)\//.test(f)),
        [],
        `${name}: nothing from runtime/, test/, bench/ or scripts/ in the build context`,
      );
      for (const file of context.filter((f) => f.endsWith('.ts'))) {
        const source = await readFile(join(ctx, file), 'utf8');
        t.notRegex(source, /from ['"][./]*\/?runtime\//, `${name}: ${file} imports nothing from runtime/`);
      }
      const dockerfile = await readFile(join(ctx, 'Dockerfile'), 'utf8');
      t.regex(
        dockerfile,
        new RegExp(
          `^FROM .*ghcr\\.io/openfaas/of-watchdog:${OF_WATCHDOG_RELEASE.replaceAll('.', '\\.')} AS watchdog$`,
          'm',
        ),
        'the image pins the of-watchdog release the tests run (scripts/services OF_WATCHDOG_RELEASE)',
      );
      t.regex(dockerfile, /FROM .*node:20-alpine AS build/);
      t.regex(dockerfile, /npm ci --omit=dev/);
      t.regex(dockerfile, /^USER app$/m);
      t.regex(dockerfile, /fprocess="node index\.js"/);
      t.regex(dockerfile, /mode="http"/);
      t.regex(dockerfile, /upstream_url="http:\/\/127\.0\.0\.1:3000"/);
      t.regex(dockerfile, /^HEALTHCHECK /m);
      t.notRegex(dockerfile, /tsx index|ts-node|--import tsx index/, 'the image runs compiled JavaScript');
    }
  },
);

test.serial(
  'the shrink-wrapped context builds like the Dockerfile says and runs as plain JavaScript',
  async (t) => {
    const dir = await scratchProject(t);
    await faasCli(dir, ['build', '--shrinkwrap', '-f', 'stack.yml']);
    // Replay the build stage: the Dockerfile's COPY lines, node_modules standing in for `npm ci`.
    const ctx = join(dir, 'build', 'aggregate-weekly');
    const src = join(dir, 'src');
    await cp(join(ctx, 'function', 'shared'), join(src, 'shared'), { recursive: true });
    await cp(join(ctx, 'function'), join(src, 'functions', 'handler'), { recursive: true });
    for (const file of await readdir(ctx)) {
      if (file.endsWith('.ts') || file === 'package.json')
        await cp(join(ctx, file), join(src, 'templates', 'node20-ts', file));
    }
    await symlink(join(ROOT, 'node_modules'), join(src, 'node_modules'));
    const out = join(dir, 'out');
    await exec(
      process.execPath,
      ['--import', 'tsx', 'templates/node20-ts/bundle.ts', 'functions/handler/handler.ts', out, 'function'],
      {
        cwd: src,
        env: { ...process.env, MIGRATIONS_DIR: join(src, 'shared/db/migrations') },
        timeout: 120_000,
      },
    );
    for (const file of ['index.js', 'package.json', 'package-lock.json', 'migrations/000001_initial.sql']) {
      t.true(existsSync(join(out, file)), `bundle has ${file}`);
    }
    t.false(existsSync(join(out, 'pglite.wasm')), 'no embedded database in a function image');
    const pkg = JSON.parse(await readFile(join(out, 'package.json'), 'utf8')) as { dependencies: object };
    t.deepEqual(pkg.dependencies, {}, 'nothing to install at run time');
    const fn = run(
      t,
      process.execPath,
      ['index.js'],
      // It connects on its first request; this one is refused before that.
      functionEnv({ PORT: '0', AGGREGATION_LEVEL: 'week', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x' }),
      out,
    );
    const listening = await fn.waitFor(isListening);
    const bad = await fetch(`http://127.0.0.1:${String(listening.port)}/`, {
      method: 'POST',
      body: '{"from":"x"}',
    });
    t.is(bad.status, 400, 'the handler is wired: its zod parse rejects the body');
    fn.child.kill('SIGTERM');
    t.is(await fn.exited, 0);
  },
);

test.serial(
  'faas-cli generate prints one openfaas.com/v1 Function per stack.yml entry, annotations included',
  async (t) => {
    const dir = await scratchProject(t);
    const { stdout } = await faasCli(dir, ['generate', '-f', 'stack.yml']);
    const docs = parseAllDocuments(stdout)
      .map((d) => d.toJS() as Record<string, unknown> | null)
      .filter((d): d is Record<string, unknown> => d !== null);
    const functions = await stackFunctions();
    t.is(docs.length, Object.keys(functions).length);
    for (const doc of docs) {
      t.is(doc.apiVersion, 'openfaas.com/v1');
      t.is(doc.kind, 'Function');
    }
    const byName = new Map(
      docs.map((d) => [(d.metadata as { name: string }).name, d.spec as Record<string, unknown>]),
    );
    for (const [name, fn] of Object.entries(functions)) {
      const spec = byName.get(name);
      if (!spec) {
        t.fail(`no Function for ${name}`);
        continue;
      }
      t.is(spec.name, name);
      t.is(spec.image, fn.image);
      t.deepEqual(spec.annotations ?? {}, fn.annotations ?? {}, `${name}: annotations`);
      t.deepEqual(spec.environment, fn.environment, `${name}: environment`);
      t.deepEqual(spec.secrets, fn.secrets, `${name}: secrets`);
      t.deepEqual(spec.limits, fn.limits, `${name}: limits`);
      t.is(spec.readOnlyRootFilesystem, true, `${name}: read-only root`);
      for (const [key, value] of Object.entries(fn.labels ?? {})) {
        t.is((spec.labels as Record<string, string>)[key], value, `${name}: label ${key}`);
      }
    }
    t.is(
      byName.get('aggregate-monthly')?.annotations &&
        (byName.get('aggregate-monthly')!.annotations as Record<string, string>).schedule,
      '15 0 * * *',
    );
    t.is((byName.get('ingest')?.annotations as Record<string, string>).topic, 'hxp.events.raw');
    t.is((byName.get('aggregate-hourly')?.annotations as Record<string, string>).schedule, '0 * * * *');
  },
);

test.serial(
  "faas-cli generate with the README's deployment variables exported hands every function its services",
  async (t) => {
    const dir = await scratchProject(t);
    // the variables of README "Deploying to a real OpenFaaS", as its example exports them
    const block = /```sh\n(npm run build[\s\S]*?)```/.exec(await readFile(join(ROOT, 'README.md'), 'utf8'));
    const exported: Record<string, string> = {};
    for (const [, assignments] of (block?.[1] ?? '').matchAll(/^export (.+?)(?:\s+#.*)?$/gm)) {
      for (const [, name, value] of assignments!.matchAll(/(\w+)=(\S+)/g)) exported[name!] = value!;
    }
    for (const name of [
      'S3_BUCKET',
      'S3_ENDPOINT',
      'KAFKA_BOOTSTRAP_SERVERS',
      'PROMETHEUS_PUSHGATEWAY_URL',
    ]) {
      t.truthy(exported[name], `the README's example exports ${name}`);
    }
    const { stdout } = await faasCli(dir, ['generate', '-f', 'stack.yml'], exported);
    const specs = parseAllDocuments(stdout)
      .map((d) => d.toJS() as { spec?: { name: string; environment?: Record<string, string> } } | null)
      .flatMap((d) => (d?.spec ? [d.spec] : []));
    t.true(specs.length > 10);
    for (const { name, environment = {} } of specs) {
      t.is(environment.PROMETHEUS_PUSHGATEWAY_URL, exported.PROMETHEUS_PUSHGATEWAY_URL, name);
      if (name !== 'ingest')
        t.is(environment.KAFKA_BOOTSTRAP_SERVERS, exported.KAFKA_BOOTSTRAP_SERVERS, name);
      const archive = ['status', 'generate-report', 'generate-report-cron', 'retention-sweep'].includes(name);
      t.is(environment.S3_BUCKET, archive ? exported.S3_BUCKET : undefined, `${name}: S3_BUCKET`);
      t.is(environment.S3_ENDPOINT, archive ? exported.S3_ENDPOINT : undefined, `${name}: S3_ENDPOINT`);
      if (archive) t.is(environment.S3_PREFIX, '', `${name}: unset is deployed empty`);
    }
  },
);
