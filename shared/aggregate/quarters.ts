// Quarter-hour state where a local day starts inside a UTC hour (zones with a half- or quarter-hour offset).
// Hours stay UTC hours. The hour window whose hour holds a day start of the configured zone also stores the
// state of its four quarters (aggregate_quarter_state / _sketch_bins) and marks the hour in
// aggregate_quarter_hours, in its own transaction; a day rolls up the hours wholly inside it and the quarters
// of its edge hours that fall in it (state-sql.ts rollupSources). A quarter's state depends on its 15 minutes
// only, never on the zone, and lives exactly as long as the hour state it was computed with (an hour's
// recompute deletes its quarters), so what is marked is current. A day whose edge hour is not marked (the
// zone changed, or the hour has no events yet) computes that hour's quarters itself before rolling up.
import type { PoolClient } from 'pg';
import { BatchError } from '../errors/index.ts';
import { removedUnitsOverlapping } from '../retention/archives-sql.ts';
import { dayStartInside } from './local-time.ts';
import { insertRangeState, type WindowMode } from './range-state.ts';

const QUARTER_MS = 900_000;
const HOUR_MS = 3_600_000;

/** Writes the state of the four quarters of `hour` and marks the hour; the hour's quarters are empty before. */
async function writeQuarters(tx: PoolClient, hour: Date, mode: WindowMode): Promise<void> {
  for (let q = hour.getTime(); q < hour.getTime() + HOUR_MS; q += QUARTER_MS) {
    await insertRangeState(tx, 'quarter', new Date(q), new Date(q + QUARTER_MS), mode);
  }
}

/**
 * In an hour window's transaction, after deleteWindowsState: stores the hour's quarters when a local day of
 * `zone` starts strictly inside it (found per instant with Intl, so DST moves it where it belongs). Whether
 * the boundary is found here or not, days stay exact: the day checks its own edges (ensureEdgeQuarters).
 */
export async function storeQuartersOfHour(
  tx: PoolClient,
  hour: Date,
  zone: string,
  mode: WindowMode,
): Promise<boolean> {
  if (dayStartInside(hour.getTime(), zone) === undefined) return false;
  // No ON CONFLICT: a day that marked this hour concurrently (ensureEdgeQuarters) makes this window fail on
  // the key and retry, and the retry's delete takes the day's quarters before writing its own.
  await tx.query('INSERT INTO aggregate_quarter_hours (hour) VALUES ($1)', [hour]);
  await writeQuarters(tx, hour, mode);
  return true;
}

/**
 * In a day window's transaction, before its rollup: for each edge of the day (its start, its end as
 * PostgreSQL's agg_bucket_end places it) that lies inside a UTC hour whose quarters are not stored, computes
 * them from raw events and marks the hour. The marker is inserted first: a concurrent writer of the same
 * hour's quarters makes this wait and then find the hour marked. When the hour's raw events were archived
 * and removed, its quarters cannot be computed any more: the day fails with the day to restore.
 */
export async function ensureEdgeQuarters(
  tx: PoolClient,
  day: Date,
  zone: string,
  mode: WindowMode,
): Promise<Date[]> {
  const { rows } = await tx.query<{ hour: Date }>(
    `WITH edge AS (
       SELECT e FROM unnest(ARRAY[$1::timestamptz, agg_bucket_end('day', $1::timestamptz, $2::text)]) AS e
       WHERE e <> date_trunc('hour', e, 'UTC')
     )
     INSERT INTO aggregate_quarter_hours (hour)
     SELECT date_trunc('hour', e, 'UTC') FROM edge ORDER BY 1
     ON CONFLICT (hour) DO NOTHING
     RETURNING hour`,
    [day, zone],
  );
  const hours = rows.map((r) => r.hour);
  for (const hour of hours) {
    const end = new Date(hour.getTime() + HOUR_MS);
    const archived = await removedUnitsOverlapping(tx, 'raw', hour, end);
    if (archived.length > 0) {
      throw new BatchError(
        'QUARTERS_UNAVAILABLE',
        `the day starting ${day.toISOString()} in ${zone} begins or ends inside the UTC hour ` +
          `${hour.toISOString()}, whose quarter-hour state was never stored (the time zone was changed?) and ` +
          `whose raw events were archived and removed (${archived.join(', ')}); restore them ` +
          `(npm run restore -- --from ${archived[0]} --to ${archived.at(-1)}) and run the day again`,
        { context: { day: day.toISOString(), timeZone: zone, hour: hour.toISOString(), archived } },
      );
    }
    await writeQuarters(tx, hour, mode);
  }
  return hours;
}
