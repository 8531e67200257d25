// The report metrics, with the original service's names. Defined here, in one registry of the process; the
// observability function (status /metrics, Pushgateway) collects them — generate-report also serves them at
// GET /metrics on its own path. State that outlives a process (last success per type) is in the reports table.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ReportMetrics {
  registry: Registry;
  /** 1 when the last generation of (report_type, format) succeeded, 0 when it failed. */
  status: Gauge<'report_type' | 'format'>;
  duration: Histogram<'report_type' | 'format'>;
  generated: Counter<'report_type' | 'format' | 'result'>;
  distributed: Counter<'channel' | 'result'>;
}

export function createReportMetrics(registry = new Registry()): ReportMetrics {
  const registers = [registry];
  return {
    registry,
    status: new Gauge({
      name: 'report_generation_status',
      help: 'Last generation of a report type and format: 1 succeeded, 0 failed',
      labelNames: ['report_type', 'format'],
      registers,
    }),
    duration: new Histogram({
      name: 'report_generation_duration_seconds',
      help: 'Time to render and store one report format (the shared document build included)',
      labelNames: ['report_type', 'format'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    generated: new Counter({
      name: 'report_generation_total',
      help: 'Report formats generated, by result (success, failure)',
      labelNames: ['report_type', 'format', 'result'],
      registers,
    }),
    distributed: new Counter({
      name: 'report_distribution_total',
      help: 'Report distributions by channel (s3 = stored, email = one recipient) and result (success, failure)',
      labelNames: ['channel', 'result'],
      registers,
    }),
  };
}

let shared: ReportMetrics | undefined;

/** The process's report metrics (one registry, so a function's handler and library count in one place). */
export function reportMetrics(): ReportMetrics {
  shared ??= createReportMetrics();
  return shared;
}
