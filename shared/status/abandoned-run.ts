// A run the ledger still calls 'running' after its invocation died (kill -9, an OOM): the ledger row is only
// corrected by the job's next invocation, which may be a day away, so what shows a run says so meanwhile.
// The job's lock tells: a live invocation refreshes it every quarter of the lease, whatever step it is in.

export interface RunLiveness {
  status: string;
  started_at: Date;
  /** When the job's lock was last refreshed for this run; null when the lock is not held for it. */
  lock_refreshed_at: Date | null;
}

export interface AbandonedRunError {
  code: 'RUN_ABANDONED';
  message: string;
}

/**
 * RUN_ABANDONED for a run running past the job's lease whose lock is no longer refreshed for it; null for a
 * finished run, one within its lease, or one whose invocation is alive in a step longer than the lease.
 */
export function abandonedRunError(
  run: RunLiveness,
  now: Date,
  leaseMs: number | undefined,
): AbandonedRunError | null {
  const runningMs = now.getTime() - new Date(run.started_at).getTime();
  if (run.status !== 'running' || leaseMs === undefined || runningMs <= leaseMs) return null;
  const held = run.lock_refreshed_at;
  if (held !== null && now.getTime() - new Date(held).getTime() <= leaseMs) return null;
  return {
    code: 'RUN_ABANDONED',
    message:
      `running for ${Math.round(runningMs / 1000)} s, past the job's lease of ${Math.round(leaseMs / 1000)} s, ` +
      'its lock no longer refreshed: its invocation ended without finishing it; the next invocation of the job marks it failed',
  };
}
