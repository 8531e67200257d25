// The retention-sweep function's HTTP surface, as one function of (request, deps) → answer, so the handler
// stays thin and tests call it directly. The same paths answer on the gateway (/function/retention-sweep/…)
// and on the original API port (9101):
//   POST /retention/cleanup  {"dry_run": bool}  the plan (dry run) or the sweep's result   — API token
//   POST /                   the scheduled sweep (cron-connector tick: empty body, no token)
//   GET  /retention/status   policy, cutoffs, last and next sweep, archived ranges, storage usage
//   POST /retention/restore  {"from","to","recompute"}  archived days back into raw_events   — API token
import { z } from 'zod';
import { requireApiToken } from '../auth/index.ts';
import { matchRoute, type Route } from '../http/index.ts';
import type { Trigger } from '../jobs/index.ts';
import { restoreArchivedDays } from './restore.ts';
import { retentionStatus } from './status.ts';
import { retentionOptions, runRetentionSweep } from './sweep.ts';
import type { RetentionDeps, SweepSummary } from './types.ts';

export interface RetentionRequest {
  method: string;
  path: string;
  /** Parsed JSON, text, or undefined/'' for none. */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface RetentionAnswer {
  status: number;
  body: unknown;
}

export interface RetentionRouteDeps extends RetentionDeps {
  apiToken: string | undefined;
  /** The sweep's cron schedule (retention.cron), for the next-sweep time. */
  schedule: string;
}

export const CleanupBody = z
  .object({ dry_run: z.boolean({ error: '"dry_run" must be true or false' }).optional() })
  .strict();

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD, e.g. "2026-10-01"');
export const RestoreBody = z
  .object({ from: day, to: day.optional(), recompute: z.boolean().optional() })
  .strict();

/** The body as an object: parsed JSON, JSON text, or nothing. Throws a ZodError-shaped 400 otherwise. */
function objectBody(body: unknown): unknown {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'string') return body;
  if (body.trim() === '') return {};
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body; // the schema refuses it with a message naming the expected shape
  }
}

function header(headers: RetentionRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function triggerOf(req: RetentionRequest): Trigger {
  return header(req.headers, 'x-connector') === 'cron-connector' ? 'cron' : 'http';
}

const SWEEP_STATUS: Record<SweepSummary['status'], number> = {
  planned: 200,
  succeeded: 200,
  already_running: 409,
  partial: 500,
  failed: 500,
  timed_out: 500,
};

type Handler = (req: RetentionRequest, deps: RetentionRouteDeps) => Promise<RetentionAnswer>;

async function sweep(
  req: RetentionRequest,
  deps: RetentionRouteDeps,
  dryRun: boolean,
): Promise<RetentionAnswer> {
  const summary = await runRetentionSweep(deps, { trigger: triggerOf(req), dryRun });
  return { status: SWEEP_STATUS[summary.status], body: summary };
}

/** A dry run only reads (the plan), so it is open like every other read; the sweep itself needs the token. */
const cleanup: Handler = async (req, deps) => {
  const body = CleanupBody.parse(objectBody(req.body));
  const dryRun = body.dry_run === true;
  if (!dryRun) requireApiToken(req.headers, deps.apiToken, 'POST /retention/cleanup');
  return sweep(req, deps, dryRun);
};

/**
 * The scheduled sweep: what the cron-connector posts (an empty body and no token — it cannot send one). So
 * any caller that reaches the function can start it; that is safe because it takes no parameters and does
 * only what the next tick would do anyway (archive, verify and drop what is past retention): a caller can
 * make it happen sooner, never make it remove more.
 */
const scheduled: Handler = async (req, deps) => sweep(req, deps, false);

const routes: Route<Handler>[] = [
  { method: 'POST', pattern: '/retention/cleanup', handler: cleanup },
  { method: 'POST', pattern: '/', handler: scheduled },
  {
    method: 'GET',
    pattern: '/retention/status',
    handler: async (_req, deps) => ({
      status: 200,
      body: await retentionStatus(deps.db, deps.policy, {
        schedule: deps.schedule,
        location: deps.store.location,
        runLeaseMs: retentionOptions(deps).lockLeaseMs,
        now: deps.clock?.() ?? new Date(),
      }),
    }),
  },
  {
    method: 'POST',
    pattern: '/retention/restore',
    handler: async (req, deps) => {
      requireApiToken(req.headers, deps.apiToken, 'POST /retention/restore');
      const body = RestoreBody.parse(objectBody(req.body));
      const summary = await restoreArchivedDays(deps, {
        from: body.from,
        to: body.to ?? body.from,
        recompute: body.recompute === true,
        trigger: 'http',
      });
      return { status: restoreStatus(summary), body: summary };
    },
  },
];

/**
 * 200 every day restored (or live), 207 some; when none could be: 404 if no day had an archive to read (the
 * request named days never archived, ARCHIVE_MISSING), else 500.
 */
function restoreStatus(summary: Awaited<ReturnType<typeof restoreArchivedDays>>): number {
  if (summary.status === 'succeeded') return 200;
  if (summary.status === 'partial') return 207;
  return summary.days.every((d) => d.error?.code === 'ARCHIVE_MISSING') ? 404 : 500;
}

export const RETENTION_ROUTES = routes.map((r) => `${r.method} ${r.pattern}`);

export async function handleRetentionRequest(
  req: RetentionRequest,
  deps: RetentionRouteDeps,
): Promise<RetentionAnswer> {
  const { route } = matchRoute(routes, req.method, req.path);
  return route.handler(req, deps);
}
