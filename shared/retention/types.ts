// What the retention sweep and restore take and return.
import type { ObjectStore } from '../archive/index.ts';
import type { Database } from '../db/index.ts';
import type { JobLogger, Publish, Trigger } from '../jobs/index.ts';
import type { Registry } from 'prom-client';
import type { RetentionPolicy } from './policy.ts';

export interface RetentionOptions {
  /** Rows per Parquet file of a raw day (a file is held in memory while it is written and read back). */
  rowsPerPart: number;
  /** Rows per Parquet row group (held decoded while written or read). */
  rowsPerGroup: number;
  /** Retries of a unit after a retriable failure (S3 or PostgreSQL unreachable), in the same run. */
  retries: number;
  /** First retry delay; doubled for each further retry. */
  retryBaseMs: number;
  /** A run takes no new unit once it has run this long. */
  timeoutMs: number;
  /**
   * A job lock not refreshed for this long is stale and may be taken over. The sweep refreshes it every quarter
   * of this while it works, a long unit included (keepJobLock in shared/jobs).
   */
  lockLeaseMs: number;
  /** The longest a drop waits for the partition's lock before giving up (and trying again next run). */
  lockTimeoutMs: number;
  /** Rows deleted per statement from the bookkeeping tables. */
  deleteBatchRows: number;
}

export const DEFAULT_RETENTION_OPTIONS: RetentionOptions = {
  // 250k rows (~8 MiB of Parquet): with the old space capped as stack.yml deploys it, peak RSS 167 MiB on a
  // 900k-row day against 194 MiB at 500k, for the same CPU
  rowsPerPart: 250_000,
  // 10k: the group's arrays and objects stay in V8's young generation; at 50k the heap grew by ~100 MiB
  // for no gain in speed (measured on a 900k-row day: peak RSS 200 MiB at 10k, 290 MiB at 50k)
  rowsPerGroup: 10_000,
  retries: 3,
  retryBaseMs: 1_000,
  timeoutMs: 3_600_000,
  lockLeaseMs: 3_660_000,
  lockTimeoutMs: 10_000,
  deleteBatchRows: 10_000,
};

/** Points a crash test stops at (kill -9): each must leave a state the next sweep finishes. */
export type RetentionStep =
  | 'part-uploaded'
  | 'parts-uploaded'
  | 'manifest-written'
  | 'verified'
  | 'drop-locked'
  | 'dropped'
  | 'aggregate-exported'
  | 'aggregate-deleted'
  | 'restore-inserted'
  | 'restored';

export interface RetentionHooks {
  /** Called at each step with the unit (e.g. '2026-10-01'); tests stop the process here. */
  step?: (step: RetentionStep, unit: string) => void | Promise<void>;
  /**
   * Called with each object right after it is written and before it is read back; a test replaces an
   * object here to play a disk that rots.
   */
  afterPut?: (key: string) => void | Promise<void>;
}

export interface RetentionDeps {
  db: Database;
  store: ObjectStore;
  policy: RetentionPolicy;
  log?: JobLogger;
  /** Decides what is past retention and when restored days expire (tests inject one). */
  clock?: () => Date;
  publish?: Publish;
  hooks?: RetentionHooks;
  /** Where the sweep's run metrics go (the process registry in a function; absent = not recorded). */
  metrics?: Registry;
  options?: Partial<RetentionOptions>;
}

export type UnitKind =
  'raw' | 'aggregate' | 'reports' | 'dead_letters' | 'runs' | 'dedup_keys' | 'request_keys' | 'kafka_claims';

/** What the sweep does with a unit. */
export type UnitAction =
  /** export to Parquet, verify, then remove the live data */
  | 'archive'
  /** the unit's archive exists (a restored day): verify it against the live data, then remove */
  | 'reverify'
  /** remove without a copy (archival disabled) or delete rows that are not archived (bookkeeping) */
  | 'delete'
  /** past retention but kept, for the reason given */
  | 'keep';

export type UnitOutcome = 'planned' | 'done' | 'kept' | 'failed' | 'not_reached';

export interface UnitEntry {
  kind: UnitKind;
  /** e.g. '2026-10-01' (raw), 'hour/2026-10' (aggregate), 'before 2026-09-01T00:00:00Z' (bookkeeping). */
  unit: string;
  range: { from: string | null; to: string };
  rows: number;
  /** Bytes the unit takes in the database (null where not known), and in the archive once written. */
  bytes: number | null;
  archiveBytes?: number;
  action: UnitAction;
  outcome: UnitOutcome;
  /** Why a unit is kept or failed. */
  reason?: string;
  error?: { code: string; message: string };
  attempts?: number;
  /** The manifest of the archive (raw and aggregate units). */
  manifest?: string;
  /**
   * Rows this run wrote to a verified archive (set once the unit is done): an archive, or a restored day whose
   * archive no longer verified and was written again. Absent when nothing was written (reverify, delete).
   */
  archivedRows?: number;
  durationMs?: number;
}

export type SweepStatus = 'planned' | 'succeeded' | 'partial' | 'failed' | 'already_running' | 'timed_out';

export interface SweepRequest {
  trigger: Trigger;
  dryRun?: boolean;
  /** Overrides deps.clock for this run. */
  now?: Date;
}

export interface SweepSummary {
  status: SweepStatus;
  dryRun: boolean;
  /** 0 for a dry run (not recorded in the runs ledger). */
  runId: number;
  now: string;
  cutoffs: Record<string, string>;
  archival: boolean;
  location: string;
  units: UnitEntry[];
  totals: {
    /** Rows written to verified archives by this run. */
    archivedRows: number;
    /** Rows of restored days removed again after their existing archive verified (not written anew). */
    reverifiedRows: number;
    removedRows: number;
    droppedPartitions: number;
    deletedRows: number;
    failed: number;
  };
  durationMs: number;
  error?: { code: string; message: string };
}
