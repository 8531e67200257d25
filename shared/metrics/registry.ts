// The runtime's Prometheus registry (prom-client). Functions keep their own registries; the API's
// /metrics joins this one with what the `status` function exposes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  const registers = [registry];
  return {
    registry,
    // Names follow the OpenFaaS gateway's own metrics so existing dashboards read them.
    invocations: new Counter({
      name: 'gateway_function_invocation_total',
      help: 'Function invocations through the local gateway, by function and HTTP status',
      labelNames: ['function_name', 'code'],
      registers,
    }),
    duration: new Histogram({
      name: 'gateway_functions_seconds',
      help: 'Function call duration through the local gateway',
      labelNames: ['function_name'],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 60, 300],
      registers,
    }),
    restarts: new Counter({
      name: 'hxp_runtime_function_restarts_total',
      help: 'Function processes restarted after they exited on their own',
      labelNames: ['function_name'],
      registers,
    }),
    replicas: new Gauge({
      name: 'gateway_service_count',
      help: 'Ready replicas per function (0 or 1 locally)',
      labelNames: ['function_name'],
      registers,
    }),
    asyncQueued: new Gauge({
      name: 'hxp_runtime_async_queue_depth',
      help: 'Async invocations accepted and not yet finished',
      registers,
    }),
    cronFired: new Counter({
      name: 'hxp_runtime_cron_fired_total',
      help: 'Cron-connector invocations fired',
      labelNames: ['function_name'],
      registers,
    }),
    bridgeMessages: new Counter({
      name: 'hxp_kafka_bridge_messages_total',
      help: 'Kafka messages the bridge delivered, by outcome (delivered, dead_lettered)',
      labelNames: ['topic', 'function_name', 'outcome'],
      registers,
    }),
  };
}
