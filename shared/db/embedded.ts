import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { createPoolDatabase } from './pool.ts';
import type { Database } from './types.ts';

export interface EmbeddedOptions {
  /** Folder for the PGlite data; undefined keeps it in memory. */
  dataDir?: string;
}

/**
 * PGlite served to `pg` over a loopback socket. PGlite is one session: connections multiplexed onto it
 * would interleave inside each other's transactions, so the pool holds exactly one connection.
 */
export async function openEmbeddedDatabase(options: EmbeddedOptions = {}): Promise<Database> {
  const pglite = await PGlite.create(options.dataDir);
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0 });
  await server.start();
  const address = server.getServerConn();
  return createPoolDatabase({
    connectionString: `postgres://postgres@${address}/postgres`,
    max: 1,
    embedded: true,
    async onClose() {
      await server.stop();
      await pglite.close();
    },
  });
}
