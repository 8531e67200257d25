// The status API as one function of (request, deps) → answer, so the `status` handler stays thin and
// the runtime or a test can call it directly. Paths: /health, /aggregation/status, /runs, /metrics
// (Prometheus text as a string body: the template sends strings as text/plain).
import type { BatchProcessingConfig } from '../config/index.ts';
import type { Queryable } from '../db/index.ts';
import { matchRoute } from '../http/index.ts';
import { apiOperations, buildOpenApiDocument, type DocumentOptions } from '../openapi/index.ts';
import { queryRoutes } from '../query/api.ts';
import { aggregationStatus, type AggregationStatusOptions } from './aggregation-status.ts';
import { checkHealth, databaseProbe, kafkaProbe, s3Probe, type HealthProbes } from './health.ts';
import { aggregationMetrics } from './metrics.ts';
import { listRuns, RunsQueryError } from './runs.ts';

export interface StatusDeps {
  db: Queryable;
  probes: HealthProbes;
  aggregation: Omit<AggregationStatusOptions, 'now'>;
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
}

export interface StatusAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const STATUS_PATHS = [
  '/health',
  '/aggregation/status',
  '/runs',
  '/metrics',
  '/aggregates',
  '/aggregates/catalogue',
  '/aggregates/daily-usage',
  '/openapi.json',
] as const;

export async function handleStatusRequest(req: StatusRequest, deps: StatusDeps): Promise<StatusAnswer> {
  const path = (req.path.split('?')[0] ?? '/').replace(/^\/status(?=\/)/, '').replace(/\/+$/, '') || '/';
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return {
      status: 405,
      body: { error: { code: 'REQUEST_INVALID', message: `${req.method} ${path}: use GET` } },
    };
  }
  const now = deps.clock?.() ?? new Date();
  if (path === '/aggregates' || path.startsWith('/aggregates/')) {
    const { route } = matchRoute(queryRoutes, req.method, path);
    const ctx = { db: deps.db, timeZone: deps.aggregation.timeZone, now: () => now };
    return route.handler(ctx, { query: req.query, headers: req.headers ?? {} });
  }
  switch (path) {
    case '/openapi.json':
      return {
        status: 200,
        body: buildOpenApiDocument(apiOperations, deps.openApi ?? OPENAPI_DEFAULTS),
      };
    case '/':
    case '/health':
      return checkHealth(deps.probes, {
        now: () => now,
        ...(deps.healthTimeoutMs === undefined ? {} : { timeoutMs: deps.healthTimeoutMs }),
      });
    case '/aggregation/status':
      return { status: 200, body: await aggregationStatus(deps.db, { ...deps.aggregation, now }) };
    case '/metrics': {
      const report = await aggregationStatus(deps.db, { ...deps.aggregation, now });
      return { status: 200, body: (await aggregationMetrics(report)).text };
    }
    case '/runs':
      try {
        return { status: 200, body: await listRuns(deps.db, req.query) };
      } catch (err) {
        if (err instanceof RunsQueryError) {
          return { status: 400, body: { error: { code: err.code, message: err.message } } };
        }
        throw err;
      }
    default:
      return {
        status: 404,
        body: {
          error: { code: 'NOT_FOUND', message: `no status route ${path}; try ${STATUS_PATHS.join(', ')}` },
        },
      };
  }
}

const OPENAPI_DEFAULTS: DocumentOptions = {
  apiUrl: 'http://127.0.0.1:9101',
  gatewayUrl: 'http://127.0.0.1:8080',
  version: '0.1.0',
};

/** Status deps from the loaded configuration: database always, Kafka and S3 only when configured. */
export function statusDepsFromConfig(config: BatchProcessingConfig, db: Queryable): StatusDeps {
  const probes: HealthProbes = { database: databaseProbe(db) };
  if (config.kafka.bootstrapServers?.length)
    probes.kafka = kafkaProbe(config.kafka.bootstrapServers, config.kafka.clientId);
  if (config.s3.bucket) {
    probes.s3 = s3Probe({
      endpoint: config.s3.endpoint,
      bucket: config.s3.bucket,
      region: config.s3.region,
      accessKeyId: config.s3.accessKeyId,
      secretAccessKey: config.s3.secretAccessKey,
    });
  }
  return {
    db,
    probes,
    aggregation: { schedules: { ...config.aggregation.cron }, timeZone: config.time.zone },
    openApi: {
      apiUrl: `http://127.0.0.1:${config.api.port}`,
      gatewayUrl: config.openfaas.gatewayUrl,
      version: OPENAPI_DEFAULTS.version,
    },
  };
}
