// What a function image may hold: functions/, shared/ and templates/ are what a build context carries
// (stack.yml's configuration.copy), so none of them may import the local runtime (runtime/, with the demo
// generator), the tests, the benchmark or the scripts. faas-cli-build.test.ts checks the built contexts.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import test from 'ava';

const ROOT = resolve(import.meta.dirname, '../..');
const SHIPPED = ['functions', 'shared', 'templates'];
const NEVER_SHIPPED = ['runtime', 'test', 'bench', 'scripts'];

async function typescriptFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

/** Relative specifiers of static imports/re-exports and dynamic import() calls. */
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(
    /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm,
  )) {
    found.push(m[1]!);
  }
  return found;
}

test('the import scanner sees static, re-exported and dynamic imports', (t) => {
  const source = [
    "import { a } from '../x.ts';",
    "export { b } from './y.ts';",
    "import './side-effect.ts';",
    "const c = await import('../../runtime/z.ts');",
    "import pkg from 'pg';",
  ].join('\n');
  t.deepEqual(relativeImports(source), ['../x.ts', './y.ts', './side-effect.ts', '../../runtime/z.ts']);
});

test('nothing in functions/, shared/ or templates/ imports runtime/, test/, bench/ or scripts/', async (t) => {
  const offenders: string[] = [];
  let files = 0;
  for (const dir of SHIPPED) {
    for (const file of await typescriptFiles(dir)) {
      files += 1;
      for (const spec of relativeImports(await readFile(file, 'utf8'))) {
        const target = relative(ROOT, resolve(dirname(file), spec));
        const top = target.split('/')[0]!;
        if (NEVER_SHIPPED.includes(top) || target.startsWith('..')) {
          offenders.push(`${relative(ROOT, file)} imports ${spec}`);
        }
      }
    }
  }
  t.true(files > 50, `scanned ${files} files`);
  t.deepEqual(offenders, []);
});
