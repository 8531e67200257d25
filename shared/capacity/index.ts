// Capacity analysis and forecasting (the analyze-capacity function): see README.md in this folder.
export { handleCapacityRequest, CAPACITY_ROUTES, type CapacityApiDeps, type CapacityRequest } from './api.ts';
export { analyzeResource, MIN_HISTORY_HOURS, STALE_AFTER_HOURS, type AnalyzeOptions } from './analyze.ts';
export { forecastSeries, type ForecastOptions, type SeriesForecast } from './forecast.ts';
export { setCapacityGauges } from './metrics.ts';
export { resourceSpecs, type ResourceSpec } from './resources.ts';
export {
  assertCapacityEnabled,
  CAPACITY_JOB,
  runCapacityAnalysis,
  type CapacityDeps,
  type CapacityRunRequest,
  type CapacityRunResult,
} from './run.ts';
export {
  capacityGaugeRows,
  capacityRunEndingIn,
  latestCapacityAnalysis,
  latestCapacityRun,
  readCapacityAnalyses,
  type AnalysisFilter,
  type CapacityGaugeRow,
} from './store-sql.ts';
export {
  CapacityAnalysis,
  CapacityAnswer,
  FLEET,
  type Forecast,
  type ForecastPoint,
  type Recommendation,
} from './types.ts';
