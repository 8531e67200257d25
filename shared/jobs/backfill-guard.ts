// A backfill recomputes windows from what lies below them — raw events for hours, the finer level's state for
// rollups — and each window it redoes re-opens the windows above it (a day its week and month). Where the
// retention sweep removed part of what one of those windows reads, redoing it would replace good aggregates
// with ones that lack that part, so the backfill is refused before anything is marked, and says what to
// restore. A window whose own state the sweep removed too is not a reason to refuse: it would be left removed,
// as it is. The aggregation job checks every window again when it computes it (shared/aggregate/
// removed-sources.ts), whatever re-opened it.
import {
  describeMissing,
  levelsAbove,
  removedSourcesOverlapping,
  restoreCommand,
  type Level,
} from '../aggregate/index.ts';
import type { Queryable } from '../db/index.ts';
import { BatchError } from '../errors/index.ts';
import { removedUnitsOverlapping } from '../retention/archives-sql.ts';

/** `level` and every level its windows re-open, transitively (hour → day → week, month). */
function redoneLevels(level: Level): Level[] {
  const out: Level[] = [level];
  for (let i = 0; i < out.length; i++) {
    for (const above of levelsAbove(out[i]!)) if (!out.includes(above)) out.push(above);
  }
  return out;
}

export async function refuseRemovedSources(
  db: Queryable,
  level: Level,
  range: { from: Date; to: Date },
  timeZone: string,
): Promise<void> {
  const span = `${range.from.toISOString()}..${range.to.toISOString()}`;
  if (level === 'hour') {
    const days = await removedUnitsOverlapping(db, 'raw', range.from, range.to);
    if (days.length > 0) {
      const shown = `${days.slice(0, 5).join(', ')}${days.length > 5 ? ` and ${days.length - 5} more` : ''}`;
      throw new BatchError(
        'REQUEST_INVALID',
        `backfill of hours ${span} would recompute them from raw events the retention sweep archived and ` +
          `removed (${shown}); restore those days first (npm run restore -- --from ${days[0]} --to ` +
          `${days.at(-1)}) or backfill a later range`,
        {
          context: {
            level,
            from: range.from.toISOString(),
            to: range.to.toISOString(),
            archived: days.slice(0, 20),
          },
        },
      );
    }
  }
  const missing = await removedSourcesOverlapping(
    db,
    redoneLevels(level).filter((l) => l !== 'hour'),
    range.from,
    range.to,
    timeZone,
    level,
  );
  if (missing.length === 0) return;
  throw new BatchError(
    'REQUEST_INVALID',
    `backfill of ${level} windows ${span} would redo ${describeMissing(missing)} without what the retention ` +
      `sweep removed, losing its data; nothing was marked. Restore those days with recompute first ` +
      `(${restoreCommand(missing)}), or backfill a range whose windows do not read them`,
    {
      context: {
        level,
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        windows: missing.slice(0, 20).map((m) => `${m.level}/${m.bucket.toISOString()}`),
      },
    },
  );
}
