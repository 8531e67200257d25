export type { Database, Queryable, PoolConfig, PoolLike, PoolFactory, DbLogger } from './types.ts';
export { openDatabase, type DatabaseOptions } from './open.ts';
export { openPostgres, type PostgresOptions } from './open-postgres.ts';
export { openEmbeddedDatabase, DEFAULT_EMBEDDED_DATA_DIR, type EmbeddedOptions } from './embedded.ts';
export { createPoolDatabase, pgPoolFactory, type PoolDatabaseOptions } from './pool.ts';
export {
  connectWithRetry,
  isRetriableConnectError,
  describeTarget,
  type ConnectRetryOptions,
} from './connect-retry.ts';
export { migrate, loadMigrations, MIGRATIONS_DIR, type Migration, type MigrateOptions } from './migrate.ts';
export { inTransaction } from './transaction.ts';
export { errorCode } from './errors.ts';
export { dropDatabaseForce } from './drop-database.ts';
