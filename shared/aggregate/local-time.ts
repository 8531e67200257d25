// Local dates and wall-clock times of the configured zone as instants: the query API's `from`/`to` and the
// price table's `valid_from` read "2026-11-28" as midnight where the platform's days are counted, the instant
// the aggregates' day of that date starts.
import { utcOffsetMinutes } from './timezone.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** A calendar date or a date-time without offset (YYYY-MM-DD[THH:MM[:SS[.sss]]]). */
export const LOCAL_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?$/;

/**
 * The instant of a wall-clock time in `zone`, given as the milliseconds it would have in UTC, as the
 * aggregates' calendar places it (agg_local_instant in SQL, migration 000017): a time skipped by a DST gap
 * lands as far after the gap as it was into it, as PostgreSQL's `timestamp AT TIME ZONE` puts it (02:30 in New
 * York's 02:00–03:00 gap of 2026-03-08 is 03:30 EDT, 07:30Z; Santiago's skipped midnight of 2026-09-06 is 01:00
 * there, 04:00Z, when that day starts); a time that occurs twice (fall back) is its first occurrence, in the
 * offset before the change (01:30 in New York on 2026-11-01 is 01:30 EDT, 05:30Z; Havana's midnight of
 * 2026-11-01 is 00:00 CDT, 04:00Z, when that day starts), where AT TIME ZONE would take the second.
 */
export function wallClockToInstant(wallMs: number, zone: string): number {
  // The offsets a day either side: a change near the time lies between them (changes are months apart).
  const before = utcOffsetMinutes(zone, new Date(wallMs - DAY_MS));
  const after = utcOffsetMinutes(zone, new Date(wallMs + DAY_MS));
  if (before === after) return wallMs - before * MINUTE_MS;
  // An offset holds for the time when the instant it gives has that offset; both hold in an overlap,
  // neither in a gap.
  const holds = [before, after].filter(
    (offset) => utcOffsetMinutes(zone, new Date(wallMs - offset * MINUTE_MS)) === offset,
  );
  if (holds.length === 1) return wallMs - holds[0]! * MINUTE_MS;
  // Repeated: the larger offset gives the earlier instant. Skipped: the smaller, past the gap.
  return wallMs - (holds.length === 2 ? Math.max(before, after) : Math.min(before, after)) * MINUTE_MS;
}

/** The instant local date `date` (YYYY-MM-DD) of `zone` starts: where the aggregates' day of that date starts. */
export function localDateStart(date: string, zone: string): number {
  return wallClockToInstant(Date.parse(`${date}T00:00:00Z`), zone);
}

/**
 * Whether the wall-clock time of an instant occurs twice in `zone`, a change back of the clocks repeating it:
 * Havana's 00:00 of 2026-11-01 is 04:00Z (CDT) and 05:00Z (CST), New York's 01:00 that day 05:00Z and 06:00Z.
 * True for both occurrences; a time that only borders a change (01:00 after Havana's repeated hour) is not one.
 */
export function repeatsWallClock(instantMs: number, zone: string): boolean {
  const offset = utcOffsetMinutes(zone, new Date(instantMs));
  const wall = instantMs + offset * MINUTE_MS;
  // the other offset of a change near the instant (a day either side, as wallClockToInstant) gives the same
  // wall time when that instant has it
  return [instantMs - DAY_MS, instantMs + DAY_MS].some((probe) => {
    const other = utcOffsetMinutes(zone, new Date(probe));
    return other !== offset && utcOffsetMinutes(zone, new Date(wall - other * MINUTE_MS)) === other;
  });
}

/**
 * `text` as an instant (epoch ms): a date is its local midnight in `zone`, a date-time without offset its
 * local time there, a date-time with `Z` or an offset that instant. undefined when it is none of these
 * or names a day that does not exist (2026-02-30).
 */
export function parseZonedInstant(text: string, zone: string): number | undefined {
  const local = LOCAL_DATE_TIME.exec(text);
  if (local) {
    const [y, mo, d, h, mi, s] = local.slice(1, 7).map((part) => (part === undefined ? 0 : Number(part)));
    const ms = Number((local[7] ?? '').padEnd(3, '0'));
    const wall = Date.UTC(y!, mo! - 1, d!, h, mi, s, ms);
    const check = new Date(wall);
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo! - 1 || check.getUTCDate() !== d) {
      return undefined;
    }
    if (h! > 23 || mi! > 59 || s! > 59) return undefined;
    return wallClockToInstant(wall, zone);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i.test(text))
    return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The local calendar date (YYYY-MM-DD) of an instant in `zone`. */
export function localDate(instantMs: number, zone: string): string {
  const shifted = new Date(instantMs + utcOffsetMinutes(zone, new Date(instantMs)) * MINUTE_MS);
  return shifted.toISOString().slice(0, 10);
}

/**
 * The instant a local day of `zone` starts strictly inside the UTC hour starting at `hourMs`, or undefined
 * (days last 23 hours at least, so an hour holds one start at most). Found per instant, DST included: the
 * first instant whose local date differs from the hour's first, to the millisecond. A start on the hour
 * itself is not inside it.
 */
export function dayStartInside(hourMs: number, zone: string): number | undefined {
  const first = localDate(hourMs, zone);
  let hi = hourMs + HOUR_MS - 1;
  if (localDate(hi, zone) === first) return undefined;
  let lo = hourMs; // local date of lo is `first`, of hi the next day
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (localDate(mid, zone) === first) lo = mid;
    else hi = mid;
  }
  return hi;
}
