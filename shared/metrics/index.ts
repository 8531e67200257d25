export {
  AGGREGATION_PERIODS,
  FORBIDDEN_LABELS,
  METRICS,
  metricDefinitions,
  type MetricDefinition,
  type MetricId,
  type MetricSource,
  type MetricType,
} from './catalogue.ts';
export { counterOf, gaugeOf, histogramOf } from './define.ts';
export {
  functionMetrics,
  ingestMetrics,
  metricsRecorded,
  onMetricsRecorded,
  processRegistry,
  runMetrics,
  type FunctionMetrics,
  type IngestMetrics,
  type RunMetrics,
} from './process.ts';
export {
  RUN_RESULTS,
  recordIngest,
  recordRun,
  type IngestCounts,
  type IngestVia,
  type RunReport,
  type RunResult,
} from './record.ts';
export {
  createMetricsPusher,
  pushGrouping,
  type MetricsPusher,
  type MetricsPusherOptions,
  type PushGrouping,
} from './pushgateway.ts';
