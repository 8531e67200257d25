// scripts/build.ts: the faas-cli template copy and the per-function bundles (each started once).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { buildFunctions, prepareFaasTemplates, ROOT } from '../../scripts/build.ts';
import { loadStack } from '../../runtime/stack.ts';

async function scratch(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hxp-build-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('prepareFaasTemplates copies templates/<lang> to template/<lang>, replacing a stale copy', async (t) => {
  const dir = await scratch(t);
  await cp(join(ROOT, 'templates'), join(dir, 'templates'), { recursive: true });
  await cp(join(ROOT, 'templates'), join(dir, 'template', 'stale-lang'), { recursive: true });
  await prepareFaasTemplates(dir);
  t.deepEqual(await readdir(join(dir, 'template')), await readdir(join(dir, 'templates')));
  const yml = await readFile(join(dir, 'template', 'node20-ts', 'template.yml'), 'utf8');
  t.regex(yml, /^language: node20-ts$/m);
  t.regex(yml, /^fprocess: node index\.js$/m);
});

test('buildFunctions writes a runnable, self-contained folder per function and checks it listens', async (t) => {
  const dir = await scratch(t);
  const stack = loadStack(join(ROOT, 'stack.yml'));
  const wanted = stack.functions.filter((fn) => ['status', 'aggregate-monthly'].includes(fn.name));
  t.is(wanted.length, 2);
  const lines: string[] = [];
  await buildFunctions(wanted, { outDir: dir, check: true, log: (l) => lines.push(l) });
  for (const name of ['status', 'aggregate-monthly']) {
    for (const file of ['index.js', 'package.json', 'package-lock.json']) {
      t.true(existsSync(join(dir, name, file)), `${name}/${file}`);
    }
    // A function never runs the embedded database (it needs DATABASE_URL), so PGlite is not in its image.
    for (const file of ['pglite.wasm', 'pglite.data', 'initdb.wasm']) {
      t.false(existsSync(join(dir, name, file)), `${name}/${file} is not shipped`);
    }
    t.true(existsSync(join(dir, name, 'migrations', '000001_initial.sql')));
    const pkg = JSON.parse(await readFile(join(dir, name, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    t.like(pkg, { name: `hxp-batch-${name}`, type: 'module', main: 'index.js', dependencies: {} });
    const bundle = await readFile(join(dir, name, 'index.js'), 'utf8');
    t.false(
      /from ["'](zod|pg|kafkajs|pino|@electric-sql\/pglite)["']/.test(bundle),
      `${name}: libraries are bundled`,
    );
    t.true(bundle.includes(`process.env.HXP_FUNCTION_NAME ||= "${name}"`));
  }
  t.is(lines.length, 2);
  t.true(lines.every((l) => /listening on port \d+/.test(l)));
});
