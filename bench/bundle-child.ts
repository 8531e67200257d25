// The ingest child runs as the functions are deployed: one esbuild bundle started with plain `node`
// (see templates/node20-ts/bundle.ts), so its peak RSS is not inflated by the tsx loader's hook thread.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./ingest-child.ts', import.meta.url));

// ESM output with CommonJS dependencies (pg, kafkajs) inside needs require/__dirname.
export const CHILD_BANNER = [
  "import { createRequire as __benchCreateRequire } from 'node:module';",
  "import { fileURLToPath as __benchFileURLToPath } from 'node:url';",
  'const require = __benchCreateRequire(import.meta.url);',
  'const __filename = __benchFileURLToPath(import.meta.url);',
  "const __dirname = __benchFileURLToPath(new URL('.', import.meta.url));",
].join('\n');

/** Writes the bundle to a fresh temp folder and returns the path of its .mjs. */
export async function bundleIngestChild(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hxp-bench-child-'));
  const outfile = join(dir, 'ingest-child.mjs');
  await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    external: ['pg-native'],
    banner: { js: CHILD_BANNER },
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}
