export type { Database, Queryable } from './types.ts';
export { openDatabase, type DatabaseOptions } from './open.ts';
export { migrate, loadMigrations, type Migration } from './migrate.ts';
export { inTransaction } from './transaction.ts';
