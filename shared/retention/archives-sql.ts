// The archives table (migration 000009): one row per archived unit and its state. Every statement on it
// lives here; ingest and the aggregation backfill read it through archivedRawDays / archivedSince.
import type { Queryable } from '../db/index.ts';
import type { ManifestObject } from './manifest.ts';

export type ArchiveKind = 'raw' | 'aggregate' | 'reports';
export type ArchiveStatus = 'pending' | 'verified' | 'archived' | 'deleted' | 'restored' | 'failed';
/** The statuses in which the live data is gone. */
export const REMOVED: readonly ArchiveStatus[] = ['archived', 'deleted'];

export interface ArchiveRow {
  id: number;
  kind: ArchiveKind;
  unit: string;
  rangeStart: Date;
  rangeEnd: Date;
  status: ArchiveStatus;
  runId: number | null;
  attempts: number;
  rows: number | null;
  bytes: number | null;
  manifestKey: string | null;
  manifestSha256: string | null;
  objects: ManifestObject[];
  errorCode: string | null;
  error: string | null;
  updatedAt: Date;
  verifiedAt: Date | null;
  removedAt: Date | null;
  restoredAt: Date | null;
  keepUntil: Date | null;
}

const COLUMNS = `id, kind, unit, range_start, range_end, status, run_id, attempts, rows, bytes, manifest_key,
  manifest_sha256, objects, error_code, error, updated_at, verified_at, removed_at, restored_at, keep_until`;

interface Row {
  id: number;
  kind: ArchiveKind;
  unit: string;
  range_start: Date;
  range_end: Date;
  status: ArchiveStatus;
  run_id: number | null;
  attempts: number;
  rows: number | null;
  bytes: number | null;
  manifest_key: string | null;
  manifest_sha256: string | null;
  objects: ManifestObject[];
  error_code: string | null;
  error: string | null;
  updated_at: Date;
  verified_at: Date | null;
  removed_at: Date | null;
  restored_at: Date | null;
  keep_until: Date | null;
}

function fromRow(r: Row): ArchiveRow {
  return {
    id: Number(r.id),
    kind: r.kind,
    unit: r.unit,
    rangeStart: r.range_start,
    rangeEnd: r.range_end,
    status: r.status,
    runId: r.run_id === null ? null : Number(r.run_id),
    attempts: r.attempts,
    rows: r.rows === null ? null : Number(r.rows),
    bytes: r.bytes === null ? null : Number(r.bytes),
    manifestKey: r.manifest_key,
    manifestSha256: r.manifest_sha256,
    objects: r.objects,
    errorCode: r.error_code,
    error: r.error,
    updatedAt: r.updated_at,
    verifiedAt: r.verified_at,
    removedAt: r.removed_at,
    restoredAt: r.restored_at,
    keepUntil: r.keep_until,
  };
}

export async function getArchive(
  db: Queryable,
  kind: ArchiveKind,
  unit: string,
): Promise<ArchiveRow | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM archives WHERE kind = $1 AND unit = $2`, [
    kind,
    unit,
  ]);
  return rows[0] && fromRow(rows[0]);
}

/** The row, locked until the end of the caller's transaction (restore takes it to run once). */
export async function lockArchive(
  db: Queryable,
  kind: ArchiveKind,
  unit: string,
): Promise<ArchiveRow | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM archives WHERE kind = $1 AND unit = $2 FOR UPDATE`,
    [kind, unit],
  );
  return rows[0] && fromRow(rows[0]);
}

