// The retention metrics (prom-client), with the names the issue and the original's alert use. A sweep
// records into them as it goes; the gauges that describe state (storage usage, last success, units that
// failed) are refreshed from the database at scrape time, so every replica and a restarted process answer
// the same. Collection (Pushgateway, the status function's /metrics) belongs to the observability layer;
// GET /retention/metrics on the function serves this registry.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SweepSummary } from './types.ts';
import type { StorageUsage } from './storage.ts';

export interface RetentionMetrics {
  registry: Registry;
  storageUsage: Gauge<'storage'>;
  storageBytes: Gauge<'storage' | 'prefix'>;
  archivedRows: Counter<'kind'>;
  droppedPartitions: Counter;
  deletedRows: Counter<'kind'>;
  verificationFailures: Counter<'kind'>;
  sweepDuration: Histogram<'status'>;
  lastSuccess: Gauge;
  failedUnits: Gauge<'kind'>;
}

export function createRetentionMetrics(registry: Registry = new Registry()): RetentionMetrics {
  const registers = [registry];
  return {
    registry,
    storageUsage: new Gauge({
      name: 'data_retention_storage_usage',
      help: 'Storage used over its quota (retention.quota.*): database = database size, archive = archived bytes; alert above 0.9',
      labelNames: ['storage'],
      registers,
    }),
    storageBytes: new Gauge({
      name: 'retention_storage_bytes',
      help: 'Bytes used: the database, and the archive per key prefix (raw, aggregates)',
      labelNames: ['storage', 'prefix'],
      registers,
    }),
    archivedRows: new Counter({
      name: 'retention_archived_rows_total',
      help: 'Rows written to verified archives (raw events, aggregate state rows)',
      labelNames: ['kind'],
      registers,
    }),
    droppedPartitions: new Counter({
      name: 'retention_dropped_partitions_total',
      help: 'Daily raw_events partitions dropped after their archive was verified (or without one, archival off)',
      registers,
    }),
    deletedRows: new Counter({
      name: 'retention_deleted_rows_total',
      help: 'Rows removed by retention, by kind (raw, aggregate, dead_letters, runs, dedup_keys, kafka_claims)',
      labelNames: ['kind'],
      registers,
    }),
    verificationFailures: new Counter({
      name: 'retention_verification_failures_total',
      help: 'Archives whose read-back differed from their manifest or from the live data (nothing was removed)',
      labelNames: ['kind'],
      registers,
    }),
    sweepDuration: new Histogram({
      name: 'retention_sweep_duration_seconds',
      help: 'Duration of retention sweeps, by final status',
      labelNames: ['status'],
      buckets: [1, 5, 15, 60, 300, 900, 1800, 3600],
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'retention_last_success_timestamp_seconds',
      help: 'When the last retention sweep finished successfully (Unix seconds)',
      registers,
    }),
    failedUnits: new Gauge({
      name: 'retention_failed_units',
      help: 'Units whose last archive attempt failed and that are not removed yet, by kind',
      labelNames: ['kind'],
      registers,
    }),
  };
}

/** Records a finished (not dry) sweep. */
export function observeSweep(metrics: RetentionMetrics, summary: SweepSummary, finishedAt: Date): void {
  metrics.sweepDuration.observe({ status: summary.status }, summary.durationMs / 1000);
  if (summary.status === 'succeeded') metrics.lastSuccess.set(finishedAt.getTime() / 1000);
  for (const unit of summary.units) {
    if (unit.outcome === 'failed' && unit.error?.code === 'ARCHIVE_VERIFICATION_FAILED') {
      metrics.verificationFailures.inc({ kind: unit.kind });
    }
    if (unit.outcome !== 'done') continue;
    if (unit.action === 'archive' || unit.action === 'reverify')
      metrics.archivedRows.inc({ kind: unit.kind }, unit.rows);
    metrics.deletedRows.inc({ kind: unit.kind }, unit.rows);
    if (unit.kind === 'raw') metrics.droppedPartitions.inc();
  }
}

/** Sets the state gauges from what the database says now. */
export function setStateMetrics(
  metrics: RetentionMetrics,
  state: { usage: StorageUsage; lastSuccess: Date | null; failed: Record<string, number> },
): void {
  const { usage } = state;
  metrics.storageUsage.set({ storage: 'database' }, usage.database.ratio);
  metrics.storageUsage.set({ storage: 'archive' }, usage.archive.ratio);
  metrics.storageBytes.set({ storage: 'database', prefix: '' }, usage.database.bytes);
  for (const [prefix, bytes] of Object.entries(usage.archive.byPrefix)) {
    metrics.storageBytes.set({ storage: 'archive', prefix }, bytes);
  }
  if (state.lastSuccess) metrics.lastSuccess.set(state.lastSuccess.getTime() / 1000);
  for (const kind of ['raw', 'aggregate']) metrics.failedUnits.set({ kind }, state.failed[kind] ?? 0);
}
