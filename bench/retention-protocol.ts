// What bench/retention.ts hands its child process (env BENCH_RETENTION) and reads back from its stdout.
import type { RetentionOptions } from '../shared/retention/types.ts';

export interface RetentionChildConfig {
  databaseUrl: string;
  /** The day to archive (YYYY-MM-DD); its partition is dropped at the end. */
  day: string;
  archiveDir: string;
  options?: Partial<RetentionOptions>;
}

export interface RetentionChildResult {
  rows: number;
  parts: number;
  /** Parquet bytes written (all parts). */
  bytes: number;
  /** Stream out of PostgreSQL, encode, compress, write the parts and the manifest. */
  exportMs: number;
  exportCpuMs: number;
  /** Read every part back, check its SHA-256, decode and compare the figures with the manifest. */
  verifyMs: number;
  verifyCpuMs: number;
  /** Lock, live figures by PostgreSQL, compare, DETACH + DROP. */
  dropMs: number;
  maxRssKiB: number;
}

export const RETENTION_RESULT_PREFIX = 'BENCH_RETENTION ';
