// Storage usage for data_retention_storage_usage: the database's size and the object store's (from the
// archives table: bytes of every archive written; and the reports table: bytes of the reports it serves),
// each over its quota.
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

export interface ArchiveStorageFigure extends StorageFigure {
  /** Bytes per key prefix: raw, aggregates, reports. */
  byPrefix: Record<string, number>;
}

export interface StorageUsage {
  database: StorageFigure;
  archive: ArchiveStorageFigure;
}

export async function storageUsage(db: Queryable, policy: RetentionPolicy): Promise<StorageUsage> {
  const { rows } = await db.query<{ bytes: number }>(
    'SELECT pg_database_size(current_database())::int8 AS bytes',
  );
  const database = Number(rows[0]?.bytes ?? 0);
  const archived = await archivedBytes(db);
  // the reports generate-report keeps (reports/…) share the store with the archives
  const reports = await db.query<{ bytes: number }>(
    'SELECT coalesce(sum(size_bytes), 0)::float8 AS bytes FROM reports WHERE location IS NOT NULL',
  );
  const byPrefix = {
    [RAW_ROOT.slice(0, -1)]: archived.raw,
    [AGGREGATES_ROOT.slice(0, -1)]: archived.aggregate,
    reports: Number(reports.rows[0]?.bytes ?? 0),
  };
  const archive = Object.values(byPrefix).reduce((sum, n) => sum + n, 0);
  const { databaseBytes, archiveBytes } = policy.quota;
  return {
    database: { bytes: database, quota: databaseBytes, ratio: database / databaseBytes },
    archive: { bytes: archive, quota: archiveBytes, ratio: archive / archiveBytes, byPrefix },
  };
}
