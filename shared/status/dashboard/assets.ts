// The browser libraries of the web dashboard, served by the status function itself (GET /ui/<file>) so the
// page works offline: vega, vega-lite and vega-embed from node_modules. A bundled function has no
// node_modules: templates/node20-ts/bundle.ts copies these files to <bundle>/ui-assets/, which is looked
// at first.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Served file name → the package file it comes from. Loaded in this order (vega-embed needs the other two). */
export const DASHBOARD_ASSETS: Readonly<Record<string, string>> = {
  'vega.min.js': 'vega/build/vega.min.js',
  'vega-lite.min.js': 'vega-lite/build/vega-lite.min.js',
  'vega-embed.min.js': 'vega-embed/build/vega-embed.min.js',
};

/** The folder next to a bundle's index.js that holds the copies. */
export const BUNDLED_ASSETS_DIR = 'ui-assets';

const cache = new Map<string, Buffer>();

/**
 * The folder of an installed package. Its package.json "exports" hide the build files from require.resolve,
 * so this resolves the package's entry and walks up to the folder whose package.json names it.
 */
function packageDir(pkg: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(pkg));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (manifest.name === pkg) return dir;
    } catch {
      // no package.json here: keep climbing
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the folder of the package ${pkg}`);
    dir = parent;
  }
}

/** Where an asset's package file is in node_modules (for the bundler, and the source layout). */
export function assetSourcePath(name: string): string {
  const spec = DASHBOARD_ASSETS[name];
  if (spec === undefined) throw new Error(`no dashboard asset ${name}`);
  const [pkg, ...rest] = spec.split('/');
  return join(packageDir(pkg!), ...rest);
}

/** The file's bytes, or undefined when `name` is not one of the dashboard's assets. */
export async function readAsset(name: string): Promise<Buffer | undefined> {
  if (!Object.hasOwn(DASHBOARD_ASSETS, name)) return undefined;
  const cached = cache.get(name);
  if (cached) return cached;
  let bytes: Buffer;
  try {
    bytes = await readFile(fileURLToPath(new URL(`./${BUNDLED_ASSETS_DIR}/${name}`, import.meta.url)));
  } catch {
    bytes = await readFile(assetSourcePath(name));
  }
  cache.set(name, bytes);
  return bytes;
}
