// PGlite does not guard its data folder: two instances on one folder (two `npm start`s, or one process
// opening it twice) would both write it and corrupt it. A lock file holding the owner's pid refuses the
// second opener; a lock left by a process that no longer runs is taken over.
import { open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BatchError } from '../errors/index.ts';
import { errorCode } from './errors.ts';

export const LOCK_FILE = 'hxp-batch.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM'; // exists, owned by someone else
  }
}

/** Takes the folder's lock; returns the function that releases it. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = join(resolve(dataDir), LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      // Unlocking a folder whose lock file is already gone (removed by hand) has nothing left to do.
      return () => unlink(file).catch(() => undefined);
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new BatchError(
          'DB_CONNECT_FAILED',
          `the embedded database folder ${resolve(dataDir)} is in use by process ${pid}` +
            `${pid === process.pid ? ' (this one)' : ''}; stop it, or point this one at another folder ` +
            `(delete ${file} only if no such process runs)`,
          { retriable: false, context: { dataDir: resolve(dataDir), pid } },
        );
      }
      await unlink(file).catch(() => undefined); // stale: its owner is gone
    }
  }
  throw new BatchError(
    'DB_CONNECT_FAILED',
    `could not take the lock ${file}; another process keeps taking it`,
    {
      retriable: true,
      context: { dataDir: resolve(dataDir) },
    },
  );
}
