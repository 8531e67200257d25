// The retention sweep's statements on the reports tables (owned by shared/reports): which months of stored
// reports are past retention, their rows and delivery records for the manifest, and the delete. A report's
// age is that of its object (stored_at; a report that never stored one counts from its last update), and
// a unit is one calendar month (UTC) of those instants.
import type { Queryable } from '../db/index.ts';

export interface ReportsUnit {
  /** YYYY-MM (UTC). */
  month: string;
  start: Date;
  end: Date;
  rows: number;
  bytes: number;
}

const AGE = 'coalesce(r.stored_at, r.updated_at)';

/** Months whose whole range ends at or before `cutoff` and that still hold reports, oldest first. */
export async function listReportsUnits(db: Queryable, cutoff: Date): Promise<ReportsUnit[]> {
  const { rows } = await db.query<{ month: string; rows: number; bytes: number }>(
    `SELECT to_char(${AGE} AT TIME ZONE 'UTC', 'YYYY-MM') AS month, count(*)::int AS rows,
            coalesce(sum(r.size_bytes), 0)::float8 AS bytes
     FROM reports r WHERE r.status <> 'generating' AND ${AGE} < $1
     GROUP BY 1 ORDER BY 1`,
    [cutoff],
  );
  return rows
    .map((r) => {
      const start = new Date(`${r.month}-01T00:00:00Z`);
      const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
      return { month: r.month, start, end, rows: Number(r.rows), bytes: Number(r.bytes) };
    })
    .filter((u) => u.end <= cutoff);
}

/** The reports of the unit (not being generated), every column, oldest first. */
export async function reportsOf(db: Queryable, unit: ReportsUnit): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query<{ row: Record<string, unknown> }>(
    `SELECT to_jsonb(r) AS row FROM reports r
     WHERE r.status <> 'generating' AND ${AGE} >= $1 AND ${AGE} < $2 ORDER BY r.id`,
    [unit.start, unit.end],
  );
  return rows.map((r) => r.row);
}

/** Delivery records that are about `ids` only (the e-mail body left out: it is the template's output). */
export async function deliveriesOf(
  db: Queryable,
  ids: readonly number[],
): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query<{ row: Record<string, unknown> }>(
    `SELECT to_jsonb(d) - 'body' AS row FROM report_deliveries d WHERE d.report_ids <@ $1::bigint[] ORDER BY d.id`,
    [ids],
  );
  return rows.map((r) => r.row);
}

/**
 * Locks the rows of `ids` still in the unit (a report regenerated since has left it): a regeneration that
 * would write their objects again waits until this transaction ends. Returns their object keys.
 */
export async function lockReports(
  db: Queryable,
  unit: ReportsUnit,
  ids: readonly number[],
): Promise<{ id: number; location: string | null }[]> {
  const { rows } = await db.query<{ id: number; location: string | null }>(
    `SELECT r.id::int AS id, r.location FROM reports r
     WHERE r.id = ANY ($1::bigint[]) AND r.status <> 'generating' AND ${AGE} >= $2 AND ${AGE} < $3
     ORDER BY r.id FOR UPDATE`,
    [ids, unit.start, unit.end],
  );
  return rows;
}

/** Deletes the delivery records and the report rows of `ids`; returns the report rows deleted. */
export async function deleteReports(db: Queryable, ids: readonly number[]): Promise<number> {
  await db.query('DELETE FROM report_deliveries WHERE report_ids <@ $1::bigint[]', [ids]);
  const { rowCount } = await db.query('DELETE FROM reports WHERE id = ANY ($1::bigint[])', [ids]);
  return rowCount ?? 0;
}
