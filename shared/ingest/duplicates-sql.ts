// The look back at a duplicate with an id: is it the event that was kept, or another event under the same
// id (a producer bug)? The kept one is found through its claim — event_keys gives its timestamp, so the
// raw_events row is one index probe in one daily partition — and compared in PostgreSQL: event_type,
// source, data (as jsonb: key order and number spelling do not matter) and the timestamp when the later
// arrival carries its own. Runs only for duplicates, which are rare.
import type { Queryable } from '../db/index.ts';

export interface DuplicateContent {
  /** The caller's index of the duplicate. */
  index: number;
  idempotencyKey: string;
  /** contentText() of the duplicate (prepare-rows.ts). */
  content: string;
}

export interface Conflict {
  index: number;
  /** The kept event as stored: event_type, timestamp, source, data. */
  kept: { event_type: string; timestamp: string; source: string; data: unknown };
}

/**
 * The duplicates whose kept event differs from them. A duplicate whose kept row is gone (its partition
 * dropped by retention) cannot be compared and counts as a plain duplicate.
 */
export async function findConflicts(
  client: Queryable,
  duplicates: readonly DuplicateContent[],
): Promise<Conflict[]> {
  if (duplicates.length === 0) return [];
  const input =
    '[' +
    duplicates
      .map((d) => `{"i":${d.index},"k":${JSON.stringify(d.idempotencyKey)},"c":${d.content}}`)
      .join(',') +
    ']';
  const { rows } = await client.query<{ i: number; kept: Conflict['kept'] }>(
    `SELECT d.i, json_build_object('event_type', r.event_type, 'timestamp', r.ts, 'source', r.source,
                                   'data', r.data) AS kept
     FROM json_to_recordset($1::json) AS d(i int, k text, c json)
     JOIN event_keys k ON k.idempotency_key = d.k
     JOIN raw_events r ON r.ts = k.ts AND r.idempotency_key = d.k
     WHERE r.event_type IS DISTINCT FROM d.c->>'event_type'
        OR r.source IS DISTINCT FROM d.c->>'source'
        OR r.data IS DISTINCT FROM (d.c->'data')::jsonb
        OR (d.c->>'ts' IS NOT NULL AND r.ts IS DISTINCT FROM (d.c->>'ts')::timestamptz)
     ORDER BY d.i`,
    [input],
  );
  return rows.map((r) => ({ index: r.i, kept: r.kept }));
}
