// The retention metrics, named as the retention issue names them and defined in the metric catalogue
// (shared/metrics/catalogue.ts). A sweep records its run-sourced ones on the process registry (pushed to the
// Pushgateway, or collected by the local runtime); the state ones — storage usage, last success, failed
// units — are computed from the database by the status function's /metrics on each scrape
// (recordRetentionState), so they survive the process and every replica answers the same.
import type { Registry } from 'prom-client';
import type { Queryable } from '../db/index.ts';
import { counterOf, gaugeOf, histogramOf, METRICS, metricsRecorded } from '../metrics/index.ts';
import type { RetentionPolicy } from './policy.ts';
import { storageUsage } from './storage.ts';
import type { SweepSummary } from './types.ts';

/** Records a finished (not dry) sweep on `registry`. */
export function recordSweep(registry: Registry, summary: SweepSummary): void {
  histogramOf(METRICS.retentionSweepDuration, registry).observe(summary.durationMs / 1000);
  const archived = counterOf(METRICS.retentionArchivedRows, registry);
  const reverified = counterOf(METRICS.retentionReverifiedRows, registry);
  const dropped = counterOf(METRICS.retentionDroppedPartitions, registry);
  const deleted = counterOf(METRICS.retentionDeletedRows, registry);
  const failures = counterOf(METRICS.retentionVerificationFailures, registry);
  for (const unit of summary.units) {
    if (unit.outcome === 'failed' && unit.error?.code === 'ARCHIVE_VERIFICATION_FAILED') {
      failures.inc({ kind: unit.kind });
    }
    if (unit.outcome !== 'done') continue;
    // Rows written only (docs/metrics.md): a restored day dropped again against its existing archive has
    // its own counter, or a day archived, restored and dropped again would count twice.
    if (unit.archivedRows !== undefined) archived.inc({ kind: unit.kind }, unit.archivedRows);
    else if (unit.action === 'reverify') reverified.inc({ kind: unit.kind }, unit.rows);
    deleted.inc({ kind: unit.kind }, unit.rows);
    if (unit.kind === 'raw') dropped.inc();
  }
  metricsRecorded(registry);
}

/** The state gauges, from what the database says now (the status function's /metrics). */
export async function recordRetentionState(
  registry: Registry,
  db: Queryable,
  policy: RetentionPolicy,
): Promise<void> {
  const usage = await storageUsage(db, policy);
  const ratio = gaugeOf(METRICS.storageUsage, registry);
  ratio.set({ store: 'database' }, usage.database.ratio);
  ratio.set({ store: 'archive' }, usage.archive.ratio);
  const bytes = gaugeOf(METRICS.retentionStorageBytes, registry);
  bytes.set({ store: 'database', prefix: '' }, usage.database.bytes);
  for (const [prefix, n] of Object.entries(usage.archive.byPrefix))
    bytes.set({ store: 'archive', prefix }, n);
  const { rows } = await db.query<{
    finished_at: Date | null;
    raw: number;
    aggregate: number;
    reports: number;
  }>(
    `SELECT (SELECT max(finished_at) FROM runs WHERE job = 'retention-sweep' AND status = 'succeeded') AS finished_at,
            (SELECT count(*) FROM archives WHERE kind = 'raw' AND status = 'failed')::int AS raw,
            (SELECT count(*) FROM archives WHERE kind = 'aggregate' AND status = 'failed')::int AS aggregate,
            (SELECT count(*) FROM archives WHERE kind = 'reports' AND status = 'failed')::int AS reports`,
  );
  const state = rows[0];
  if (state?.finished_at)
    gaugeOf(METRICS.retentionLastSuccess, registry).set(state.finished_at.getTime() / 1000);
  const failed = gaugeOf(METRICS.retentionFailedUnits, registry);
  for (const kind of ['raw', 'aggregate', 'reports'] as const) failed.set({ kind }, state?.[kind] ?? 0);
}
