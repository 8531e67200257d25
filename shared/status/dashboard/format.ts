// How the dashboard writes times, durations and counts: UTC everywhere (the charts' axes too), durations in
// the largest two units, counts with thousands separators.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "28 Nov 10:05 UTC" (the year only when it is not the current one). */
export function utcTime(iso: string, now: Date): string {
  const d = new Date(iso);
  const month = d.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  const year = d.getUTCFullYear() === now.getUTCFullYear() ? '' : ` ${d.getUTCFullYear()}`;
  return `${d.getUTCDate()} ${month}${year} ${hm} UTC`;
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return `${Math.round(abs / 1000)} s`;
  if (abs < HOUR) return `${Math.round(abs / MINUTE)} min`;
  if (abs < DAY) {
    const h = Math.floor(abs / HOUR);
    const m = Math.round((abs - h * HOUR) / MINUTE);
    return m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  const d = Math.floor(abs / DAY);
  const h = Math.round((abs - d * DAY) / HOUR);
  return h === 0 ? `${d} d` : `${d} d ${h} h`;
}

/** "5 min ago" / "in 45 min". */
export function relative(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  return ms >= 0 ? `in ${duration(ms)}` : `${duration(ms)} ago`;
}

/** A run's duration: "850 ms", "12 s", "3 min". */
export function runDuration(ms: number | null): string {
  if (ms === null) return 'running';
  return ms < 1000 ? `${ms} ms` : duration(ms);
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}
