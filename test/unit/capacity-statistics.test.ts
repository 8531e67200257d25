// shared/capacity/statistics.ts: growth per week, whatever the phase of the daily swing.
import test from 'ava';
import { growthPerWeek } from '../../shared/capacity/statistics.ts';

test('growth per week: one week of +6/week under a daily swing of ±10 reads 6, wherever the swing starts', (t) => {
  for (const phase of [0, 6, 12, 18]) {
    const y = Array.from(
      { length: 168 },
      (_, i) => 50 + (6 * i) / 168 + 10 * Math.sin((2 * Math.PI * (i + phase)) / 24),
    );
    const growth = growthPerWeek(y)!;
    t.true(Math.abs(growth - 6) < 0.01, `phase ${phase}: ${growth}`);
  }
});

test('growth per week: over whole weeks a weekly swing does not tilt it either', (t) => {
  const y = Array.from(
    { length: 3 * 168 },
    (_, i) => 40 + (3 * i) / 168 + 5 * Math.sin((2 * Math.PI * i) / 24) + (i % 168 >= 120 ? -8 : 0),
  );
  t.true(Math.abs(growthPerWeek(y)! - 3) < 0.01, `${growthPerWeek(y)}`);
  t.is(growthPerWeek(y.slice(0, 47)), undefined, 'under two days: no growth');
});
