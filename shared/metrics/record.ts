// What a finished run and an ingested batch turn into on a registry (the process registry in a function).
// Every job (aggregation, reports, retention, capacity) reports its run the same way, so the original's
// three run metrics mean the same thing for each of them. The metrics are registered on the first
// recording: a process that never runs a job exposes no run gauges (an unset gauge would read 0, which
// an alert on the success rate would take for a failure).
import type { Registry } from 'prom-client';
import { ingestMetrics, metricsRecorded, runMetrics } from './process.ts';

export const RUN_RESULTS = [
  'succeeded',
  'partial',
  'failed',
  'timed_out',
  'already_running',
  'disabled',
] as const;
export type RunResult = (typeof RUN_RESULTS)[number];

export interface RunReport {
  result: RunResult;
  /** Wall time of the run. */
  durationSeconds: number;
  /** Work units due when the run started (windows, reports, archive units). */
  due: number;
  /** Units the run took on (succeeded or failed). */
  attempted: number;
  succeeded: number;
  finishedAt: Date;
}

/** Share of `part` in `whole`, 1 when there was nothing to do (an idle run is not a failing one). */
function share(part: number, whole: number): number {
  return whole <= 0 ? 1 : Math.min(1, Math.max(0, part / whole));
}

export function recordRun(registry: Registry, run: RunReport): void {
  const metrics = runMetrics(registry);
  metrics.runs.inc({ result: run.result });
  const finished = run.finishedAt.getTime() / 1000;
  metrics.lastRun.set(finished);
  // An invocation that found the job locked, or its level switched off, did no work: it must not move the
  // rates of the runs that do.
  if (run.result !== 'already_running' && run.result !== 'disabled') {
    metrics.duration.observe(run.durationSeconds);
    metrics.lastDuration.set(run.durationSeconds);
    metrics.successRate.set(share(run.succeeded, run.attempted));
    metrics.completionRate.set(share(run.attempted, run.due));
    if (run.result === 'succeeded') metrics.lastSuccess.set(finished);
  }
  metricsRecorded(registry);
}

export type IngestVia = 'http' | 'connector' | 'pull' | 'replay';

export interface IngestCounts {
  stored: number;
  /** Events stored before (same id, record or content), by any path; the conflicting ones included. */
  duplicates: number;
  /** The duplicates whose id was stored with other content (each also a dead letter of its own reason). */
  conflictingDuplicates?: number;
  /** Reason code of every rejected event (dead letter) of the batch. */
  rejectedReasons: readonly string[];
}

export function recordIngest(registry: Registry, via: IngestVia, counts: IngestCounts): void {
  const metrics = ingestMetrics(registry);
  const conflicting = counts.conflictingDuplicates ?? 0;
  if (counts.stored > 0) metrics.events.inc({ via, outcome: 'stored' }, counts.stored);
  if (counts.duplicates > conflicting) {
    metrics.events.inc({ via, outcome: 'duplicate' }, counts.duplicates - conflicting);
  }
  if (conflicting > 0) metrics.events.inc({ via, outcome: 'conflicting_duplicate' }, conflicting);
  if (counts.rejectedReasons.length > 0) {
    metrics.events.inc({ via, outcome: 'rejected' }, counts.rejectedReasons.length);
    const byReason = new Map<string, number>();
    for (const reason of counts.rejectedReasons) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    for (const [reason, n] of byReason) metrics.rejected.inc({ via, reason }, n);
  }
  metricsRecorded(registry);
}
