// The spans a period's per-hour rows cover, and filling the spans the aggregate views have no row for. The
// views hold only buckets that had events, so an hour without traffic had no row: the rows did not cover the
// period (157 of a week's 168) and the chart drew a straight line across an outage. A span is a UTC hour, or
// at the edges of a period that starts or ends inside one (Asia/Kolkata, +05:30) the part of it inside the
// period — the spans summary-sql.ts reads (whole hours, and edgeHourParts at the edges).

const HOUR_MS = 3_600_000;

export interface HourSpan {
  start: Date;
  end: Date;
}

/**
 * Every span of [start, end), in order, up to `until` (exclusive of spans not over by then): whole UTC hours,
 * and the parts of the edge hours inside the period. A Kolkata day is 25 spans (00:00–00:30 … 23:30–24:00
 * local), a day of a summer-time change 23 or 25 whole hours.
 */
export function periodHourSpans(start: Date, end: Date, until: Date = end): HourSpan[] {
  const spans: HourSpan[] = [];
  const last = Math.min(end.getTime(), until.getTime());
  let at = start.getTime();
  while (at < end.getTime()) {
    const next = Math.min(end.getTime(), (Math.floor(at / HOUR_MS) + 1) * HOUR_MS);
    // a span that is not over is not final: no row of zeros for an hour still to come
    if (next > last) break;
    spans.push({ start: new Date(at), end: new Date(next) });
    at = next;
  }
  return spans;
}

/**
 * `rows` with a row made by `empty` for each span none of them starts at, ordered by start. Rows of a start
 * no span has are kept (a row is never dropped here, whatever the spans say).
 */
export function fillSpans<T>(
  rows: readonly T[],
  spans: readonly HourSpan[],
  startOf: (row: T) => Date,
  empty: (span: HourSpan) => T,
): T[] {
  const have = new Set(rows.map((r) => startOf(r).getTime()));
  const added = spans.filter((s) => !have.has(s.start.getTime())).map(empty);
  // stable: rows of one start (a host's metrics) keep the order they came in
  return [...rows, ...added].sort((a, b) => startOf(a).getTime() - startOf(b).getTime());
}
