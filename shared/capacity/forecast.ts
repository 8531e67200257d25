// One series' forecast: MSTL (periods 24 and 168, AutoETS trend) checked against the seasonal naive
// method in a rolling-origin backtest, and prediction intervals calibrated on that backtest's errors.
//
// Backtest: K windows of `backtestHorizon` hours at the end of the history; for window k the model is
// fitted on everything before it and forecasts it. Both MSTL and seasonal naive (m = 24) are scored by
// MASE (m = 24) and sMAPE. When seasonal naive scores the lower mean MASE, the series is forecast with
// seasonal naive and the answer says so.
//
// Intervals (split conformal, normalised): each backtest error is divided by the half-width of the
// model's own 95 % interval at that step; the interval of the final forecast is the point ± λ times the
// model's half-width, λ being the conformal quantile of those ratios. The model's own intervals are too
// narrow (MSTL's cover ~86 % at nominal 95 % on M4 Hourly); their half-widths still give the shape within
// the windows. Past the windows' length (a 30-day forecast, 2-day windows) the model's further growth of
// uncertainty is added in quadrature, uncalibrated: the backtest says nothing about it.
//
// Cost: the backtest is K more fits per series, so its models see at most the last three weeks before their
// window (BACKTEST_TRAINING_HOURS) — enough for two weekly cycles — and K is 3. Fitted on less history, their
// errors run a little larger than the final model's; on M4 Hourly (414 series, horizon 48) that offsets the
// strong correlation of the errors within one window, and the plain conformal level covers what it says
// (0.954 at 95 %, 0.840 at 80 %; README, "Forecast benchmark"). Each forecast carries its own measured
// coverage: every backtest window scored by an interval calibrated on the other windows.
import { maseScale, meanAbsoluteError, seasonalNaive, smape } from './accuracy.ts';
import { mstlForecast, type ModelForecast } from './augurs.ts';

export const DAY = 24;
export const WEEK = 168;
/** Seasonal period of MASE and of the seasonal naive baseline. */
export const MASE_PERIOD = DAY;
export const DEFAULT_BACKTEST_WINDOWS = 3;
/** Most history a backtest model is fitted on: three weeks. */
export const BACKTEST_TRAINING_HOURS = 3 * 168;
/** The M4 Hourly protocol's horizon; longer forecasts extrapolate the calibration with the model's shape. */
export const MAX_BACKTEST_HORIZON = 48;
const Z95 = 1.959963984540054;

export type Fitter = (y: ArrayLike<number>, periods: readonly number[], horizon: number) => ModelForecast;

export interface ForecastOptions {
  /** Steps (hours) to forecast. */
  horizon: number;
  /** Backtest windows (default 3; fewer when the history is short). */
  windows?: number;
  /** Hours per backtest window (default min(horizon, 48)). */
  backtestHorizon?: number;
  /** Most history a backtest model is fitted on (default BACKTEST_TRAINING_HOURS). */
  backtestTraining?: number;
  /** Seasonal periods (default [24, 168] with two weeks of history, else [24]). */
  periods?: readonly number[];
  /** Lowest value the quantity can take (0 for utilisation, counts, cost); forecasts are clamped to it. */
  floor?: number;
  /** The MSTL fitter (tests may inject one). */
  fit?: Fitter;
}

export type ForecastModel = 'mstl' | 'seasonal_naive';

export interface BacktestSummary {
  windows: number;
  horizon: number;
  /** Scores of the model used (after any fallback). */
  mase: number;
  smape: number;
  /** Seasonal naive's scores on the same windows. */
  baselineMase: number;
  baselineSmape: number;
  /** MSTL's scores (equal to mase/smape unless seasonal naive replaced it; undefined when MSTL failed). */
  mstlMase: number | undefined;
  mstlSmape: number | undefined;
  /** Leave-one-window-out coverage of the calibrated intervals (undefined with a single window). */
  coverage80: number | undefined;
  coverage95: number | undefined;
}

export interface SeriesForecast {
  model: ForecastModel;
  periods: number[];
  /** Why seasonal naive was used instead of MSTL, when it was. */
  fallbackReason: string | undefined;
  point: number[];
  lo80: number[];
  hi80: number[];
  lo95: number[];
  hi95: number[];
  /** conformal: calibrated on the backtest; model: the model's own intervals (no backtest window fits). */
  calibration: 'conformal' | 'model';
  /** The multipliers of the model's 95 % half-width giving the 80 % and 95 % intervals. */
  lambda80: number;
  lambda95: number;
  backtest: BacktestSummary | undefined;
}

/** Seasonal periods for a history of `n` hours: the weekly one needs two full weeks. */
export function periodsFor(n: number): number[] {
  return n >= 2 * WEEK ? [DAY, WEEK] : [DAY];
}

