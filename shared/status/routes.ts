// The status API as one route table (shared/http matchRoute) of (request, deps) → answer, so the `status`
// handler stays thin and the runtime or a test can call it directly. A new path is one more row.
// Bad requests throw a BatchError (REQUEST_INVALID, NOT_FOUND, METHOD_NOT_ALLOWED): the template answers
// it with the catalogue's status. /metrics answers Prometheus text with its content type.
import { policyFrom, type RetentionPolicy } from '../retention/policy.ts';
import type { Kafka } from 'kafkajs';
import { openObjectStore } from '../archive/index.ts';
import type { BatchProcessingConfig } from '../config/index.ts';
import { s3SettingsFrom } from '../archive/s3-client.ts';
import type { Database, Queryable } from '../db/index.ts';
import type { Registry } from 'prom-client';
import { requireApiToken } from '../auth/index.ts';
import { BatchError } from '../errors/index.ts';
import { jsonBody, matchRoute, refuseUnknownParams, type Route } from '../http/index.ts';
import { jobLeaseMs } from '../jobs/index.ts';
import {
  getDeadLetter,
  listDeadLetters,
  normalizeSettingsFrom,
  replayDeadLetters,
  type ReplayDeps,
} from '../ingest/index.ts';
import { apiOperations, buildOpenApiDocument, type DocumentOptions } from '../openapi/index.ts';
import { queryRoutes } from '../query/api.ts';
import { aggregationStatus, type AggregationStatusOptions } from './aggregation-status.ts';
import { checkHealth, databaseProbe, kafkaProbe, s3Probe, type HealthProbes } from './health.ts';
import { DASHBOARD_ASSETS, readAsset } from './dashboard/assets.ts';
import { dashboardData } from './dashboard/data.ts';
import { renderDashboard } from './dashboard/page.ts';
import { listRuns } from './runs.ts';
import { stateMetrics, type KafkaLagSource } from './state-metrics.ts';

export interface StatusDeps {
  db: Queryable;
  probes: HealthProbes;
  aggregation: Omit<AggregationStatusOptions, 'now'>;
  /** Where /metrics reads the raw topics' lag; absent without Kafka. */
  kafkaLag?: KafkaLagSource | undefined;
  /** What POST /dead-letters/replay stores with: the database, today's ingest settings, the metrics. */
  replay?: ReplayDeps | undefined;
  /** api.token: mutating routes require it as a Bearer token when set. */
  apiToken?: string | undefined;
  /** The retention policy (its quotas): /metrics computes storage usage against it; absent = not reported. */
  retention?: RetentionPolicy | undefined;
  /** The sweep's cron schedule and the archive's location, which the dashboard's retention card shows. */
  retentionSweep?: { schedule: string; location: string; runLeaseMs: number } | undefined;
  clock?: () => Date;
  healthTimeoutMs?: number;
  /** Servers and version of /openapi.json. */
  openApi?: DocumentOptions;
}

export interface StatusRequest {
  method: string;
  /** Path inside the function, e.g. `/health` (a leading `/status` is accepted too). */
  path: string;
  query: Record<string, string | undefined>;
  headers?: Record<string, string | string[] | undefined>;
  body?: unknown;
}

export interface StatusAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface RouteInput {
  req: StatusRequest;
  params: Record<string, string>;
  deps: StatusDeps;
  now: Date;
}

export type StatusRoute = (input: RouteInput) => Promise<StatusAnswer>;

async function health({ req, deps, now }: RouteInput): Promise<StatusAnswer> {
  refuseUnknownParams(req.query, []);
  return checkHealth(deps.probes, {
    now: () => now,
    ...(deps.healthTimeoutMs === undefined ? {} : { timeoutMs: deps.healthTimeoutMs }),
  });
}

async function metrics({ deps, now }: RouteInput): Promise<StatusAnswer> {
  const report = await aggregationStatus(deps.db, { ...deps.aggregation, now });
  const { contentType, text } = await stateMetrics({
    db: deps.db,
    report,
    timeZone: deps.aggregation.timeZone,
    now,
    kafkaLag: deps.kafkaLag,
    retention: deps.retention,
  });
  return { status: 200, body: text, headers: { 'content-type': contentType } };
}

async function dashboard({ deps, now }: RouteInput): Promise<StatusAnswer> {
  return {
    status: 200,
    body: renderDashboard(await dashboardData(deps, now)),
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  };
}

async function asset({ params }: RouteInput): Promise<StatusAnswer> {
  const bytes = await readAsset(params.file!);
  if (bytes === undefined) {
    throw new BatchError(
      'NOT_FOUND',
      `no dashboard asset ${params.file}; there are ${Object.keys(DASHBOARD_ASSETS).join(', ')}`,
    );
  }
  return {
    status: 200,
    body: bytes,
    headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' },
  };
}

