// The ingest child runs as the functions are deployed: one esbuild bundle started with plain `node`
// (see templates/node20-ts/bundle.ts), so its peak RSS is not inflated by the tsx loader's hook thread.
// `--ingest-before <ref>` also bundles the ingest child of another commit, so that one run measures the
// ingest code before and after a change on the same data, the same machine and the same minute.
import { spawn } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./ingest-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));

// ESM output with CommonJS dependencies (pg, kafkajs) inside needs require/__dirname.
export const CHILD_BANNER = [
  "import { createRequire as __benchCreateRequire } from 'node:module';",
  "import { fileURLToPath as __benchFileURLToPath } from 'node:url';",
  'const require = __benchCreateRequire(import.meta.url);',
  'const __filename = __benchFileURLToPath(import.meta.url);',
  "const __dirname = __benchFileURLToPath(new URL('.', import.meta.url));",
].join('\n');

async function bundle(entry: string, dir: string): Promise<string> {
  const outfile = join(dir, `${basename(entry, '.ts')}.mjs`);
  await build({
    entryPoints: [entry],
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

/** Writes the bundle to a fresh temp folder and returns the path of its .mjs. */
export function bundleIngestChild(): Promise<string> {
  return bundleChild(ENTRY);
}

/** Bundles a child entry (a bench/*-child.ts) the same way into a fresh temp folder; returns its .mjs. */
export async function bundleChild(entry: string): Promise<string> {
  return bundle(entry, await mkdtemp(join(tmpdir(), 'hxp-bench-child-')));
}

function run(command: string, args: readonly string[], stdin?: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    if (stdin) stdin.pipe(child.stdin);
    else child.stdin.end();
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${command} ${args.join(' ')} failed (${code}): ${err.trim()}`)),
    );
  });
}

export interface RefBundle {
  ref: string;
  /** The commit the ref named when the bundle was made. */
  commit: string;
  bundle: string;
}

/**
 * The ingest child of another commit (a branch, tag or hash), bundled like ours: its tree is exported with
 * `git archive` into a temp folder (the repository and its worktrees are not touched) and built against
 * this checkout's node_modules. The commit must have bench/ingest-child.ts speaking BENCH_RESULT.
 */
export async function bundleIngestChildAt(ref: string): Promise<RefBundle> {
  const commit = (
    await run('git', ['rev-parse', '--verify', `${ref}^{commit}`]).catch(() => {
      throw new Error(`--ingest-before: "${ref}" is not a commit of this repository (try main or a hash)`);
    })
  ).trim();
  const dir = await mkdtemp(join(tmpdir(), 'hxp-bench-before-'));
  const archive = spawn('git', ['archive', '--format=tar', commit], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const archived = new Promise<number | null>((resolve, reject) => {
    archive.once('error', reject);
    archive.once('exit', resolve);
  });
  await run('tar', ['-x', '-C', dir], archive.stdout);
  if ((await archived) !== 0) throw new Error(`git archive ${commit} failed; its stderr is above`);
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const entry = join(dir, 'bench', 'ingest-child.ts');
  const out = await bundle(entry, dir).catch((err: unknown) => {
    throw new Error(
      `--ingest-before ${ref}: cannot bundle ${commit.slice(0, 10)}'s bench/ingest-child.ts (${err instanceof Error ? err.message : String(err)})`,
    );
  });
  return { ref, commit, bundle: out };
}