export async function listArchives(
  db: Queryable,
  filter: { kind?: ArchiveKind; statuses?: readonly ArchiveStatus[] } = {},
): Promise<ArchiveRow[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM archives
     WHERE ($1::text IS NULL OR kind = $1) AND ($2::text[] IS NULL OR status = ANY ($2))
     ORDER BY kind, range_start, unit`,
    [filter.kind ?? null, filter.statuses ?? null],
  );
  return rows.map(fromRow);
}

/**
 * Starts (or starts again) archiving a unit: status pending, one more attempt, this run. A unit already
 * removed is left as it is and returned unchanged.
 */
export async function beginArchive(
  db: Queryable,
  unit: { kind: ArchiveKind; unit: string; start: Date; end: Date },
  runId: number,
): Promise<ArchiveRow> {
  const { rows } = await db.query<Row>(
    `INSERT INTO archives (kind, unit, range_start, range_end, status, run_id, attempts)
     VALUES ($1, $2, $3, $4, 'pending', $5, 1)
     ON CONFLICT (kind, unit) DO UPDATE
       SET status = CASE WHEN archives.status IN ('archived', 'deleted') THEN archives.status ELSE 'pending' END,
           run_id = $5, attempts = archives.attempts + 1, error_code = NULL, error = NULL, updated_at = now()
     RETURNING ${COLUMNS}`,
    [unit.kind, unit.unit, unit.start, unit.end, runId],
  );
  return fromRow(rows[0]!);
}

/** What was written: the objects and the manifest (the unit stays pending until verified). */
export async function recordArchiveObjects(
  db: Queryable,
  id: number,
  written: { objects: ManifestObject[]; manifestKey: string; manifestSha256: string; rows: number },
): Promise<void> {
  const bytes = written.objects.reduce((sum, o) => sum + o.bytes, 0);
  await db.query(
    `UPDATE archives SET objects = $2::jsonb, manifest_key = $3, manifest_sha256 = $4, rows = $5, bytes = $6,
                         updated_at = now()
     WHERE id = $1`,
    [id, JSON.stringify(written.objects), written.manifestKey, written.manifestSha256, written.rows, bytes],
  );
}

export async function markVerified(db: Queryable, id: number): Promise<void> {
  await db.query(
    `UPDATE archives SET status = 'verified', verified_at = now(), updated_at = now() WHERE id = $1`,
    [id],
  );
}

/** The live data is gone: 'archived' (a verified copy exists) or 'deleted' (archival off). */
export async function markRemoved(
  db: Queryable,
  id: number,
  status: 'archived' | 'deleted',
  rows: number,
): Promise<void> {
  await db.query(
    `UPDATE archives SET status = $2, rows = coalesce(rows, $3), removed_at = now(), keep_until = NULL,
                         updated_at = now()
     WHERE id = $1`,
    [id, status, rows],
  );
}

export async function markFailed(db: Queryable, id: number, code: string, message: string): Promise<void> {
  await db.query(
    `UPDATE archives SET status = CASE WHEN status IN ('archived', 'deleted') THEN status ELSE 'failed' END,
                         error_code = $2, error = $3, updated_at = now()
     WHERE id = $1`,
    [id, code, message.slice(0, 2000)],
  );
}

export async function markRestored(db: Queryable, id: number, keepUntil: Date): Promise<void> {
  await db.query(
    `UPDATE archives SET status = 'restored', restored_at = now(), keep_until = $2, error_code = NULL, error = NULL,
                         updated_at = now()
     WHERE id = $1`,
    [id, keepUntil],
  );
}

/**
 * UTC days whose raw events the sweep removed (archived: a copy exists), and those restored from their
 * archive for a while: ingest takes events for none of them (shared/events/archived-days.ts says why).
 */
export async function archivedRawDays(
  db: Queryable,
): Promise<{ day: string; archived: boolean; restored: boolean }[]> {
  const { rows } = await db.query<{ unit: string; status: ArchiveStatus }>(
    `SELECT unit, status FROM archives
     WHERE kind = 'raw' AND status IN ('archived', 'deleted', 'restored') ORDER BY unit`,
  );
  return rows.map((r) => ({
    day: r.unit,
    archived: r.status !== 'deleted',
    restored: r.status === 'restored',
  }));
}

/**
 * Removed units of `kind` (and, for aggregates, of level `level`) overlapping [from, to): what a backfill
 * over that range would recompute from nothing.
 */
export async function removedUnitsOverlapping(
  db: Queryable,
  kind: ArchiveKind,
  from: Date,
  to: Date,
  level?: string,
): Promise<string[]> {
  const { rows } = await db.query<{ unit: string }>(
    `SELECT unit FROM archives
     WHERE kind = $1 AND status IN ('archived', 'deleted') AND range_start < $3 AND range_end > $2
       AND ($4::text IS NULL OR unit LIKE $4 || '/%')
     ORDER BY range_start`,
    [kind, from, to, level ?? null],
  );
  return rows.map((r) => r.unit);
}

/** Bytes archived per kind (the archive's share of storage usage). */
export async function archivedBytes(db: Queryable): Promise<Record<ArchiveKind, number>> {
  const { rows } = await db.query<{ kind: ArchiveKind; bytes: number }>(
    `SELECT kind, coalesce(sum(bytes), 0)::int8 AS bytes FROM archives
     WHERE status IN ('verified', 'archived', 'restored') GROUP BY kind`,
  );
  const out: Record<ArchiveKind, number> = { raw: 0, aggregate: 0, reports: 0 };
  for (const r of rows) out[r.kind] = Number(r.bytes);
  return out;
}