/** Hours of history a model with these periods needs: two cycles of the longest. */
export function minimumTraining(periods: readonly number[]): number {
  return 2 * Math.max(...periods);
}

/** Seasonal naive with its textbook 95 % half-widths: σ·z·√(full periods ahead + 1). */
export function seasonalNaiveForecast(y: ArrayLike<number>, horizon: number): ModelForecast {
  let squares = 0;
  for (let t = MASE_PERIOD; t < y.length; t++) squares += (y[t]! - y[t - MASE_PERIOD]!) ** 2;
  const sigma = Math.sqrt(squares / Math.max(1, y.length - MASE_PERIOD));
  return {
    point: seasonalNaive(y, horizon, MASE_PERIOD),
    halfWidth95: Array.from(
      { length: horizon },
      (_, i) => Z95 * sigma * Math.sqrt(Math.floor(i / MASE_PERIOD) + 1),
    ),
  };
}

/** The ⌈(n+1)·level⌉-th smallest score (split conformal's finite-sample quantile); the largest when past n. */
export function conformalQuantile(scores: readonly number[], level: number): number {
  if (scores.length === 0) return NaN;
  const sorted = [...scores].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.ceil((sorted.length + 1) * level));
  return sorted[Math.max(0, rank - 1)]!;
}

interface WindowScores {
  /** |error| / normaliser, per step. */
  mstl: number[] | undefined;
  naive: number[];
  mstlMase: number | undefined;
  mstlSmape: number | undefined;
  naiveMase: number;
  naiveSmape: number;
}

/** A normaliser that is never 0: flat series give the model zero-width intervals. */
function normaliser(halfWidth: number, floor: number): number {
  return Math.max(halfWidth, floor);
}

function scaleFloor(y: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += Math.abs(y[i]!);
  return 1e-6 * (sum / Math.max(1, y.length) + 1);
}

