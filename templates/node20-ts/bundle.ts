// Bundles one handler with this template's server into a self-contained folder that runs with plain
// `node index.js` (no TS loader, no node_modules): index.js, package.json + package-lock.json (no
// dependencies, so `npm ci --omit=dev` is a no-op check), the migrations and PGlite's runtime assets, and —
// for a function that renders reports — resvg's native binding and pdfmake's Roboto fonts; for the status
// function, the web dashboard's browser libraries.
// Used by scripts/build.ts (every function, for this machine) and by the Dockerfile's build stage (one
// function, for the image's platform):
//   node --import tsx templates/node20-ts/bundle.ts [--target <os>/<arch>[/<libc>]] <handler.ts> <outDir> [functionName]
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import {
  assetSourcePath,
  BUNDLED_ASSETS_DIR,
  DASHBOARD_ASSETS,
} from '../../shared/status/dashboard/assets.ts';
import {
  type BundleTarget,
  hostTarget,
  parseTarget,
  resvgBindingPath,
  TARGET_FORM,
} from './native-binding.ts';

const TEMPLATE_DIR = fileURLToPath(new URL('.', import.meta.url));

/**
 * Packages left out of the bundle: optional native add-ons their users load inside try/catch (pg-native,
 * vega's canvas), and resvg's per-platform binding packages — resvg loads `./resvgjs.<platform>.node` from
 * beside the bundle first, which is where the build copies the binding of the bundle's target.
 */
export const EXTERNAL_PACKAGES = ['pg-native', 'canvas', '@resvg/resvg-js-*'];
/** Files PGlite loads next to its module via `new URL('./x', import.meta.url)`: copied next to index.js. */
export const PGLITE_ASSETS = ['pglite.wasm', 'pglite.data', 'initdb.wasm'];
/** @bsull/augurs modules whose WASM shared/capacity/augurs.ts reads from beside index.js once bundled. */
export const AUGURS_MODULES = ['mstl'];

// ESM output still contains CommonJS dependencies (pg, kafkajs, pino): give them require/__dirname.
const BANNER = [
  "import { createRequire as __hxpCreateRequire } from 'node:module';",
  "import { fileURLToPath as __hxpFileURLToPath } from 'node:url';",
  'const require = __hxpCreateRequire(import.meta.url);',
  'const __filename = __hxpFileURLToPath(import.meta.url);',
  "const __dirname = __hxpFileURLToPath(new URL('.', import.meta.url));",
].join('\n');

export interface BundleOptions {
  /** The function's handler module (handler.ts). */
  handlerPath: string;
  /** Emptied and filled with the runnable function. */
  outDir: string;
  functionName: string;
  /** The shared/db/migrations folder to ship (MIGRATIONS_DIR resolves to <outDir>/migrations/ once bundled). */
  migrationsDir?: string | undefined;
  minify?: boolean;
  /** The os/arch/libc the bundle will run on, whose native bindings it ships; default: this machine. */
  target?: BundleTarget | undefined;
}

export interface BundleResult {
  outDir: string;
  files: string[];
  bytes: number;
}

function pgliteDistDir(fromDir: string): string {
  const require = createRequire(join(fromDir, 'noop.js'));
  return dirname(require.resolve('@electric-sql/pglite'));
}

/**
 * Copies next to a bundle what its bundled packages load from disk at run time: PGlite's wasm/data, resvg's
 * native binding for `target` (only that one, and an error when it is not installed: the bundle would start
 * nowhere else), pdfmake's Roboto fonts (shared/reports/render/fonts.ts looks in fonts/ beside the bundle), augurs' WASM
 * (shared/capacity/augurs.ts reads it from beside the bundle), the web dashboard's browser libraries
 * (shared/status/dashboard/assets.ts looks in ui-assets/).
 * `inputs` are esbuild's metafile inputs; packages resolve from `fromDir`. Returns the files written.
 */
