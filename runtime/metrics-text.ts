// What the runtime's /metrics answers (on the API port and on the metrics port): its own registry, the
// status function's state metrics, and — when no Pushgateway is configured — every function process's own
// registry (read as JSON from the template server's /_/metrics), each labelled with job = the function's name
// and instance, as a push would have grouped it. With a Pushgateway the functions push their registries
// there, and this leaves them out so that Prometheus does not see them twice.
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Supervisor } from './supervisor.ts';

export interface MetricsTextSources {
  registry: Registry;
  supervisor: Supervisor;
  /** true: include the function processes' registries (no Pushgateway configured). */
  collectFunctions: boolean;
  /** The `instance` label of the function metrics (metrics.instance, else the host name). */
  instance: string;
  /** Per request to a function process (default 3 s). */
  timeoutMs?: number;
}

const STATUS_FUNCTION = 'status';
const FUNCTION_METRICS_PATH = '/_/metrics';

async function fetchWithTimeout(url: string, timeoutMs: number): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
}

async function statusText(src: MetricsTextSources, timeoutMs: number): Promise<string> {
  const status = src.supervisor.get(STATUS_FUNCTION);
  if (status?.state !== 'ready' || status.port === undefined) return '';
  try {
    const answer = await fetchWithTimeout(`http://127.0.0.1:${status.port}/metrics`, timeoutMs);
    const body = await answer.text();
    return answer.ok && (answer.headers.get('content-type') ?? '').startsWith('text/plain') ? body : '';
  } catch {
    return ''; // the status function is restarting: the rest still answers
  }
}

type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

/** One process's registry JSON with job and instance added to every sample. */
export function labelFunctionMetrics(metrics: MetricJson[], job: string, instance: string): MetricJson[] {
  return metrics.map((m) => ({
    ...m,
    values: m.values.map((v) => ({ ...v, labels: { ...v.labels, job, instance } })),
  }));
}

async function functionsText(src: MetricsTextSources, timeoutMs: number): Promise<string> {
  const ready = src.supervisor.all().filter((p) => p.state === 'ready' && p.port !== undefined);
  const perProcess = await Promise.all(
    ready.map(async (p): Promise<MetricJson[]> => {
      try {
        const answer = await fetchWithTimeout(
          `http://127.0.0.1:${p.port}${FUNCTION_METRICS_PATH}`,
          timeoutMs,
        );
        if (!answer.ok) return [];
        return labelFunctionMetrics((await answer.json()) as MetricJson[], p.spec.name, src.instance);
      } catch {
        return [];
      }
    }),
  );
  // Distinct job labels per process, so aggregating only puts the processes side by side.
  return AggregatorRegistry.aggregate(perProcess).metrics();
}

export async function runtimeMetricsText(src: MetricsTextSources): Promise<string> {
  const timeoutMs = src.timeoutMs ?? 3_000;
  const [own, state, functions] = await Promise.all([
    src.registry.metrics(),
    statusText(src, timeoutMs),
    src.collectFunctions ? functionsText(src, timeoutMs) : '',
  ]);
  return [own, state, functions].filter((t) => t.trim() !== '').join('\n');
}
