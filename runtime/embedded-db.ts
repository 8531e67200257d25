// Embedded database mode (no DATABASE_URL): the runtime opens PGlite itself, serves it with
// pglite-socket (maxConnections 1) behind the queueing gate (see db-gate.ts), and hands the gate's URL
// to every function process with HXP_DB_EMBEDDED_SOCKET=1. The runtime's own queries go through the
// same gate, with a pool that releases its connection as soon as it is idle.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { lockDataDir } from '../shared/db/data-dir-lock.ts';
import type { Database } from '../shared/db/types.ts';
import { startDbGate, type DbGate } from './db-gate.ts';
import { gatedDatabase } from '../shared/db/gated.ts';

export interface EmbeddedServer {
  /** URL of the gate; give it to function processes. */
  url: string;
  gate: DbGate;
  /** A Database for the runtime's own use, through the gate. */
  db: Database;
  close(): Promise<void>;
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('pglite-socket kept a closed connection for too long');
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function startEmbeddedServer(
  options: { dataDir?: string; preemptIdleMs?: number; onResetFailed?: (err: unknown) => void } = {},
): Promise<EmbeddedServer> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  // PGlite lets two processes open one folder and corrupt it: a second `npm start` here must refuse.
  const unlock = options.dataDir ? await lockDataDir(options.dataDir) : async () => undefined;
  const pglite = await PGlite.create(options.dataDir).catch(async (err: unknown) => {
    await unlock();
    throw err;
  });
  const socket = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await socket.start();
  const [host, port] = socket.getServerConn().split(':');
  const gate = await startDbGate({
    upstreamHost: host ?? '127.0.0.1',
    upstreamPort: Number(port),
    upstreamIdle: () => until(() => socket.getStats().activeConnections === 0),
    resetSession: async () => {
      // pglite-socket rolls back what a client left open; if it did not, roll back here, then clean the
      // session. A failure of either makes the gate refuse the next client (see db-gate.ts).
      if (pglite.isInTransaction()) await pglite.exec('ROLLBACK');
      await pglite.exec('DISCARD ALL');
    },
    ...(options.onResetFailed ? { onResetFailed: options.onResetFailed } : {}),
    ...(options.preemptIdleMs === undefined ? {} : { preemptIdleMs: options.preemptIdleMs }),
  });
  const url = gate.url();
  const db = gatedDatabase(url);
  return {
    url,
    gate,
    db,
    async close() {
      await db.close();
      await gate.close();
      await socket.stop();
      await pglite.close();
      await unlock();
    },
  };
}
