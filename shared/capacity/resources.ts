// The resources a capacity analysis covers, resolved from the configuration: where each one's hourly series
// comes from (capacityAnalysis.sources), its limit per host or replica and its threshold, its unit, and how
// it scales (what a recommendation adds or removes).
import type { BatchProcessingConfig, CapacityAnalysis } from '../config/index.ts';
import { BatchError } from '../errors/index.ts';

export const STATISTICS = ['avg', 'sum', 'count', 'min', 'max', 'p50', 'p95', 'p99'] as const;
export type Statistic = (typeof STATISTICS)[number];

export interface SeriesSource {
  eventType: string;
  /** Metrics read; undefined = any metric of the event type (with count: the events themselves). */
  metrics: string[] | undefined;
  statistic: Statistic;
}

/**
 * hosts: a fleet of hosts sharing the load (cpu, memory, gpu); storage: each host's own volume (disk);
 * replicas: a limit per replica, the fleet's is limit × replicas (requests, tokens); objective: a line not to
 * cross that adding capacity does not move in proportion (latency, cost).
 */
export type Scaling = 'hosts' | 'storage' | 'replicas' | 'objective';

export interface ResourceSpec {
  resource: CapacityAnalysis;
  source: SeriesSource;
  unit: string;
  scaling: Scaling;
  /** Per host or replica; undefined = not configured (no threshold, no crossing). */
  limit: number | undefined;
  /** Percent of the limit. */
  thresholdPercent: number;
}

const UNITS: Record<CapacityAnalysis, { unit: string; scaling: Scaling }> = {
  cpu: { unit: '%', scaling: 'hosts' },
  memory: { unit: '%', scaling: 'hosts' },
  gpu: { unit: '%', scaling: 'hosts' },
  disk: { unit: '%', scaling: 'storage' },
  requests: { unit: 'requests/h', scaling: 'replicas' },
  tokens: { unit: 'tokens/h', scaling: 'replicas' },
  latency: { unit: 'ms', scaling: 'objective' },
  cost: { unit: 'USD/h', scaling: 'objective' },
};

/** `event_type.metric[+metric…]:statistic` → its parts (the config schema has checked the form). */
export function parseSource(text: string): SeriesSource {
  const match = /^([^.]+)\.([^:]+):([a-z0-9]+)$/.exec(text);
  const statistic = STATISTICS.find((s) => s === match?.[3]);
  if (!match || !statistic) {
    throw new BatchError('CONFIG_INVALID', `capacity source "${text}" is not event_type.metric:statistic`);
  }
  return { eventType: match[1]!, metrics: match[2] === '*' ? undefined : match[2]!.split('+'), statistic };
}

/** The configured resources, in the order of capacityAnalysis.analyses. */
export function resourceSpecs(config: BatchProcessingConfig['capacityAnalysis']): ResourceSpec[] {
  return config.analyses.map((resource) => ({
    resource,
    source: parseSource(config.sources[resource]!),
    ...UNITS[resource],
    limit: config.limits[resource],
    thresholdPercent: config.thresholds[resource] ?? 80,
  }));
}
