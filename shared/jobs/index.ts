export { runAggregation, aggregationJobName } from './run-aggregation.ts';
export {
  BATCH_EVENTS_TOPIC,
  CHAIN_HEADER,
  chainHeaders,
  eventCause,
  type AggregationCompletedEvent,
  type CapacityAlertEvent,
  type EventCause,
  type RunFailedEvent,
} from './events.ts';
export { reportRun, type RunOutcome, type RunReportDeps } from './run-report.ts';
export {
  TRIGGERS,
  expireAbandonedRuns,
  finishRun,
  startRun,
  type FinishRun,
  type RunStatus,
  type StartRun,
  type Trigger,
} from './ledger.ts';
export {
  heartbeatJobLock,
  jobLeaseMs,
  LOCK_REFRESHED_AT_COLUMN,
  newLockOwner,
  tryLockJob,
  unlockJob,
} from './lock.ts';
export { keepJobLock, type JobLockKeeper } from './lock-keeper.ts';
export {
  DEFAULT_JOB_OPTIONS,
  DEFAULT_WINDOW_CONCURRENCY,
  type AggregationJobOptions,
  type AggregationStatus,
  type AggregationSummary,
  type BeforeAggregateResult,
  type JobDeps,
  type JobLogger,
  type Publish,
  type RunAggregationRequest,
  type WindowOutcome,
} from './types.ts';
