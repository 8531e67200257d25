// Storage usage for data_retention_storage_usage: the database's size and the archive's (from the
// archives table: bytes of every archive written and not superseded), each over its quota.
import type { Queryable } from '../db/index.ts';
import { archivedBytes } from './archives-sql.ts';
import { AGGREGATES_ROOT, RAW_ROOT } from './layout.ts';
import type { RetentionPolicy } from './policy.ts';

export interface StorageFigure {
  bytes: number;
  quota: number;
  /** bytes / quota */
  ratio: number;
}

export interface StorageUsage {
  database: StorageFigure;
  archive: StorageFigure & { byPrefix: Record<string, number> };
}

export async function storageUsage(db: Queryable, policy: RetentionPolicy): Promise<StorageUsage> {
  const { rows } = await db.query<{ bytes: number }>(
    'SELECT pg_database_size(current_database())::int8 AS bytes',
  );
  const database = Number(rows[0]?.bytes ?? 0);
  const archived = await archivedBytes(db);
  const byPrefix = {
    [RAW_ROOT.slice(0, -1)]: archived.raw,
    [AGGREGATES_ROOT.slice(0, -1)]: archived.aggregate,
  };
  const archive = archived.raw + archived.aggregate;
  const { databaseBytes, archiveBytes } = policy.quota;
  return {
    database: { bytes: database, quota: databaseBytes, ratio: database / databaseBytes },
    archive: { bytes: archive, quota: archiveBytes, ratio: archive / archiveBytes, byPrefix },
  };
}
