export { handleStatusRequest, kafkaLagSourceFrom, statusDepsFromConfig, STATUS_ROUTES } from './routes.ts';
export type { StatusAnswer, StatusDeps, StatusRequest, StatusRoute } from './routes.ts';
export { checkHealth, databaseProbe, kafkaProbe, s3Probe } from './health.ts';
export type { CheckResult, HealthProbes, HealthReport, Probe } from './health.ts';
export { aggregationStatus, nextCronFire, PERIODS } from './aggregation-status.ts';
export type {
  AggregationStatusOptions,
  AggregationStatusReport,
  Period,
  PeriodStatus,
} from './aggregation-status.ts';
export { listRuns, parseRunsQuery, runView } from './runs.ts';
export { dirtyClosedWindowCounts } from './sql.ts';
export type { RunView, RunsQuery } from './runs.ts';
export { periodStatusValue, stateMetrics, type KafkaLagSource } from './state-metrics.ts';
