// Time zones for day, week and month buckets: any IANA zone whose days start on a quarter hour (UTC offsets in
// whole quarter hours: every zone in use today, e.g. +05:30 Kolkata, +05:45 Kathmandu, +09:30/+10:30 Adelaide).
// Unknown names, and the local mean time some zones kept before ~1900 (+05:21:10), are refused.
import { BatchError } from '../errors/index.ts';

const HOUR_MS = 3_600_000;
/** The finest grain state is stored at (quarters.ts): a local day must start on one. */
const QUARTER_MINUTES = 15;
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
  const seconds = Math.round(Math.abs(minutes) * 60);
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  const two = (n: number): string => String(n).padStart(2, '0');
  return `UTC${sign}${two(h)}:${two(m)}${s ? `:${two(s)}` : ''}`;
}

/**
 * Throws TIMEZONE_UNSUPPORTED unless `zone` is a known zone whose offset is a whole number of quarter hours at
 * every hour from `from` to `to` (offsets only change at transitions, which fall on or between the hours
 * sampled; the end points are checked too). Then every local midnight — day, week and month start — falls on
 * a quarter hour, where stored state can be cut.
 */
export function assertSupportedTimeZone(zone: string, from: Date, to: Date): void {
  const start = Math.floor(Math.min(from.getTime(), to.getTime()) / HOUR_MS) * HOUR_MS;
  const end = Math.max(from.getTime(), to.getTime());
  for (let t = start; ; t += HOUR_MS) {
    const at = new Date(Math.min(t, end));
    const offset = utcOffsetMinutes(zone, at);
    if (offset % QUARTER_MINUTES !== 0) {
      throw new BatchError(
        'TIMEZONE_UNSUPPORTED',
        `time zone "${zone}" is not supported for aggregation: its UTC offset on ${at.toISOString()} is ` +
          `${describe(offset)}, not a whole number of quarter hours, so its days would not start on a quarter ` +
          'hour (the finest grain aggregates are cut at); aggregate a later range, or configure a zone such as "UTC"',
        { context: { timeZone: zone, at: at.toISOString(), offsetMinutes: offset } },
      );
    }
    if (t >= end) break;
  }
}
