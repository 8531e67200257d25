// Sources the retention sweep removed (migration 000015). A window is computed from what lies below it — raw
// events for an hour, the stored state of the level below for a rollup — and replaces its state with the
// result; where part of that source is gone, the result would silently lack it. The sweep only removes a
// source once the windows reading it are final, but a window can be re-opened afterwards by a neighbour (the
// week of 2026-11-30 by a late event on 2026-12-01, while the state of 2026-11-30 is archived), a backfill or
// a restore with recompute. Such a window is not redone: its stored aggregates stay as they were, and the
// error says which days to restore (their raw events, with recompute) to rebuild the missing state — or, when
// the sweep removed its own state as well, it is left removed without an error (sourcesToLeaveRemoved).
import type { Queryable } from '../db/index.ts';
import { BatchError } from '../errors/index.ts';
import { removedUnitsOverlapping } from '../retention/archives-sql.ts';
import type { Level } from './levels.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** A window whose source includes removed state. */
export interface MissingSource {
  level: Level;
  bucket: Date;
  /** The level read ('raw' for an hour's events) and the removed source windows, as [start, end). */
  sourceLevel: Level | 'raw';
  sources: { start: Date; end: Date }[];
}

/** Marks the windows of `level` in [start, end) as having their state removed (the sweep deleted it). */
export async function markStateRemoved(db: Queryable, level: Level, start: Date, end: Date): Promise<void> {
  await db.query(
    `UPDATE aggregation_windows SET state_removed = true WHERE level = $1 AND bucket >= $2 AND bucket < $3`,
    [level, start, end],
  );
}

// For rollup windows `w`: source windows `s` of the level below, inside w, whose state is removed. A day
// starting inside a UTC hour (a half-hour zone) reads that hour too.
const REMOVED_SOURCES = `
  JOIN aggregation_windows s
    ON s.level = CASE w.level WHEN 'day' THEN 'hour' ELSE 'day' END AND s.state_removed
   AND s.bucket >= CASE w.level WHEN 'day' THEN date_trunc('hour', w.bucket, 'UTC') ELSE w.bucket END
   AND s.bucket < agg_bucket_end(w.level, w.bucket, $TZ)`;

interface SourceRow {
  level: Level;
  bucket: Date;
  source_level: Level;
  source: Date;
  source_end: Date;
}

function grouped(rows: readonly SourceRow[]): MissingSource[] {
  const out = new Map<string, MissingSource>();
  for (const r of rows) {
    const key = `${r.level}/${r.bucket.toISOString()}`;
    let entry = out.get(key);
    if (!entry) {
      entry = { level: r.level, bucket: r.bucket, sourceLevel: r.source_level, sources: [] };
      out.set(key, entry);
    }
    entry.sources.push({ start: r.source, end: r.source_end });
  }
  return [...out.values()];
}

/** Rollup windows of `level` among `buckets` that read removed state. */
async function removedRollupSources(
  db: Queryable,
  level: Level,
  buckets: readonly Date[],
  timeZone: string,
): Promise<MissingSource[]> {
  const { rows } = await db.query<SourceRow>(
    `SELECT w.level, w.bucket, s.level AS source_level, s.bucket AS source,
            agg_bucket_end(s.level, s.bucket, $3) AS source_end
     FROM (SELECT $1::text AS level, b AS bucket FROM unnest($2::timestamptz[]) AS b) w
     ${REMOVED_SOURCES.replace('$TZ', '$3')}
     ORDER BY w.bucket, s.bucket`,
    [level, buckets, timeZone],
  );
  return grouped(rows);
}

/** Hours among `buckets` whose UTC day's raw events were removed and not restored. */
async function removedRawSources(db: Queryable, buckets: readonly Date[]): Promise<MissingSource[]> {
  if (buckets.length === 0) return [];
  const times = buckets.map((b) => b.getTime());
  const days = new Set(
    await removedUnitsOverlapping(
      db,
      'raw',
      new Date(Math.min(...times)),
      new Date(Math.max(...times) + HOUR_MS),
    ),
  );
  return buckets
    .filter((b) => days.has(b.toISOString().slice(0, 10)))
    .map((b) => {
      const start = new Date(Math.floor(b.getTime() / DAY_MS) * DAY_MS);
      return {
        level: 'hour' as const,
        bucket: b,
        sourceLevel: 'raw' as const,
        sources: [{ start, end: new Date(start.getTime() + DAY_MS) }],
      };
    });
}

/** Windows of `level` among `buckets` whose source includes state or raw days the retention sweep removed. */
export async function removedSources(
  db: Queryable,
  level: Level,
  buckets: readonly Date[],
  timeZone: string,
): Promise<MissingSource[]> {
  return level === 'hour'
    ? removedRawSources(db, buckets)
    : removedRollupSources(db, level, buckets, timeZone);
}

/**
 * Existing rollup windows of `levels` overlapping [from, to) that read removed state — what a backfill of that
 * range would re-open — leaving out source windows of `rebuilt` level in [from, to), which the backfill itself
 * computes again, and windows whose own state is removed as well: those are only left removed, nothing lost.
 */
