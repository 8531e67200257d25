// The parts of UTC hours a period covers only in part: a Kolkata day (18:30–18:30 UTC) begins with the second
// half of one hour and ends with the first half of another; a Kathmandu day (+05:45) with three quarters and
// one; a day in a whole-hour zone has none.
import test from 'ava';
import { edgeHourParts } from '../../shared/aggregate/index.ts';

const parts = (start: string, end: string) =>
  edgeHourParts(new Date(start), new Date(end)).map((p) => [p.start.toISOString(), p.end.toISOString()]);

test('edge hour parts of a day in half-, quarter- and whole-hour zones', (t) => {
  t.deepEqual(parts('2026-11-27T18:30:00Z', '2026-11-28T18:30:00Z'), [
    ['2026-11-27T18:30:00.000Z', '2026-11-27T19:00:00.000Z'],
    ['2026-11-28T18:00:00.000Z', '2026-11-28T18:30:00.000Z'],
  ]);
  t.deepEqual(parts('2026-11-27T18:15:00Z', '2026-11-28T18:15:00Z'), [
    ['2026-11-27T18:15:00.000Z', '2026-11-27T19:00:00.000Z'],
    ['2026-11-28T18:00:00.000Z', '2026-11-28T18:15:00.000Z'],
  ]);
  t.deepEqual(parts('2026-11-27T23:00:00Z', '2026-11-28T23:00:00Z'), []);
  // a span inside one hour is one part
  t.deepEqual(parts('2026-11-27T18:15:00Z', '2026-11-27T18:45:00Z'), [
    ['2026-11-27T18:15:00.000Z', '2026-11-27T18:45:00.000Z'],
  ]);
});
