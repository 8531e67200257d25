// The runtime's own Prometheus registry (gateway, supervisor, cron, Kafka bridge), made from the metric
// catalogue (shared/metrics). The API's /metrics and the metrics port join it with the status function's
// state metrics and, without a Pushgateway, the function processes' own registries (metrics-text.ts).
import { Registry, collectDefaultMetrics, type Counter, type Gauge, type Histogram } from 'prom-client';
import { METRICS, counterOf, gaugeOf, histogramOf } from '../shared/metrics/index.ts';

export interface RuntimeMetrics {
  registry: Registry;
  invocations: Counter<'function_name' | 'code'>;
  duration: Histogram<'function_name'>;
  restarts: Counter<'function_name'>;
  replicas: Gauge<'function_name'>;
  asyncQueued: Gauge;
  cronFired: Counter<'function_name'>;
  bridgeMessages: Counter<'topic' | 'function_name' | 'outcome'>;
}

/** A fresh registry per runtime, so tests can run several runtimes in one process. */
export function createRuntimeMetrics(options: { defaultMetrics?: boolean } = {}): RuntimeMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'hxp_runtime_' });
  return {
    registry,
    invocations: counterOf(METRICS.gatewayInvocations, registry),
    duration: histogramOf(METRICS.gatewayDuration, registry),
    restarts: counterOf(METRICS.runtimeRestarts, registry),
    replicas: gaugeOf(METRICS.gatewayReplicas, registry),
    asyncQueued: gaugeOf(METRICS.runtimeAsyncQueue, registry),
    cronFired: counterOf(METRICS.runtimeCronFired, registry),
    bridgeMessages: counterOf(METRICS.bridgeMessages, registry),
  };
}
