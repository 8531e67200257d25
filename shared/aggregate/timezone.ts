// Refuses time zones in which hours would not nest in days: a local midnight must fall on a UTC hour, so
// the zone's UTC offset must be a whole number of hours at every instant of the range processed.
import { BatchError } from '../errors/index.ts';

const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    } catch {
      throw new BatchError(
        'TIMEZONE_UNSUPPORTED',
        `time zone "${zone}" is not a known IANA zone; use a name such as "UTC", "Europe/Berlin" or "America/New_York"`,
        { context: { timeZone: zone } },
      );
    }
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's UTC offset at `at`, in minutes (east positive). */
export function utcOffsetMinutes(zone: string, at: Date): number {
  const name = formatter(zone)
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  // "GMT", "GMT+05:30", "GMT-03:00", sometimes with seconds ("GMT+00:53:28") for local mean time.
  const m = /^GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(name ?? '');
  if (!m) throw new Error(`cannot read the UTC offset of ${zone} from "${name}"`);
  if (!m[1]) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]) + Number(m[4] ?? 0) / 60;
  return m[1] === '-' ? -minutes : minutes;
}

function describe(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const h = Math.floor(abs / 60);
  const m = Math.round((abs - h * 60) * 100) / 100;
  return `UTC${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/**
 * Throws TIMEZONE_UNSUPPORTED unless `zone` is a known zone whose offset is a whole number of hours at every
 * hour from `from` to `to` (offsets only change at transitions, which fall on or between the hours sampled;
 * the end points are checked too).
 */
export function assertSupportedTimeZone(zone: string, from: Date, to: Date): void {
  const start = Math.floor(Math.min(from.getTime(), to.getTime()) / HOUR_MS) * HOUR_MS;
  const end = Math.max(from.getTime(), to.getTime());
  for (let t = start; ; t += HOUR_MS) {
    const at = new Date(Math.min(t, end));
    const offset = utcOffsetMinutes(zone, at);
    if (offset % 60 !== 0) {
      throw new BatchError(
        'TIMEZONE_UNSUPPORTED',
        `time zone "${zone}" is not supported for aggregation: its UTC offset on ${at.toISOString()} is ` +
          `${describe(offset)}, not a whole number of hours, so UTC hours would not nest in its days ` +
          '(hourly state could not be summed into days); configure a zone with whole-hour offsets, e.g. "UTC"',
        { context: { timeZone: zone, at: at.toISOString(), offsetMinutes: offset } },
      );
    }
    if (t >= end) break;
  }
}
