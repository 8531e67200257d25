// GET /runs?job=&status=&limit=: the newest entries of the runs ledger.
import type { Queryable } from '../db/index.ts';
import { BatchError } from '../errors/index.ts';
import { refuseUnknownParams } from '../http/index.ts';
import { recentRuns, type RunRow } from './sql.ts';

export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'skipped'] as const;
export const MAX_RUNS_LIMIT = 500;

export interface RunsQuery {
  job?: string | undefined;
  status?: string | undefined;
  limit?: string | number | undefined;
}

export function parseRunsQuery(query: RunsQuery): { job?: string; status?: string; limit: number } {
  refuseUnknownParams(query, ['job', 'status', 'limit']);
  const out: { job?: string; status?: string; limit: number } = { limit: 50 };
  if (query.job) out.job = query.job;
  if (query.status) {
    if (!(RUN_STATUSES as readonly string[]).includes(query.status)) {
      throw new BatchError(
        'REQUEST_INVALID',
        `status=${JSON.stringify(query.status)} is not one of ${RUN_STATUSES.join(', ')}`,
        { context: { status: query.status } },
      );
    }
    out.status = query.status;
  }
  if (query.limit !== undefined && query.limit !== '') {
    const n = Number(query.limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_RUNS_LIMIT) {
      throw new BatchError(
        'REQUEST_INVALID',
        `limit=${JSON.stringify(query.limit)} must be a whole number from 1 to ${MAX_RUNS_LIMIT}`,
        { context: { limit: query.limit } },
      );
    }
    out.limit = n;
  }
  return out;
}

export interface RunView {
  id: number;
  job: string;
  trigger: string;
  window: { start: string; end: string | null } | null;
  attempt: number;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  rowsIn: number | null;
  rowsOut: number | null;
  error: { code: string | null; message: string } | null;
}

export function runView(r: RunRow): RunView {
  const started = new Date(r.started_at);
  const finished = r.finished_at === null ? null : new Date(r.finished_at);
  return {
    id: Number(r.id),
    job: r.job,
    trigger: r.trigger,
    window: r.window_start
      ? {
          start: new Date(r.window_start).toISOString(),
          end: r.window_end ? new Date(r.window_end).toISOString() : null,
        }
      : null,
    attempt: r.attempt,
    status: r.status,
    startedAt: started.toISOString(),
    finishedAt: finished?.toISOString() ?? null,
    durationMs: finished ? finished.getTime() - started.getTime() : null,
    rowsIn: r.rows_in === null ? null : Number(r.rows_in),
    rowsOut: r.rows_out === null ? null : Number(r.rows_out),
    error: r.error === null ? null : { code: r.error_code, message: r.error },
  };
}

export async function listRuns(db: Queryable, query: RunsQuery): Promise<{ runs: RunView[]; count: number }> {
  const rows = await recentRuns(db, parseRunsQuery(query));
  const runs = rows.map(runView);
  return { runs, count: runs.length };
}
