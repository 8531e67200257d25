export { retentionDepsFrom } from './deps.ts';
export { recordRetentionState, recordSweep } from './metrics.ts';
export { cutoffsAt, policyFrom, type Cutoffs, type RetentionPolicy } from './policy.ts';
export { planSweep, type Plan, type PlannedUnit } from './plan.ts';
export {
  MAX_RESTORE_DAYS,
  RESTORE_JOB,
  restoreArchivedDays,
  type RestoreRequest,
  type RestoreSummary,
  type RestoredDay,
} from './restore.ts';
export {
  handleRetentionRequest,
  RETENTION_ROUTES,
  type RetentionAnswer,
  type RetentionRequest,
  type RetentionRouteDeps,
} from './routes.ts';
export { retentionStatus, type RetentionStatus } from './status.ts';
export { storageUsage, type StorageUsage } from './storage.ts';
export { RETENTION_JOB, runRetentionSweep } from './sweep.ts';
export { archivedRawDays, listArchives, removedUnitsOverlapping, type ArchiveRow } from './archives-sql.ts';
export type { RetentionCompletedEvent, RetentionFailedEvent } from './events.ts';
export {
  DEFAULT_RETENTION_OPTIONS,
  type RetentionDeps,
  type RetentionHooks,
  type RetentionOptions,
  type RetentionStep,
  type SweepRequest,
  type SweepSummary,
  type UnitEntry,
} from './types.ts';
