// GET /metrics of the status function: the aggregation state as Prometheus gauges (prom-client), read
// fresh from the database on each scrape. The runtime's API /metrics appends this to its own registry.
import { Gauge, Registry } from 'prom-client';
import { PERIODS, type AggregationStatusReport } from './aggregation-status.ts';

const STATES = ['completed', 'running', 'failed', 'scheduled'] as const;

export async function aggregationMetrics(
  report: AggregationStatusReport,
): Promise<{ contentType: string; text: string }> {
  const registry = new Registry();
  const registers = [registry];
  const freshness = new Gauge({
    name: 'hxp_aggregation_freshness_seconds',
    help: 'Seconds since the end of the newest completed bucket, per period',
    labelNames: ['period'],
    registers,
  });
  const state = new Gauge({
    name: 'hxp_aggregation_state',
    help: '1 for the current state of each period job (completed, running, failed, scheduled)',
    labelNames: ['period', 'state'],
    registers,
  });
  const failing = new Gauge({
    name: 'hxp_aggregation_failing_windows',
    help: 'Windows whose last attempt failed and that are not redone yet',
    labelNames: ['period'],
    registers,
  });
  const nextRun = new Gauge({
    name: 'hxp_aggregation_next_run_timestamp_seconds',
    help: 'When the period job fires next (Unix seconds)',
    labelNames: ['period'],
    registers,
  });
  for (const period of PERIODS) {
    const p = report.periods[period];
    if (p.freshnessSeconds !== null) freshness.set({ period }, p.freshnessSeconds);
    for (const s of STATES) state.set({ period, state: s }, p.status === s ? 1 : 0);
    failing.set({ period }, p.failingWindows);
    nextRun.set({ period }, Date.parse(p.nextRun) / 1000);
  }
  return { contentType: registry.contentType, text: await registry.metrics() };
}
