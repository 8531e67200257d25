// The Database a process uses against the embedded PGlite gate (DATABASE_URL with
// HXP_DB_EMBEDDED_SOCKET=1): one connection, released as soon as it is idle, so the gate can hand
// PGlite's single session to the next process between units of work. See db-gate.ts.
import pg from 'pg';
import { createPoolDatabase } from './pool.ts';
import type { Database } from './types.ts';

export const EMBEDDED_SOCKET_FLAG = 'HXP_DB_EMBEDDED_SOCKET';

export function gatedDatabase(url: string): Database {
  // maxUses 1: a released client is closed, never handed to the next unit of work. Without it pg-pool gave the
  // idle client to a query made within the 1 ms, so a job's back-to-back windows kept PGlite's session for
  // the whole run and every other process (the API, the demo's progress) waited until it ended.
  const pool = new pg.Pool({ connectionString: url, max: 1, idleTimeoutMillis: 1, maxUses: 1 });
  return createPoolDatabase({ pool, embedded: true });
}

/** true when this process was started by the runtime in embedded mode. */
export function usesEmbeddedSocket(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[EMBEDDED_SOCKET_FLAG] === '1';
}
