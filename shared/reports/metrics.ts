// The report metrics, named as the reports issue names them and defined in the metric catalogue
// (shared/metrics/catalogue.ts): recorded here on the process registry, which the function pushes to the
// Pushgateway (or the local runtime collects). report_generation_status is state: the status function computes
// it from the reports table on each scrape, so it survives the process.
import type { Counter, Histogram, Registry } from 'prom-client';
import { counterOf, histogramOf, METRICS, metricsRecorded, processRegistry } from '../metrics/index.ts';

export interface ReportMetrics {
  registry: Registry;
  duration: Histogram<'report_type' | 'format'>;
  generated: Counter<'report_type' | 'format' | 'result'>;
  distributed: Counter<'channel' | 'result'>;
  /** Call after recording, so the Pushgateway pusher sends the new values. */
  recorded(): void;
}

export function reportMetrics(registry: Registry = processRegistry()): ReportMetrics {
  return {
    registry,
    duration: histogramOf(METRICS.reportGenerationDuration, registry),
    generated: counterOf(METRICS.reportGenerationTotal, registry),
    distributed: counterOf(METRICS.reportDistributionTotal, registry),
    recorded: () => metricsRecorded(registry),
  };
}
