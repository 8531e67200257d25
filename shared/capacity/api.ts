// The analyze-capacity function's routes, the same on the gateway (/function/analyze-capacity/…) and on the
// original API port (the runtime maps /capacity/* there):
//   GET  /capacity/analysis[?resource=&series=&points=false]  the newest analysis (made first if none exists)
//   POST /capacity/analysis                                   analyse now (API token)
//   POST /                                                    a cron tick or an hxp.batch.events message
//                                                             (scheduled: once a day), else analyse now (token)
import { z } from 'zod';
import { requireApiToken } from '../auth/index.ts';
import { CAPACITY_ANALYSES } from '../config/index.ts';
import { BatchError } from '../errors/index.ts';
import { matchRoute, refuseUnknownParams, type Route } from '../http/index.ts';
import { eventCause } from '../jobs/index.ts';
import {
  assertCapacityEnabled,
  runCapacityAnalysis,
  type CapacityDeps,
  type CapacityRunResult,
} from './run.ts';
import { latestCapacityAnalysis } from './store-sql.ts';

type Headers = Record<string, string | string[] | undefined>;

export interface CapacityRequest {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Headers;
  body: unknown;
  requestId?: string | undefined;
}

export interface CapacityApiDeps extends CapacityDeps {
  apiToken: string | undefined;
}

export interface CapacityResponse {
  status: number;
  body: unknown;
}

export const CapacityQuery = z.object({
  resource: z
    .enum(CAPACITY_ANALYSES, { error: `resource must be one of ${CAPACITY_ANALYSES.join(', ')}` })
    .optional(),
  series: z.string().min(1).max(200).optional(),
  points: z.enum(['true', 'false'], { error: 'points must be true or false' }).optional(),
});

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function runAnswer(run: CapacityRunResult): CapacityResponse {
  const body = {
    status: run.status,
    run_id: run.runId ?? null,
    reason: run.reason ?? null,
    data_end: run.dataEnd ?? null,
    analyses: run.analyses,
    alerts: run.alerts,
    resources_without_data: run.withoutData,
    duration_ms: run.durationMs,
  };
  if (run.status === 'already_running') {
    return { status: 409, body: { ...body, error: { code: 'JOB_ALREADY_RUNNING', message: run.reason } } };
  }
  return { status: 200, body };
}

async function getAnalysis(req: CapacityRequest, deps: CapacityApiDeps): Promise<CapacityResponse> {
  assertCapacityEnabled(deps.config);
  refuseUnknownParams(req.query, ['resource', 'series', 'points']);
  const parsed = CapacityQuery.safeParse({
    resource: single(req.query.resource),
    series: single(req.query.series),
    points: single(req.query.points),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BatchError('REQUEST_INVALID', `?${String(issue.path[0])}: ${issue.message}`, {
      context: { field: String(issue.path[0]) },
    });
  }
  const { resource, series, points } = parsed.data;
  if (resource && !deps.config.capacityAnalysis.analyses.includes(resource)) {
    throw new BatchError(
      'NOT_FOUND',
      `resource ${resource} is not analysed here; capacityAnalysis.analyses is ${deps.config.capacityAnalysis.analyses.join(',')}`,
      { context: { resource } },
    );
  }
  const filter = { resource, series, points: points !== 'false' };
  let answer = await latestCapacityAnalysis(deps.db, filter);
  if (!answer) {
    // Before the first run, a reader gets one made now rather than an empty answer.
    const run = await runCapacityAnalysis(deps, { trigger: 'http', force: true, requestId: req.requestId });
    if (run.status === 'already_running') return runAnswer(run);
    answer = await latestCapacityAnalysis(deps.db, filter);
  }
  if (!answer) {
    throw new BatchError(
      'NOT_FOUND',
      'no capacity analysis yet: there are no hourly aggregates of the configured resources to analyse',
    );
  }
  if (answer.analyses.length === 0 && (resource || series)) {
    const all = await latestCapacityAnalysis(deps.db, { points: false });
    const names = [
      ...new Set(
        (all?.analyses ?? []).filter((a) => !resource || a.resource === resource).map((a) => a.series),
      ),
    ];
    throw new BatchError(
      'NOT_FOUND',
      `no analysis for${resource ? ` resource=${resource}` : ''}${series ? ` series=${series}` : ''} in run ${answer.run_id}; series: ${names.join(', ') || '(none)'}`,
      { context: { resource, series } },
    );
  }
  return { status: 200, body: answer };
}

/** An empty body, or an empty JSON object; the analysis takes no parameters. */
function isEmptyBody(body: unknown): boolean {
  if (body === undefined || body === null) return true;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString().trim();
    return text === '' || text === '{}';
  }
  return typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0;
}

async function postAnalysis(req: CapacityRequest, deps: CapacityApiDeps): Promise<CapacityResponse> {
  requireApiToken(req.headers, deps.apiToken, 'POST /capacity/analysis');
  // Refused, not ignored: a caller who sends {"resource":"gpu"} expects a gpu analysis, not every resource's.
  if (!isEmptyBody(req.body)) {
    throw new BatchError(
      'REQUEST_INVALID',
      'POST /capacity/analysis takes no body: it analyses every resource of BATCH_PROCESSING_CAPACITY_ANALYSES (GET filters by ?resource=&series=); send none or {}',
      { context: { field: 'body' } },
    );
  }
  return runAnswer(
    await runCapacityAnalysis(deps, { trigger: 'http', force: true, requestId: req.requestId }),
  );
}

/** The function's root: the cron-connector's tick, a Kafka connector delivery, or a plain invocation. */
async function invoke(req: CapacityRequest, deps: CapacityApiDeps): Promise<CapacityResponse> {
  if (header(req.headers, 'x-connector') === 'cron-connector') {
    return runAnswer(
      await runCapacityAnalysis(deps, { trigger: 'cron', force: false, requestId: req.requestId }),
    );
  }
  const topic = header(req.headers, 'x-topic');
  if (topic !== undefined && header(req.headers, 'x-kafka-partition') !== undefined) {
    let event: unknown;
    try {
      event = typeof req.body === 'string' ? (JSON.parse(req.body) as unknown) : req.body;
    } catch {
      return { status: 200, body: { status: 'ignored', reason: 'the message is not JSON' } };
    }
    const e = event as { type?: unknown; level?: unknown } | null;
    if (e?.type !== 'aggregation.completed' || e.level !== 'day') {
      return {
        status: 200,
        body: { status: 'ignored', reason: `not a day's aggregation.completed (${String(e?.type)})` },
      };
    }
    return runAnswer(
      await runCapacityAnalysis(deps, {
        trigger: 'kafka',
        force: false,
        requestId: req.requestId,
        cause: eventCause(event),
      }),
    );
  }
  requireApiToken(req.headers, deps.apiToken, `${req.method} /function/analyze-capacity`);
  return runAnswer(
    await runCapacityAnalysis(deps, { trigger: 'http', force: true, requestId: req.requestId }),
  );
}

type Handler = (req: CapacityRequest, deps: CapacityApiDeps) => Promise<CapacityResponse>;

export const CAPACITY_ROUTES: readonly Route<Handler>[] = [
  { method: 'GET', pattern: '/capacity/analysis', handler: getAnalysis },
  { method: 'POST', pattern: '/capacity/analysis', handler: postAnalysis },
  { method: 'POST', pattern: '/', handler: invoke },
];

export async function handleCapacityRequest(
  req: CapacityRequest,
  deps: CapacityApiDeps,
): Promise<CapacityResponse> {
  const { route } = matchRoute(CAPACITY_ROUTES, req.method, req.path);
  return route.handler(req, deps);
}
