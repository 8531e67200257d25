// The function process's own metrics: one registry per process holding what the process records (its
// invocations, its job runs, the events it ingested, and the domain metrics other modules register on it).
// It is pushed to the Pushgateway (pushgateway.ts) or, under the local runtime, read by the runtime through
// the template server's /_/metrics. Libraries take the handles as injected deps; functions pass these.
import { Registry, type Counter, type Gauge, type Histogram } from 'prom-client';
import { METRICS } from './catalogue.ts';
import { counterOf, gaugeOf, histogramOf } from './define.ts';

let registry: Registry | undefined;

/** The process registry (created on first use). Domain modules register their metrics here too. */
export function processRegistry(): Registry {
  registry ??= new Registry();
  return registry;
}

// ---- "something was recorded": the pusher listens, so a push follows the work that changed a metric ----

const listeners = new WeakMap<Registry, Set<() => void>>();

/** Call after recording on `target`; listeners (the Pushgateway pusher) are told. */
export function metricsRecorded(target: Registry): void {
  for (const listener of listeners.get(target) ?? []) listener();
}

/** Calls `listener` after each metricsRecorded(target); returns the unsubscribe function. */
export function onMetricsRecorded(target: Registry, listener: () => void): () => void {
  let set = listeners.get(target);
  if (set === undefined) listeners.set(target, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

// ---- typed handles ---------------------------------------------------------------------------------

export interface FunctionMetrics {
  registry: Registry;
  invocations: Counter<'code'>;
  duration: Histogram;
  start: Gauge;
}

export interface RunMetrics {
  registry: Registry;
  successRate: Gauge;
  completionRate: Gauge;
  duration: Histogram;
  lastDuration: Gauge;
  runs: Counter<'result'>;
  lastRun: Gauge;
  lastSuccess: Gauge;
}

export interface IngestMetrics {
  registry: Registry;
  events: Counter<'via' | 'outcome'>;
  rejected: Counter<'via' | 'reason'>;
}

export function functionMetrics(target: Registry = processRegistry()): FunctionMetrics {
  return {
    registry: target,
    invocations: counterOf(METRICS.invocations, target),
    duration: histogramOf(METRICS.invocationDuration, target),
    start: gaugeOf(METRICS.functionStart, target),
  };
}

export function runMetrics(target: Registry = processRegistry()): RunMetrics {
  return {
    registry: target,
    successRate: gaugeOf(METRICS.successRate, target),
    completionRate: gaugeOf(METRICS.completionRate, target),
    duration: histogramOf(METRICS.duration, target),
    lastDuration: gaugeOf(METRICS.lastRunDuration, target),
    runs: counterOf(METRICS.runs, target),
    lastRun: gaugeOf(METRICS.lastRun, target),
    lastSuccess: gaugeOf(METRICS.lastSuccess, target),
  };
}

export function ingestMetrics(target: Registry = processRegistry()): IngestMetrics {
  return {
    registry: target,
    events: counterOf(METRICS.ingestEvents, target),
    rejected: counterOf(METRICS.ingestRejected, target),
  };
}
