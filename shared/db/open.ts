import { connectWithRetry, type ConnectRetryOptions } from './connect-retry.ts';
import { openEmbeddedDatabase } from './embedded.ts';
import { createPoolDatabase, pgPoolFactory } from './pool.ts';
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
 * Opens the database: a pool on `url` once one connection succeeded (retrying transient failures, then
 * BatchError DB_CONNECT_FAILED), or the embedded PGlite when `url` is absent.
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  if (!options.url) return openEmbeddedDatabase({ dataDir: options.embeddedDataDir });
  const factory = options.poolFactory ?? pgPoolFactory;
  const pool = factory({ connectionString: options.url, max: options.poolSize ?? 10 });
  // Attach the error listener before the first connect so a dropped idle client cannot crash us.
  const db = createPoolDatabase({ pool });
  try {
    const attempts = await connectWithRetry(pool, options.url, options.connectRetry, options.logger);
    if (attempts > 1) options.logger?.info({ attempts }, 'connected to PostgreSQL after retrying');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return db;
}
