// The per-hour table of a day whose clocks change, as PDF and DOCX print it (format.ts through layout.ts).
// Regression: Havana's daily_summary of 2026-11-01 (midnight repeated: the day starts at the first 00:00,
// 04:00Z, and lasts 25 hours) began "2026-11-01 00:00 | 24:00" — its first hour ends at the second 00:00, not
// at the end of the day — followed by a second "2026-11-01 00:00" no reader could tell from the first.
import test from 'ava';
import { periodHourSpans } from '../../shared/reports/builders/hour-spans.ts';
import type { ReportDocument } from '../../shared/reports/model.ts';
import { parsePeriod } from '../../shared/reports/period.ts';
import { formatValue } from '../../shared/reports/render/format.ts';
import { cellText, layout } from '../../shared/reports/render/layout.ts';

/** The daily_summary per-hour table of `date` in `zone`, as [From, To] texts per row. */
function hourTable(zone: string, date: string): Array<[string, string]> {
  const period = parsePeriod(date, 'day', { timeZone: zone, weekStart: 'monday' });
  const hourly = periodHourSpans(period.start, period.end).map((s) => ({
    hour: s.start.toISOString(),
    hour_end: s.end.toISOString(),
    requests: 1,
    errors: 0,
    cost_usd: 0.01,
    latency_p95_ms: 100,
  }));
  const doc = {
    schema_version: 1,
    report_type: 'daily_summary',
    title: 't',
    footer: '',
    period: {
      label: date,
      level: 'day',
      start: period.start.toISOString(),
      end: period.end.toISOString(),
      time_zone: zone,
    },
    previous_period: null,
    generated_at: '2026-12-01T00:00:00Z',
    source: { views: [], window_seq: null },
    sections: ['hourly'],
    data: { hourly },
  } as ReportDocument;
  const table = layout(doc)
    .flatMap((b) => b.tables)
    .find((x) => x.id === 'hourly')!;
  const [from, to] = ['hour', 'hour_end'].map((key) => table.columns.find((c) => c.key === key)!);
  return table.rows.map((row) => [cellText(table, from!, row, zone), cellText(table, to!, row, zone)]);
}

test("Havana's repeated midnight: two hours from 00:00 told apart by their offset, 24:00 only at the day's end", (t) => {
  const rows = hourTable('America/Havana', '2026-11-01');
  t.is(rows.length, 25);
  t.deepEqual(rows.slice(0, 3), [
    ['2026-11-01 00:00 \u221204', '00:00 \u221205'],
    ['2026-11-01 00:00 \u221205', '01:00'],
    ['2026-11-01 01:00', '02:00'],
  ]);
  t.deepEqual(rows.at(-1), ['2026-11-01 23:00', '24:00']);
  t.is(rows.filter(([, to]) => to === '24:00').length, 1);
});

test("New York's repeated 01:00 and the Azores' repeated midnight carry their offsets; the hours around do not", (t) => {
  const ny = hourTable('America/New_York', '2026-11-01');
  t.is(ny.length, 25);
  t.deepEqual(ny.slice(0, 4), [
    ['2026-11-01 00:00', '01:00 \u221204'],
    ['2026-11-01 01:00 \u221204', '01:00 \u221205'],
    ['2026-11-01 01:00 \u221205', '02:00'],
    ['2026-11-01 02:00', '03:00'],
  ]);
  const azores = hourTable('Atlantic/Azores', '2026-10-25');
  t.deepEqual(azores.slice(0, 2), [
    ['2026-10-25 00:00 +00', '00:00 \u221201'],
    ['2026-10-25 00:00 \u221201', '01:00'],
  ]);
  t.deepEqual(azores.at(-1), ['2026-10-25 23:00', '24:00']);
});

test("Santiago's skipped midnight: 2026-09-05 ends at 24:00 (01:00 of the 6th), the 6th starts at 01:00", (t) => {
  const fifth = hourTable('America/Santiago', '2026-09-05');
  t.is(fifth.length, 24);
  t.deepEqual(fifth.at(-1), ['2026-09-05 23:00', '24:00']);
  const sixth = hourTable('America/Santiago', '2026-09-06');
  t.is(sixth.length, 23);
  t.deepEqual(sixth[0], ['2026-09-06 01:00', '02:00']);
  t.deepEqual(sixth.at(-1), ['2026-09-06 23:00', '24:00']);
});

test('a time of an ordinary day has no offset, a half-hour zone neither', (t) => {
  t.is(formatValue('2026-11-28T18:30:00Z', 'until', 'Asia/Kolkata'), '24:00');
  t.is(formatValue('2026-11-28T18:00:00Z', 'time', 'Asia/Kolkata'), '2026-11-28 23:30');
  t.is(formatValue('2026-11-30T00:00:00Z', 'until', 'UTC'), '24:00');
  t.is(formatValue('2026-11-30T12:00:00Z', 'until', 'UTC'), '12:00');
});