function scoreWindow(
  train: ArrayLike<number>,
  actual: ArrayLike<number>,
  forecast: ModelForecast,
  floor: number,
): { scores: number[]; mase: number; smape: number } {
  const scale = maseScale(train, MASE_PERIOD);
  const mae = meanAbsoluteError(actual, forecast.point);
  return {
    scores: forecast.point.map(
      (p, i) => Math.abs(actual[i]! - p) / normaliser(forecast.halfWidth95[i]!, floor),
    ),
    mase: scale > 0 ? mae / scale : mae === 0 ? 0 : Infinity,
    smape: smape(actual, forecast.point),
  };
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** Leave-one-window-out coverage of intervals λ·normaliser, λ calibrated on the other windows. */
function crossValidatedCoverage(windows: readonly number[][], level: number): number | undefined {
  if (windows.length < 2) return undefined;
  let covered = 0;
  let total = 0;
  windows.forEach((held, j) => {
    const others = windows.filter((_, i) => i !== j).flat();
    const lambda = conformalQuantile(others, level);
    for (const s of held) if (s <= lambda) covered += 1;
    total += held.length;
  });
  return covered / total;
}

/**
 * Forecasts `y` (hourly, no gaps) `options.horizon` steps ahead. Needs at least two days of history; the
 * caller refuses shorter series with a reason.
 */
export function forecastSeries(y: ArrayLike<number>, options: ForecastOptions): SeriesForecast {
  const n = y.length;
  const fit = options.fit ?? mstlForecast;
  const periods = [...(options.periods ?? periodsFor(n))];
  const horizon = options.horizon;
  const wanted = options.windows ?? DEFAULT_BACKTEST_WINDOWS;
  const trainingCap = Math.max(minimumTraining(periods), options.backtestTraining ?? BACKTEST_TRAINING_HOURS);
  const training = Math.max(minimumTraining(periods), MASE_PERIOD + 1);
  // Windows of two days when the history has room for all of them, else of one day.
  const backtestHorizon = Math.max(
    1,
    options.backtestHorizon ??
      Math.min(horizon, n - training >= wanted * MAX_BACKTEST_HORIZON ? MAX_BACKTEST_HORIZON : DAY),
  );
  const windows = Math.max(0, Math.min(wanted, Math.floor((n - training) / backtestHorizon)));
  const floor = scaleFloor(y);

  const scored: WindowScores[] = [];
  let mstlError: string | undefined;
  for (let k = windows; k >= 1; k--) {
    const origin = n - k * backtestHorizon;
    const train = Array.prototype.slice.call(y, Math.max(0, origin - trainingCap), origin) as number[];
    const actual = Array.prototype.slice.call(y, origin, origin + backtestHorizon) as number[];
    const naive = scoreWindow(train, actual, seasonalNaiveForecast(train, backtestHorizon), floor);
    let mstl: ReturnType<typeof scoreWindow> | undefined;
    if (mstlError === undefined) {
      try {
        mstl = scoreWindow(train, actual, fit(train, periods, backtestHorizon), floor);
      } catch (err) {
        mstlError = (err as Error).message;
      }
    }
    scored.push({
      mstl: mstl?.scores,
      naive: naive.scores,
      mstlMase: mstl?.mase,
      mstlSmape: mstl?.smape,
      naiveMase: naive.mase,
      naiveSmape: naive.smape,
    });
  }

  let final: ModelForecast | undefined;
  if (mstlError === undefined) {
    try {
      final = fit(y, periods, horizon);
    } catch (err) {
      mstlError = (err as Error).message;
    }
  }

  const haveMstlBacktest = scored.length > 0 && scored.every((w) => w.mstl !== undefined);
  const mstlMase = haveMstlBacktest ? mean(scored.map((w) => w.mstlMase!)) : undefined;
  const mstlSmape = haveMstlBacktest ? mean(scored.map((w) => w.mstlSmape!)) : undefined;
  const naiveMase = scored.length > 0 ? mean(scored.map((w) => w.naiveMase)) : undefined;
  const naiveSmape = scored.length > 0 ? mean(scored.map((w) => w.naiveSmape)) : undefined;

  let model: ForecastModel = 'mstl';
  let fallbackReason: string | undefined;
  if (final === undefined || (scored.length > 0 && !haveMstlBacktest)) {
    model = 'seasonal_naive';
    fallbackReason = `MSTL failed (${mstlError ?? 'no forecast'}); seasonal naive used`;
  } else if (mstlMase !== undefined && naiveMase !== undefined && naiveMase < mstlMase) {
    model = 'seasonal_naive';
    fallbackReason =
      `seasonal naive beat MSTL in the backtest (MASE ${naiveMase.toFixed(3)} vs ${mstlMase.toFixed(3)} ` +
      `over ${scored.length} windows of ${backtestHorizon} h); seasonal naive used`;
  }
  if (model === 'seasonal_naive') final = seasonalNaiveForecast(y, horizon);
  const forecast = final!;

  const windowScores = scored.map((w) => (model === 'mstl' ? w.mstl! : w.naive));
  const pooled = windowScores.flat();
  const calibration = pooled.length > 0 ? 'conformal' : 'model';
  // Without a backtest the model's own half-width is all there is (95 %; 80 % by the normal ratio).
  const lambda95 = calibration === 'conformal' ? conformalQuantile(pooled, 0.95) : 1;
  const lambda80 = calibration === 'conformal' ? conformalQuantile(pooled, 0.8) : 1.2816 / Z95;

  const low = options.floor ?? -Infinity;
  const clamp = (v: number): number => Math.max(low, v);
  // Within the backtested steps the half-width is λ·model's; beyond them the model's own growth (its trend
  // uncertainty, which the short windows cannot measure) is added in quadrature to the calibrated width at
  // the last backtested step, so the calibration scales what it measured and not what it did not.
  const lastCalibrated = Math.min(backtestHorizon, horizon) - 1;
  const width = (lambda: number, i: number): number => {
    const hw = normaliser(forecast.halfWidth95[i]!, floor);
    if (calibration === 'model' || i <= lastCalibrated) return lambda * hw;
    const edge = normaliser(forecast.halfWidth95[lastCalibrated]!, floor);
    return Math.sqrt((lambda * edge) ** 2 + Math.max(0, hw ** 2 - edge ** 2));
  };
  const band = (lambda: number, sign: 1 | -1): number[] =>
    forecast.point.map((p, i) => clamp(p + sign * width(lambda, i)));

  const backtest: BacktestSummary | undefined =
    scored.length === 0
      ? undefined
      : {
          windows: scored.length,
          horizon: backtestHorizon,
          mase: model === 'mstl' ? mstlMase! : naiveMase!,
          smape: model === 'mstl' ? mstlSmape! : naiveSmape!,
          baselineMase: naiveMase!,
          baselineSmape: naiveSmape!,
          mstlMase,
          mstlSmape,
          coverage80: crossValidatedCoverage(windowScores, 0.8),
          coverage95: crossValidatedCoverage(windowScores, 0.95),
        };

  return {
    model,
    periods: model === 'mstl' ? periods : [MASE_PERIOD],
    fallbackReason,
    point: forecast.point.map(clamp),
    lo80: band(lambda80, -1),
    hi80: band(lambda80, 1),
    lo95: band(lambda95, -1),
    hi95: band(lambda95, 1),
    calibration,
    lambda80,
    lambda95,
    backtest,
  };
}
