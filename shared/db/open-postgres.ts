// Opens a pool on a real PostgreSQL. Kept apart from open.ts so that what a deployed function bundles
// (shared/function-context.ts) never pulls in PGlite: a function has no embedded fallback to reach for.
import { connectWithRetry, type ConnectRetryOptions } from './connect-retry.ts';
import { createPoolDatabase, pgPoolFactory } from './pool.ts';
import type { Database, DbLogger, PoolFactory } from './types.ts';

export interface PostgresOptions {
  /** postgres:// URL. */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number | undefined;
  /** Builds the pool (default `pg.Pool`; @neondatabase/serverless's Pool fits too). */
  poolFactory?: PoolFactory | undefined;
  /** Startup retry; see ConnectRetryOptions for the defaults. */
  connectRetry?: ConnectRetryOptions | undefined;
  /** Told about each connect retry (warn) and the eventual success (info). */
  logger?: DbLogger | undefined;
}

/** A pool on `url` once one connection succeeded (retrying transient failures, then DB_CONNECT_FAILED). */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const factory = options.poolFactory ?? pgPoolFactory;
  const pool = factory({ connectionString: options.url, max: options.poolSize ?? 10 });
  // Attach the error listener before the first connect so a dropped idle client cannot crash us.
  const db = createPoolDatabase({ pool });
  try {
    const attempts = await connectWithRetry(pool, options.url, options.connectRetry, options.logger);
    if (attempts > 1) options.logger?.info({ attempts }, 'connected to PostgreSQL after retrying');
  } catch (err) {
    // The connect error is what the caller needs; a failure to end the unused pool adds nothing to it.
    await pool.end().catch(() => undefined);
    throw err;
  }
  return db;
}