export async function copyRuntimeAssets(
  inputs: readonly string[],
  fromDir: string,
  outDir: string,
  target: BundleTarget = hostTarget(),
): Promise<string[]> {
  const files: string[] = [];
  const resolveFrom = createRequire(join(fromDir, 'noop.js'));
  if (inputs.some((p) => p.includes('@electric-sql/pglite/'))) {
    const dist = pgliteDistDir(fromDir);
    for (const asset of PGLITE_ASSETS) {
      await copyFile(join(dist, asset), join(outDir, asset));
      files.push(asset);
    }
  }
  if (inputs.some((p) => p.includes('@resvg/resvg-js/'))) {
    const binding = resvgBindingPath(fromDir, target);
    await copyFile(binding, join(outDir, basename(binding)));
    files.push(basename(binding));
  }
  if (inputs.some((p) => p.includes('pdfmake/'))) {
    const fonts = dirname(resolveFrom.resolve('pdfmake/fonts/Roboto/Roboto-Regular.ttf'));
    await mkdir(join(outDir, 'fonts'), { recursive: true });
    for (const file of (await readdir(fonts)).filter((f) => f.endsWith('.ttf'))) {
      await copyFile(join(fonts, file), join(outDir, 'fonts', file));
      files.push(`fonts/${file}`);
    }
  }
  for (const name of AUGURS_MODULES) {
    if (!inputs.some((p) => p.includes(`@bsull/augurs/${name}.js`))) continue;
    const asset = `${name}_bg.wasm`;
    await copyFile(join(dirname(resolveFrom.resolve('@bsull/augurs/mstl')), asset), join(outDir, asset));
    files.push(asset);
  }
  // The status function's web dashboard serves vega, vega-lite and vega-embed from files (no CDN).
  if (inputs.some((p) => p.endsWith('shared/status/dashboard/assets.ts'))) {
    await mkdir(join(outDir, BUNDLED_ASSETS_DIR), { recursive: true });
    for (const name of Object.keys(DASHBOARD_ASSETS)) {
      await copyFile(assetSourcePath(name), join(outDir, BUNDLED_ASSETS_DIR, name));
      files.push(`${BUNDLED_ASSETS_DIR}/${name}`);
    }
  }
  return files;
}

export async function bundleFunction(options: BundleOptions): Promise<BundleResult> {
  const handlerPath = resolve(options.handlerPath);
  const outDir = resolve(options.outDir);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const entry = [
    `import * as handlerModule from ${JSON.stringify(handlerPath)};`,
    `import { startFunction } from ${JSON.stringify(join(TEMPLATE_DIR, 'main.ts'))};`,
    `process.env.HXP_FUNCTION_NAME ||= ${JSON.stringify(options.functionName)};`,
    'await startFunction(handlerModule);',
  ].join('\n');
  const result = await build({
    stdin: { contents: entry, loader: 'ts', resolveDir: dirname(handlerPath), sourcefile: 'entry.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(outDir, 'index.js'),
    external: EXTERNAL_PACKAGES,
    banner: { js: BANNER },
    minify: options.minify ?? false,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  const files = [
    'index.js',
    ...(await copyRuntimeAssets(inputs, dirname(handlerPath), outDir, options.target)),
  ];
  if (options.migrationsDir) {
    await mkdir(join(outDir, 'migrations'), { recursive: true });
    for (const file of (await readdir(options.migrationsDir)).filter((f) => f.endsWith('.sql')).sort()) {
      await copyFile(join(options.migrationsDir, file), join(outDir, 'migrations', file));
      files.push(`migrations/${file}`);
    }
  }
  const name = `hxp-batch-${options.functionName}`;
  const pkg = { name, version: '0.0.0', private: true, type: 'module', main: 'index.js', dependencies: {} };
  const lock = { name, version: '0.0.0', lockfileVersion: 3, requires: true, packages: { '': pkg } };
  await writeFile(join(outDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  await writeFile(join(outDir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  files.push('package.json', 'package-lock.json');
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { outDir, files, bytes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const usage = `usage: node --import tsx bundle.ts [--target ${TARGET_FORM}] <handler.ts> <outDir> [functionName]\n`;
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
  const [handlerPath, outDir, functionName] = parsed.positionals;
  if (!handlerPath || !outDir) {
    process.stderr.write(usage);
    process.exit(2);
  }
  const migrationsDir = process.env.MIGRATIONS_DIR;
  try {
    const done = await bundleFunction({
      handlerPath,
      outDir,
      functionName: functionName ?? 'function',
      migrationsDir,
      target: parsed.target,
    });
    process.stdout.write(`${JSON.stringify({ msg: 'bundled', ...done })}\n`);
  } catch (err) {
    // esbuild has printed its own errors; a missing native binding is ours to say, without a stack.
    process.stderr.write(`cannot bundle ${handlerPath}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

function parseCli(args: string[]): { positionals: string[]; target: BundleTarget | undefined } {
  const { values, positionals } = parseArgs({
    args,
    options: { target: { type: 'string' } },
    allowPositionals: true,
  });
  return { positionals, target: values.target === undefined ? undefined : parseTarget(values.target) };
}
