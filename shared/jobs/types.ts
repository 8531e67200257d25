// What the aggregation jobs take and return. Plain options: the mapping from shared/config comes later.
import type { Database } from '../db/index.ts';
import type { Level, WeekStart } from '../aggregate/index.ts';
import type { Registry } from 'prom-client';
import type { EventCause } from './events.ts';
import type { Trigger } from './ledger.ts';

export interface AggregationJobOptions {
  /** IANA zone of day/week/month buckets (default UTC); any offset, see shared/aggregate/quarters.ts. */
  timeZone: string;
  weekStart: WeekStart;
  /** Retries of a failed window after its first attempt (default 3). */
  retries: number;
  /** Earliest retry after a failure, in ms (default 300 000). */
  retryDelayMs: number;
  /**
   * A run takes no new window (or batch of hours, HOURS_PER_TRANSACTION) once it has run this long; what it
   * has taken finishes, each in its own transaction.
   */
  timeoutMs: number;
  /**
   * A job lock not refreshed for this long is stale and may be taken over (default timeoutMs + 60 s). A run
   * refreshes it every quarter of this while it works, a long window included (keepJobLock), so it bounds how
   * long a crashed run blocks the job, not how long a window may take.
   */
  lockLeaseMs?: number;
  /**
   * Windows (or batches of hours) recomputed at the same time, each in its own transaction on its own
   * connection (default DEFAULT_WINDOW_CONCURRENCY). The embedded database has one connection and always takes
   * one at a time.
   */
  concurrency?: number;
}

/**
 * Three windows at once. A rollup's statement cannot use parallel workers (it writes), so one at a time
 * leaves the server's other cores idle, and each window also waits on round trips and its commit's WAL flush,
 * which a further window fills (on the 2-core benchmark machine 3 beat 2 by ~10 %, as 2 beat 1 by ~40 %, when
 * hours were computed in SQL too). Hours are added up in Node now (shared/aggregate/range-state.ts), one
 * thread for all windows: the 1M benchmark's hours took 4.7, 4.5 and 4.4 s with 1, 2 and 3 at once.
 * Windows are independent, and the rows they share (the parent windows they re-open, then the job lock they
 * refresh) are always locked in the same order, so concurrent windows may wait for each other briefly at the
 * end but never deadlock.
 */
export const DEFAULT_WINDOW_CONCURRENCY = 3;

/**
 * Due hours recomputed in one transaction (shared/jobs/window.ts, processWindowBatch). An hour of the 1M
 * benchmark took ~11 ms of which ~5 were its bookkeeping round trips (ledger row, changed_seq, delete, mark,
 * heartbeat, BEGIN/COMMIT), paid once per batch instead. A cron tick usually finds one hour due, which runs on
 * its own as before; a catch-up or backfill finds many. Eight keeps a batch of the 10M benchmark's busiest
 * hours under a second and lets three workers share a day's hours.
 */
export const HOURS_PER_TRANSACTION = 8;

export const DEFAULT_JOB_OPTIONS: AggregationJobOptions = {
  timeZone: 'UTC',
  weekStart: 'monday',
  retries: 3,
  retryDelayMs: 300_000,
  timeoutMs: 3_600_000,
};

/** pino's call shape: (object, message). */
export interface JobLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type Publish = (
  topic: string,
  key: string,
  value: object,
  headers?: Record<string, string>,
) => Promise<void>;

export interface JobDeps {
  db: Database;
  log?: JobLogger;
  /** The clock deciding which windows are closed and when retries are due (tests inject one). */
  clock?: () => Date;
  publish?: Publish;
  /** Where each run's metrics go (the process registry in a function; absent = not recorded). */
  metrics?: Registry;
  options: AggregationJobOptions;
}

export interface BeforeAggregateResult {
  rowsIn: number;
  lag?: number;
  /** Records whose event was stored before, by any path (recorded in the run's details). */
  duplicates?: number;
  /** The duplicates whose id was stored before with other content (each a dead letter). */
  conflictingDuplicates?: number;
  rejected?: number;
  /** llm_request records whose cost was inferred from the price table, and those it had no price for. */
  costInferred?: number;
  unpriced?: number;
}

export interface RunAggregationRequest {
  level: Level;
  trigger: Trigger;
  /** Backfill range (both or neither): every window of `level` overlapping [from, to) is redone. */
  from?: Date | string;
  to?: Date | string;
  /** Overrides deps.clock for this run. */
  now?: Date;
  /** Hourly entry only: pull ingestion before aggregating (supplied by shared/ingest). */
  beforeAggregate?: () => Promise<BeforeAggregateResult>;
  /** The request id of the invocation, carried by the events this run publishes (see events.ts). */
  requestId?: string;
  /** What caused this run, when an hxp.batch.events message did; logged and kept in the ledger. */
  cause?: EventCause;
  /**
   * false when the level is switched off (aggregation.enabled, aggregation.intervals.*): the run is
   * recorded as skipped and processes no window (the hourly pull still runs, so Kafka does not back up);
   * windows stay due and are caught up once it is on again. A backfill of a switched-off level is refused.
   */
  enabled?: boolean;
}

export interface WindowOutcome {
  level: Level;
  bucket: string;
  end: string;
  /**
   * left_removed: not computed and not failed — the sweep removed the window's own state and part of its
   * source (shared/aggregate/removed-sources.ts); `reason` says which and how to bring it back.
   */
  status: 'succeeded' | 'failed' | 'left_removed';
  attempt: number;
  rowsIn: number;
  rowsOut: number;
  durationMs: number;
  runId: number;
  error?: { code: string; message: string };
  /** true when this failure used up the last retry: the window stays failed until a backfill. */
  exhausted?: boolean;
  /** Why the window was left removed (status left_removed). */
  reason?: string;
}

export type AggregationStatus =
  'succeeded' | 'partial' | 'failed' | 'already_running' | 'timed_out' | 'disabled';

export interface AggregationSummary {
  status: AggregationStatus;
  level: Level;
  runId: number;
  /** Windows that were due (closed and dirty, or failed and due for a retry) when the run started. */
  windowsDue: number;
  windowsDone: number;
  windowsFailed: number;
  /**
   * Windows left removed: their own state and part of their source were removed by the retention sweep, so
   * they stay as the sweep left them (in the archive) — neither done nor failed (WindowOutcome.reason).
   */
  windowsLeftRemoved: number;
  /** Windows a backfill marked dirty. */
  windowsMarked?: number;
  rowsIn: number;
  rowsOut: number;
  durationMs: number;
  windows: WindowOutcome[];
  ingest?: BeforeAggregateResult;
  /** Why the ingestion step before an hourly run failed (the run aggregated what was stored). */
  ingestError?: { code: string; message: string };
  error?: { code: string; message: string };
}
