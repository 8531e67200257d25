// The local runtime's data folder (`--data-dir`, default ./.data) holds everything the embedded default
// keeps on disk: the PGlite database in pglite/ and the local archive (reports, archived raw days) in
// archive/. Both move together, so two runtimes with folders of their own share neither — a report or
// archived day written by one is never overwritten by the other, nor found by its restore.
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { configuredSettings, settings } from '../shared/config/index.ts';
import { BatchError } from '../shared/errors/index.ts';

export const DEFAULT_RUNTIME_DATA_DIR = './.data';

export interface RuntimeDataDirs {
  root: string;
  pglite: string;
  archive: string;
}

export function runtimeDataDirs(dir: string = DEFAULT_RUNTIME_DATA_DIR): RuntimeDataDirs {
  const root = resolve(dir);
  // A PostgreSQL data folder has PG_VERSION at its top: the folder given is a database, not a data folder.
  if (existsSync(join(root, 'PG_VERSION'))) {
    const fix =
      basename(root) === 'pglite'
        ? `give its parent, ${dirname(root)}`
        : `move this one to ${join(root, 'pglite')}`;
    throw new BatchError(
      'CONFIG_INVALID',
      `--data-dir ${root} is an embedded database folder; --data-dir names the folder that holds pglite/ and archive/ (${fix})`,
      { context: { dataDir: root } },
    );
  }
  return { root, pglite: join(root, 'pglite'), archive: join(root, 'archive') };
}

/**
 * `env` with the local archive folder set to `archive`, unless the configuration already names one (in the
 * environment or CONFIG_FILE): a configured path always wins over the data folder's.
 */
export function withArchiveFolder(env: NodeJS.ProcessEnv, archive: string): NodeJS.ProcessEnv {
  if (configuredSettings({ env }).has('retention.archival.path')) return env;
  return { ...env, [settings['retention.archival.path'].env]: archive };
}

/** What a running runtime leaves in its data folder so that `npm run restore` on that folder finds its API. */
const RecordedRuntime = z.object({ pid: z.number().int().positive(), apiUrl: z.string().url() });
export type RecordedRuntime = z.infer<typeof RecordedRuntime>;
const RUNTIME_FILE = 'runtime.json';

/** Records this process's API in the data folder; the returned function removes the record. */
export async function recordRuntime(dirs: RuntimeDataDirs, apiUrl: string): Promise<() => Promise<void>> {
  const file = join(dirs.root, RUNTIME_FILE);
  const record: RecordedRuntime = { pid: process.pid, apiUrl };
  await writeFile(file, `${JSON.stringify(record)}\n`);
  return () => rm(file, { force: true });
}

/**
 * The runtime recorded in the data folder, when it is the process `holder` (the one that holds the embedded
 * database): a record left by a runtime that died is someone else's pid, and is not believed.
 */
export function recordedRuntime(dirs: RuntimeDataDirs, holder: number): RecordedRuntime | undefined {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(dirs.root, RUNTIME_FILE), 'utf8'));
  } catch {
    return undefined; // none, or half written
  }
  const parsed = RecordedRuntime.safeParse(json);
  return parsed.success && parsed.data.pid === holder ? parsed.data : undefined;
}
