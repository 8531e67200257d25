// The status API as one function of (request, deps) → answer, so the `status` handler stays thin and
// the runtime or a test can call it directly. Paths: /health, /aggregation/status, /runs, /metrics
// (Prometheus text as a string body: the template sends strings as text/plain).
import type { BatchProcessingConfig } from '../config/index.ts';
import { s3SettingsFrom } from '../archive/s3-client.ts';
import type { Queryable } from '../db/index.ts';
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
}

export interface StatusRequest {
  method: string;
  /** Path inside the function, e.g. `/health` (a leading `/status` is accepted too). */
  path: string;
  query: Record<string, string | undefined>;
}

export interface StatusAnswer {
  status: number;
  body: unknown;
}

export const STATUS_PATHS = ['/health', '/aggregation/status', '/runs', '/metrics'] as const;

export async function handleStatusRequest(req: StatusRequest, deps: StatusDeps): Promise<StatusAnswer> {
  const path = (req.path.split('?')[0] ?? '/').replace(/^\/status(?=\/)/, '').replace(/\/+$/, '') || '/';
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return {
      status: 405,
      body: { error: { code: 'REQUEST_INVALID', message: `${req.method} ${path}: use GET` } },
    };
  }
  const now = deps.clock?.() ?? new Date();
  switch (path) {
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

/** Status deps from the loaded configuration: database always, Kafka and S3 only when configured. */
export function statusDepsFromConfig(config: BatchProcessingConfig, db: Queryable): StatusDeps {
  const probes: HealthProbes = { database: databaseProbe(db) };
  if (config.kafka.bootstrapServers?.length)
    probes.kafka = kafkaProbe(config.kafka.bootstrapServers, config.kafka.clientId);
  // The probe reaches S3 the way the archive does (endpoint, credentials, path-style addressing).
  const s3 = s3SettingsFrom(config);
  if (s3) probes.s3 = s3Probe(s3);
  return {
    db,
    probes,
    aggregation: { schedules: { ...config.aggregation.cron }, timeZone: config.time.zone },
  };
}
