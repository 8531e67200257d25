// Events the jobs publish to hxp.batch.events through the injected publish callback. Every event carries
// the ledger id of the run that emitted it (`runId`) and the request id of the invocation that started the
// chain (`requestId`, also sent as the Kafka header `request-id`). The Kafka connector hands that header to
// the next function as `X-Kafka-request-id`, which the template server takes as the request's id, so every
// log line along the chain carries the same `reqId`; the next run records the event as its `cause`.
import type { Level } from '../aggregate/index.ts';

export const BATCH_EVENTS_TOPIC = 'hxp.batch.events';

/** Kafka header of hxp.batch.events messages that carries the chain's request id. */
export const CHAIN_HEADER = 'request-id';

interface ChainFields {
  /** The emitting run's id in the runs ledger. */
  runId: number;
  /** The request id of the invocation that started the chain, when known. */
  requestId?: string;
  at: string;
}

export interface AggregationCompletedEvent extends ChainFields {
  type: 'aggregation.completed';
  level: Level;
  bucket: string;
  rows: number;
}

export interface RunFailedEvent extends ChainFields {
  type: 'run.failed';
  job: string;
  level: Level;
  bucket: string;
  attempts: number;
  errorCode: string;
  error: string;
}

/** analyze-capacity: a forecast crosses its threshold within capacityAnalysis.alertHorizonDays. */
export interface CapacityAlertEvent extends ChainFields {
  type: 'capacity.alert';
  resource: string;
  /** 'fleet' or the host/source. */
  series: string;
  unit: string;
  threshold: number;
  limit: number;
  /** Days to the threshold: point forecast, earliest (95 % band's upper edge), latest (its lower edge). */
  daysToThreshold: { point: number | null; earliest: number | null; latest: number | null };
  crossingAt: string | null;
  /** The first recommendation's sentence, with its arithmetic. */
  recommendation: string | null;
}

/** What a run caused by an event records about it (logged on its summary line, kept in the ledger). */
export interface EventCause {
  type: string;
  runId?: number;
  requestId?: string;
}

/** The cause of a run started by `event` (any hxp.batch.events message), or undefined when it is none. */
export function eventCause(event: unknown): EventCause | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const { type, runId, requestId } = event as Record<string, unknown>;
  if (typeof type !== 'string') return undefined;
  const cause: EventCause = { type };
  if (typeof runId === 'number' && Number.isSafeInteger(runId)) cause.runId = runId;
  if (typeof requestId === 'string' && requestId.length <= 200) cause.requestId = requestId;
  return cause;
}

/** The Kafka headers of an event: the chain's request id when it has one. */
export function chainHeaders(event: { requestId?: string | undefined }): Record<string, string> {
  return event.requestId ? { [CHAIN_HEADER]: event.requestId } : {};
}

/** generate-report stored one or more formats of a report (shared/reports). */
export interface ReportGeneratedEvent extends ChainFields {
  type: 'report.generated';
  report_type: string;
  period: string;
  period_start: string;
  formats: string[];
  ids: number[];
}