/** The status function's routes; GET routes answer HEAD too. */
export const STATUS_ROUTES: readonly Route<StatusRoute>[] = [
  { method: 'GET', pattern: '/', handler: dashboard },
  { method: 'GET', pattern: '/ui/:file', handler: asset },
  { method: 'GET', pattern: '/health', handler: health },
  {
    method: 'GET',
    pattern: '/aggregation/status',
    handler: async ({ req, deps, now }) => {
      refuseUnknownParams(req.query, []);
      return { status: 200, body: await aggregationStatus(deps.db, { ...deps.aggregation, now }) };
    },
  },
  {
    method: 'GET',
    pattern: '/runs',
    handler: async ({ req, deps }) => ({ status: 200, body: await listRuns(deps.db, req.query) }),
  },
  { method: 'GET', pattern: '/metrics', handler: metrics },
  {
    method: 'GET',
    pattern: '/dead-letters',
    handler: async ({ req, deps }) => ({ status: 200, body: await listDeadLetters(deps.db, req.query) }),
  },
  {
    method: 'GET',
    pattern: '/dead-letters/:id',
    handler: async ({ params, deps }) => ({ status: 200, body: await getDeadLetter(deps.db, params.id!) }),
  },
  { method: 'POST', pattern: '/dead-letters/replay', handler: replay },
  // The read side of the aggregates (shared/query) and the API's own description (shared/openapi).
  ...queryRoutes.map(({ method, pattern, handler }): Route<StatusRoute> => ({
    method,
    pattern,
    handler: ({ req, deps, now }) =>
      handler(
        { db: deps.db, timeZone: deps.aggregation.timeZone, now: () => now },
        { query: req.query, headers: req.headers ?? {} },
      ),
  })),
  {
    method: 'GET',
    pattern: '/openapi.json',
    handler: async ({ deps }) => ({
      status: 200,
      body: buildOpenApiDocument(apiOperations, deps.openApi ?? OPENAPI_DEFAULTS),
    }),
  },
];

async function replay({ req, deps }: RouteInput): Promise<StatusAnswer> {
  requireApiToken(req.headers ?? {}, deps.apiToken, 'POST /dead-letters/replay');
  if (!deps.replay)
    throw new BatchError('INTERNAL', 'the status function was started without its ingest settings');
  const body = jsonBody(req.body, 'send {"ids":[12,13]} (the dead letters to replay)');
  return { status: 200, body: await replayDeadLetters(deps.replay, body) };
}

export async function handleStatusRequest(req: StatusRequest, deps: StatusDeps): Promise<StatusAnswer> {
  const path = (req.path.split('?')[0] ?? '/').replace(/^\/status(?=\/|$)/, '') || '/';
  const { route, params } = matchRoute(STATUS_ROUTES, req.method, path);
  return route.handler({ req, params, deps, now: deps.clock?.() ?? new Date() });
}

const OPENAPI_DEFAULTS: DocumentOptions = {
  apiUrl: 'http://127.0.0.1:9101',
  gatewayUrl: 'http://127.0.0.1:8080',
  version: '0.1.0',
};

/**
 * The raw topics' lag is measured against the offsets of the path that stores them: the pull consumer's,
 * stored in PostgreSQL, or under push the connector group's, committed in Kafka (kafka_offsets stays empty).
 */
export function kafkaLagSourceFrom(config: BatchProcessingConfig, kafka: Kafka): KafkaLagSource {
  const push = config.kafka.consumption === 'push';
  return {
    kafka,
    groupId: push ? config.kafka.connectorGroup : config.kafka.consumerGroup,
    topics: config.kafka.topics.raw,
    offsets: push ? 'committed' : 'stored',
  };
}

/** Status deps from the loaded configuration: database always, Kafka and S3 only when configured. */
export function statusDepsFromConfig(
  config: BatchProcessingConfig,
  db: Database,
  options: { kafka?: Kafka | undefined; metrics?: Registry | undefined } = {},
): StatusDeps {
  const { kafka } = options;
  const probes: HealthProbes = { database: databaseProbe(db) };
  if (config.kafka.bootstrapServers?.length)
    probes.kafka = kafkaProbe(config.kafka.bootstrapServers, config.kafka.clientId);
  // The probe reaches S3 the way the archive does (endpoint, credentials, path-style addressing).
  const s3 = s3SettingsFrom(config);
  if (s3) probes.s3 = s3Probe(s3);
  return {
    db,
    probes,
    aggregation: {
      schedules: { ...config.aggregation.cron },
      timeZone: config.time.zone,
      // the job lock's lease (shared/jobs run-aggregation): past it, no invocation still owns the run
      runLeaseMs: jobLeaseMs(config.jobs.timeoutSeconds * 1000),
    },
    replay: { db, settings: normalizeSettingsFrom(config), metrics: options.metrics },
    apiToken: config.api.token,
    retention: policyFrom(config),
    retentionSweep: {
      schedule: config.retention.cron,
      location: openObjectStore(config).location,
      runLeaseMs: jobLeaseMs(config.jobs.timeoutSeconds * 1000),
    },
    kafkaLag: kafka && kafkaLagSourceFrom(config, kafka),
    openApi: {
      apiUrl: `http://127.0.0.1:${config.api.port}`,
      gatewayUrl: config.openfaas.gatewayUrl,
      version: OPENAPI_DEFAULTS.version,
    },
  };
}
