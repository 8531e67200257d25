// The end of every run, whatever the job: one summary log line carrying the run id (and, through the
// logger's bindings, the request id that started the chain), and the run's metrics on the process registry.
// Reports, retention and capacity runs end here too, so "run finished" means the same in every function.
import type { Registry } from 'prom-client';
import { recordRun, type RunResult } from '../metrics/index.ts';
import type { Trigger } from './ledger.ts';
import type { JobLogger } from './types.ts';

export interface RunOutcome {
  job: string;
  /** The run's row in the runs ledger. */
  runId: number;
  trigger: Trigger;
  result: RunResult;
  durationMs: number;
  /** Work units due when the run started, taken on, and done (windows, reports, archive units). */
  due: number;
  attempted: number;
  succeeded: number;
  error?: { code: string; message: string } | undefined;
  /** The event that caused this run, when an hxp.batch.events message did (see events.ts). */
  cause?: object | undefined;
  /** Anything else worth one line (rows in/out, the level, …). */
  details?: Record<string, unknown>;
}

export interface RunReportDeps {
  log?: JobLogger | undefined;
  /** Where the run's metrics go (the process registry in a function). */
  metrics?: Registry | undefined;
  clock?: (() => Date) | undefined;
}

export function reportRun(deps: RunReportDeps, outcome: RunOutcome): void {
  const finishedAt = deps.clock?.() ?? new Date();
  if (deps.metrics) {
    recordRun(deps.metrics, {
      result: outcome.result,
      durationSeconds: outcome.durationMs / 1000,
      due: outcome.due,
      attempted: outcome.attempted,
      succeeded: outcome.succeeded,
      finishedAt,
    });
  }
  const level =
    outcome.result === 'failed'
      ? 'error'
      : outcome.result === 'succeeded' || outcome.result === 'already_running'
        ? 'info'
        : 'warn';
  const { details, ...line } = outcome;
  deps.log?.[level]({ ...line, ...details }, 'run finished');
}
