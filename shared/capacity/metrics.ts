// capacity_forecast_days_to_threshold{resource,series} and capacity_utilization_ratio{resource,series}
// (shared/metrics/catalogue.ts) from the newest stored analysis, on the registry of a /metrics scrape. A series
// forecast against a threshold that it does not cross within the horizon reads +Inf ("not within the
// horizon"), so `capacity_forecast_days_to_threshold < 14` is the alert; series without a threshold or a
// forecast have no days sample.
import type { Registry } from 'prom-client';
import { METRICS, gaugeOf } from '../metrics/index.ts';
import type { CapacityGaugeRow } from './store-sql.ts';

export function setCapacityGauges(registry: Registry, rows: readonly CapacityGaugeRow[]): void {
  const days = gaugeOf(METRICS.capacityDaysToThreshold, registry);
  const ratio = gaugeOf(METRICS.capacityUtilization, registry);
  for (const row of rows) {
    const labels = { resource: row.resource, series: row.series };
    if (row.forecastAgainstThreshold) days.set(labels, row.daysToThreshold ?? Infinity);
    if (row.utilizationRatio !== null) ratio.set(labels, row.utilizationRatio);
  }
}
