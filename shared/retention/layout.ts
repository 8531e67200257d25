// Where archives live in the object store. Keys are relative to the store's root — the local folder
// retention.archival.path, or the bucket (under s3.prefix) — so both hold the same layout:
//   raw/date=YYYY-MM-DD/part-NNNN.parquet          raw events of one UTC day
//   raw/date=YYYY-MM-DD/manifest.json
//   aggregates/level=<level>/month=YYYY-MM/part-NNNN.parquet   aggregate state of one level and month
//   aggregates/level=<level>/month=YYYY-MM/manifest.json
//   reports-expired/month=YYYY-MM/manifest.json    rows of reports deleted past retention (their objects
//                                                   under reports/… are deleted)
// `date=`/`level=`/`month=` are Hive-style, so DuckDB, Spark or Athena read the folders as columns.

export const RAW_ROOT = 'raw/';
export const AGGREGATES_ROOT = 'aggregates/';
export const EXPIRED_REPORTS_ROOT = 'reports-expired/';
export const MANIFEST_FILE = 'manifest.json';

/** The folder of one raw day, e.g. `raw/date=2026-10-01/`. */
export function rawDayFolder(day: string): string {
  return `${RAW_ROOT}date=${day}/`;
}

/** The folder of one aggregate unit, e.g. `aggregates/level=hour/month=2026-10/`. */
export function aggregateFolder(level: string, month: string): string {
  return `${AGGREGATES_ROOT}level=${level}/month=${month}/`;
}

export function partKey(folder: string, index: number): string {
  return `${folder}part-${String(index).padStart(4, '0')}.parquet`;
}

export function manifestKey(folder: string): string {
  return `${folder}${MANIFEST_FILE}`;
}

/** The folder of the manifest of one month of expired reports, e.g. `reports-expired/month=2024-10/`. */
export function expiredReportsFolder(month: string): string {
  return `${EXPIRED_REPORTS_ROOT}month=${month}/`;
}
