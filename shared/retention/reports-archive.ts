// One month of reports past retention: their rows and delivery records written to a manifest (read back and
// compared), then, in one transaction holding the rows, their objects deleted from the store and the rows
// deleted. A failure before the commit leaves the rows (some objects may be gone: the next sweep finishes).
import { createHash } from 'node:crypto';
import { BatchError } from '../errors/index.ts';
import { markRemoved } from './archives-sql.ts';
import { expiredReportsFolder, manifestKey } from './layout.ts';
import { MANIFEST_VERSION, manifestBytes, parseManifest, type ReportsManifest } from './manifest.ts';
import type { RawDayContext } from './raw-archive.ts';
import { deleteReports, deliveriesOf, lockReports, reportsOf, type ReportsUnit } from './reports-sql.ts';

export const REPORTS_SCHEMA_VERSION = 1;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function failed(month: string, problem: string): BatchError {
  return new BatchError(
    'ARCHIVE_VERIFICATION_FAILED',
    `the manifest of the reports of ${month} does not match: ${problem}`,
    {
      context: { unit: month },
    },
  );
}

/** Writes and reads back the month's manifest; returns it, its key and its SHA-256. */
export async function writeReportsManifest(
  ctx: RawDayContext,
  unit: ReportsUnit,
): Promise<{ manifest: ReportsManifest; key: string; sha256: string }> {
  const { deps, runId } = ctx;
  const reports = await reportsOf(deps.db, unit);
  const ids = reports.map((r) => Number(r.id));
  const manifest: ReportsManifest = {
    kind: 'reports',
    schema: 'reports',
    manifest_version: MANIFEST_VERSION,
    schema_version: REPORTS_SCHEMA_VERSION,
    month: unit.month,
    range: { from: unit.start.toISOString(), to: unit.end.toISOString() },
    run_id: runId,
    created_at: (deps.clock?.() ?? new Date()).toISOString(),
    codec: 'none',
    objects: [],
    rows: reports.length,
    reports,
    deliveries: await deliveriesOf(deps.db, ids),
  };
  const key = manifestKey(expiredReportsFolder(unit.month));
  const stored = await deps.store.put(key, manifestBytes(manifest), { contentType: 'application/json' });
  await deps.hooks?.afterPut?.(key);
  const back = await deps.store.get(key);
  if (sha256(back) !== stored.sha256)
    throw failed(unit.month, `${key} reads back with SHA-256 ${sha256(back)}, written ${stored.sha256}`);
  const parsed = parseManifest(back, key);
  if (parsed.kind !== 'reports' || JSON.stringify(parsed.reports.map((r) => r.id)) !== JSON.stringify(ids)) {
    throw failed(unit.month, `${key} does not list the reports it was written with`);
  }
  return { manifest, key, sha256: stored.sha256 };
}

/** Deletes the objects and rows of the reports in `ids` still in the unit; marks the unit removed. */
export async function deleteExpiredReports(
  ctx: RawDayContext,
  unit: ReportsUnit,
  archiveId: number,
  ids: readonly number[],
  archived: boolean,
): Promise<number> {
  const { deps } = ctx;
  return deps.db.transaction(async (tx) => {
    const held = await lockReports(tx, unit, ids);
    const keys = held.map((r) => r.location).filter((k): k is string => k !== null);
    if (keys.length > 0) await deps.store.delete(keys);
    const rows = await deleteReports(
      tx,
      held.map((r) => r.id),
    );
    await markRemoved(tx, archiveId, archived ? 'archived' : 'deleted', rows);
    return rows;
  });
}
