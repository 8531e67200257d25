import type { ConnectRetryOptions } from './connect-retry.ts';
import { openEmbeddedDatabase } from './embedded.ts';
import { openPostgres } from './open-postgres.ts';
import type { Database, DbLogger, PoolFactory } from './types.ts';

export interface DatabaseOptions {
  /** postgres:// URL; absent means the embedded PGlite. */
  url?: string | undefined;
  /** Connections in the pool for a real PostgreSQL (default 10). Embedded mode always uses one. */
  poolSize?: number | undefined;
  /** PGlite data folder in embedded mode; absent keeps it in memory (npm start passes DEFAULT_EMBEDDED_DATA_DIR). */
  embeddedDataDir?: string | undefined;
  /** Builds the pool for a real PostgreSQL (default `pg.Pool`; @neondatabase/serverless's Pool fits too). */
  poolFactory?: PoolFactory | undefined;
  /** Startup retry for a real PostgreSQL; see ConnectRetryOptions for the defaults. */
  connectRetry?: ConnectRetryOptions | undefined;
  /** Told about each connect retry (warn) and the eventual success (info). */
  logger?: DbLogger | undefined;
}

/**
 * Opens the database: a pool on `url` (see openPostgres), or the embedded PGlite when `url` is absent —
 * for the local runtime, tests and tools. Deployed functions never get here without a URL
 * (shared/function-context.ts refuses to start).
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  if (!options.url) return openEmbeddedDatabase({ dataDir: options.embeddedDataDir });
  return openPostgres({ ...options, url: options.url });
}
