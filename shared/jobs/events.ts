// Events this module publishes to hxp.batch.events through the injected publish callback.
import type { Level } from '../aggregate/index.ts';

export const BATCH_EVENTS_TOPIC = 'hxp.batch.events';

export interface AggregationCompletedEvent {
  type: 'aggregation.completed';
  level: Level;
  bucket: string;
  rows: number;
  runId: number;
  at: string;
}

export interface RunFailedEvent {
  type: 'run.failed';
  job: string;
  level: Level;
  bucket: string;
  attempts: number;
  errorCode: string;
  error: string;
  runId: number;
  at: string;
}

/** generate-report stored one or more formats of a report (shared/reports). */
export interface ReportGeneratedEvent {
  type: 'report.generated';
  report_type: string;
  period: string;
  period_start: string;
  formats: string[];
  ids: number[];
  runId: number;
  at: string;
}
