import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { lockDataDir } from './data-dir-lock.ts';
import { createPoolDatabase, pgPoolFactory } from './pool.ts';
import type { Database } from './types.ts';

/** Where `npm start` keeps the embedded database unless configured otherwise. */
export const DEFAULT_EMBEDDED_DATA_DIR = './.data/pglite';

export interface EmbeddedOptions {
  /** Folder for the PGlite data (created if missing); undefined keeps it in memory. */
  dataDir?: string | undefined;
  /** Start from a tarball made by EmbeddedDatabase.dump() instead of an empty cluster (much faster than initdb). */
  loadDataDir?: Blob | undefined;
}

export interface EmbeddedDatabase extends Database {
  /** A tarball of the whole data folder; call it while no query runs. Feed it back as `loadDataDir`. */
  dump(): Promise<Blob>;
}

/**
 * PGlite served to `pg` over a loopback socket. PGlite is one session: connections multiplexed onto it
 * would interleave inside each other's transactions, so both the server and the pool allow exactly one
 * connection, and the pool keeps it open (no idle timeout) so it is never closed and re-opened in a race
 * with the server's one-connection limit. Callers queue for it; see createPoolDatabase for nesting.
 */
export async function openEmbeddedDatabase(options: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
  let unlock = async (): Promise<void> => undefined;
  if (options.dataDir) {
    await mkdir(options.dataDir, { recursive: true });
    unlock = await lockDataDir(options.dataDir);
  }
  const { pglite, server } = await serve(options).catch(async (err: unknown) => {
    await unlock();
    throw err;
  });
  const pool = pgPoolFactory({
    connectionString: `postgres://postgres@${server.getServerConn()}/postgres`,
    max: 1,
    idleTimeoutMillis: 0,
  });
  const db = createPoolDatabase({
    pool,
    embedded: true,
    async onClose() {
      await server.stop();
      await pglite.close();
      await unlock();
    },
  });
  return Object.assign(db, { dump: () => pglite.dumpDataDir('none') });
}

/** Starts PGlite and its one-connection socket server on a free loopback port. */
async function serve(options: EmbeddedOptions): Promise<{ pglite: PGlite; server: PGLiteSocketServer }> {
  const pglite = await PGlite.create({ dataDir: options.dataDir, loadDataDir: options.loadDataDir });
  try {
    const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    return { pglite, server };
  } catch (err) {
    // The start failed already and that error is thrown; a failure to close the half-started PGlite adds nothing.
    await pglite.close().catch(() => undefined);
    throw err;
  }
}