export async function removedSourcesOverlapping(
  db: Queryable,
  levels: readonly Level[],
  from: Date,
  to: Date,
  timeZone: string,
  rebuilt: Level,
): Promise<MissingSource[]> {
  const { rows } = await db.query<SourceRow>(
    `SELECT w.level, w.bucket, s.level AS source_level, s.bucket AS source,
            agg_bucket_end(s.level, s.bucket, $4) AS source_end
     FROM aggregation_windows w
     ${REMOVED_SOURCES.replace('$TZ', '$4')}
     WHERE w.level = ANY ($1::text[]) AND w.level <> 'hour' AND w.bucket < $3 AND agg_bucket_end(w.level, w.bucket, $4) > $2
       AND NOT w.state_removed
       AND NOT (s.level = $5 AND s.bucket >= $2 AND s.bucket < $3)
     ORDER BY w.level, w.bucket, s.bucket`,
    [levels, from, to, timeZone, rebuilt],
  );
  return grouped(rows);
}

/** The UTC days whose raw events, restored with recompute, rebuild the missing sources: [first, last]. */
export function daysToRestore(missing: readonly MissingSource[]): { from: string; to: string } {
  const starts = missing.flatMap((m) => m.sources.map((s) => s.start.getTime()));
  const ends = missing.flatMap((m) => m.sources.map((s) => s.end.getTime() - 1));
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: day(Math.min(...starts)), to: day(Math.max(...ends)) };
}

/** "the week window 2026-11-30T00:00:00.000Z (day state 2026-11-30T00:00:00.000Z, …)" for the first few. */
export function describeMissing(missing: readonly MissingSource[], limit = 3): string {
  const shown = missing.slice(0, limit).map((m) => {
    const sources = m.sources.map((s) => s.start.toISOString());
    const what = m.sourceLevel === 'raw' ? 'raw events of' : `${m.sourceLevel} state`;
    return (
      `the ${m.level} window ${m.bucket.toISOString()} (${what} ${sources.slice(0, 3).join(', ')}` +
      `${sources.length > 3 ? ` and ${sources.length - 3} more` : ''})`
    );
  });
  return `${shown.join('; ')}${missing.length > limit ? `; and ${missing.length - limit} more windows` : ''}`;
}

export function restoreCommand(missing: readonly MissingSource[]): string {
  const { from, to } = daysToRestore(missing);
  return `npm run restore -- --from ${from} --to ${to} --recompute`;
}

/** Why a window was left removed (sourcesToLeaveRemoved), for its ledger row, the run summary and the log. */
export function leftRemovedReason(missing: MissingSource): string {
  const days = daysToRestore([missing]);
  const what = missing.sourceLevel === 'raw' ? 'raw events' : `${missing.sourceLevel} state`;
  return (
    `the ${missing.level} window ${missing.bucket.toISOString()} is left removed: the retention sweep removed ` +
    `its own state and ${what} it reads (${days.from} to ${days.to}), so its aggregates are in the archive and ` +
    'nothing is to be done. It is computed again once all its sources are back ' +
    `(${restoreCommand([missing])} rebuilds these)`
  );
}

/** Of `buckets` (windows of `level`), those whose own state the sweep removed and that were not rebuilt since. */
async function ownStateRemoved(db: Queryable, level: Level, buckets: readonly Date[]): Promise<Set<number>> {
  const { rows } = await db.query<{ bucket: Date }>(
    `SELECT bucket FROM aggregation_windows
     WHERE level = $1 AND bucket = ANY ($2::timestamptz[]) AND state_removed`,
    [level, buckets],
  );
  return new Set(rows.map((r) => r.bucket.getTime()));
}

/**
 * Checks that `buckets` can be recomputed whole. A window whose source the retention sweep removed in part is
 * not redone. If its own state is still stored, that state is all there is of the missing part, so the window
 * is refused (AGGREGATE_SOURCE_REMOVED): it fails and keeps its state, visible in /aggregation/status, until
 * the source is rebuilt; then the next attempt succeeds. If the sweep removed its own state too (November's
 * month after one of its days was restored with recompute), there is nothing to keep and nothing to do — its
 * aggregates live in the archive — so failing would only raise an alert that no one can act on: it is returned
 * here, to be left removed, and is computed again once a rebuilt source re-opens it with all its sources present.
 */
export async function sourcesToLeaveRemoved(
  db: Queryable,
  level: Level,
  buckets: readonly Date[],
  timeZone: string,
): Promise<MissingSource[]> {
  const missing = await removedSources(db, level, buckets, timeZone);
  if (missing.length === 0) return [];
  const removed = await ownStateRemoved(
    db,
    level,
    missing.map((m) => m.bucket),
  );
  const refused = missing.filter((m) => !removed.has(m.bucket.getTime()));
  if (refused.length === 0) return missing;
  throw new BatchError(
    'AGGREGATE_SOURCE_REMOVED',
    `${describeMissing(refused)} would be redone without what the retention sweep removed, losing its data; ` +
      `its stored aggregates are kept as they are. Restore those days with recompute ` +
      `(${restoreCommand(refused)}, or POST /retention/restore with "recompute": true) to rebuild that state`,
    {
      context: {
        level,
        windows: refused.slice(0, 20).map((m) => m.bucket.toISOString()),
        restore: daysToRestore(refused),
      },
    },
  );
}
