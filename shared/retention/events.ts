// Events the retention sweep publishes to hxp.batch.events (through the injected publish callback).
import type { SweepStatus, UnitKind } from './types.ts';

export interface RetentionCompletedEvent {
  type: 'retention.completed';
  runId: number;
  status: SweepStatus;
  archivedRows: number;
  reverifiedRows: number;
  removedRows: number;
  droppedPartitions: number;
  deletedRows: number;
  failed: number;
  at: string;
}

/** One per unit that failed (an archive that did not verify, S3 unreachable after the retries, …). */
export interface RetentionFailedEvent {
  type: 'run.failed';
  job: string;
  kind: UnitKind;
  unit: string;
  attempts: number;
  errorCode: string;
  error: string;
  runId: number;
  at: string;
}
