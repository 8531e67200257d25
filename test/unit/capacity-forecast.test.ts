// shared/capacity/forecast.ts: the backtest's choice between MSTL and seasonal naive, the conformal
// quantile, the widths past the backtested steps, and a failing model.
import test from 'ava';
import { maseScale, smape } from '../../shared/capacity/accuracy.ts';
import {
  conformalQuantile,
  forecastSeries,
  seasonalNaiveForecast,
  type Fitter,
} from '../../shared/capacity/forecast.ts';

const daily = (n: number, noise = 0): number[] =>
  Array.from(
    { length: n },
    (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 24) + noise * Math.sin(i * 12.9898) * 3,
  );

test('conformalQuantile is the ⌈(n+1)·level⌉-th smallest score, capped at the largest', (t) => {
  const scores = [5, 1, 4, 2, 3, 9, 8, 7, 6, 10];
  t.is(conformalQuantile(scores, 0.5), 6);
  t.is(conformalQuantile(scores, 0.95), 10);
  t.is(conformalQuantile([1, 2, 3], 0.1), 1);
  t.true(Number.isNaN(conformalQuantile([], 0.9)));
});

test('sMAPE and the MASE scale as the M4 competition computes them', (t) => {
  t.is(smape([100, 0], [110, 0]), (100 * (20 / 210)) / 2);
  t.is(maseScale([1, 2, 3, 5], 2), 2.5);
});

test('a model that loses to seasonal naive in the backtest is replaced by it, and the answer says so', (t) => {
  const flatZero: Fitter = (_y, _p, h) => ({
    point: new Array(h).fill(0),
    halfWidth95: new Array(h).fill(1),
  });
  const y = daily(10 * 24, 1);
  const f = forecastSeries(y, { horizon: 48, fit: flatZero });
  t.is(f.model, 'seasonal_naive');
  t.regex(
    f.fallbackReason!,
    /^seasonal naive beat MSTL in the backtest \(MASE [\d.]+ vs [\d.]+ over 3 windows of 48 h\); seasonal naive used$/,
  );
  t.deepEqual(f.point, seasonalNaiveForecast(y, 48).point);
  t.deepEqual(f.periods, [24]);
  t.true(f.backtest!.mase <= f.backtest!.mstlMase!);
  t.is(f.backtest!.mase, f.backtest!.baselineMase);
});

test('a model that throws falls back to seasonal naive with its error', (t) => {
  const broken: Fitter = () => {
    throw new Error('panicked');
  };
  const f = forecastSeries(daily(5 * 24), { horizon: 24, fit: broken });
  t.is(f.model, 'seasonal_naive');
  t.is(f.fallbackReason, 'MSTL failed (panicked); seasonal naive used');
  t.is(f.backtest!.mstlMase, undefined);
});

test('intervals: λ times the model width within the backtested steps, the model growth added beyond', (t) => {
  // a perfect model with a half-width growing linearly: λ is 0-ish inside, growth shows outside
  const y = daily(10 * 24);
  const exact: Fitter = (train, _p, h) => ({
    point: Array.from({ length: h }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * (train.length + i)) / 24)),
    halfWidth95: Array.from({ length: h }, (_, i) => 1 + i),
  });
  const f = forecastSeries(y, { horizon: 96, fit: exact });
  t.is(f.model, 'mstl');
  t.is(f.calibration, 'conformal');
  t.true(f.lambda95 < 1e-6, `λ ${f.lambda95}`);
  t.true(f.hi95[10]! - f.point[10]! < 1e-3, 'inside the windows: the calibrated (zero) width');
  const w = f.hi95[95]! - f.point[95]!;
  t.true(Math.abs(w - Math.sqrt(96 ** 2 - 48 ** 2)) < 1e-6, `beyond: √(hw² − hw_edge²) = ${w}`);
  t.true(f.lo95.every((v, i) => v <= f.lo80[i]! && f.hi80[i]! <= f.hi95[i]!));
});

test('forecasts are clamped at the floor; a history without room for a window keeps the model width', (t) => {
  const y = Array.from({ length: 60 }, (_, i) => (i % 24 < 2 ? 5 : 0.5));
  const f = forecastSeries(y, { horizon: 24, floor: 0 });
  t.is(f.calibration, 'model');
  t.is(f.backtest, undefined);
  t.true(f.lo95.every((v) => v >= 0) && f.point.every((v) => v >= 0));
});

// A disk filling at 6 a week, with a 9-hour wobble that is neither daily nor weekly: MSTL's AutoETS trend
// followed the wobble and MSTL forecast the last level for a month.
const ramp = (hours: number): number[] =>
  Array.from(
    { length: hours },
    (_, i) => 60 + (6 * i) / 168 + Math.sin((2 * Math.PI * i) / 9) + 0.2 * Math.sin(i * 12.9898),
  );

test('growth check: a forecast that does not grow like the history is replaced by its line, and says why', (t) => {
  for (const hours of [168, 3 * 168]) {
    const f = forecastSeries(ramp(hours), { horizon: 720, floor: 0 });
    t.is(f.model, 'linear_trend', `${hours} h: ${f.fallbackReason}`);
    t.regex(
      f.fallbackReason!,
      /^(MSTL|seasonal naive)'s forecast grows -?[\d.]+ a week, outside the history's [\d.]+ ± [\d.]+ \(95 %\); the history's linear trend scored as well in the backtest \(MASE [\d.]+ vs [\d.]+ over 3 windows of (24|48) h\) and is used$/,
    );
    const growth = f.point[719]! - f.point[719 - 168]!;
    t.true(Math.abs(growth - 6) < 0.5, `${hours} h: the forecast grows ${growth} a week`);
    t.is(f.backtest!.linearMase, f.backtest!.mase);
    t.true(f.lo95[719]! < f.point[719]! && f.point[719]! < f.hi95[719]!);
    t.true(
      f.hi95[719]! - f.lo95[719]! > f.hi95[100]! - f.lo95[100]!,
      'the growth rate is uncertain: the band widens with the distance',
    );
  }
});

test('growth check: not on a two-day forecast of a weekly series (the M4 protocol), nor without a trend', (t) => {
  t.not(forecastSeries(ramp(3 * 168), { horizon: 48 }).model, 'linear_trend');
  t.not(forecastSeries(daily(3 * 168, 1), { horizon: 720 }).model, 'linear_trend');
});
