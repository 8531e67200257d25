// One series' forecast: MSTL (periods 24 and 168, AutoETS trend) checked against the seasonal naive
// method in a rolling-origin backtest, its growth checked against the history's (linear-trend.ts), and
// prediction intervals calibrated on that backtest's errors.
//
// Backtest: K windows of `backtestHorizon` hours at the end of the history; for window k each candidate —
// MSTL, seasonal naive (m = 24), the history's linear trend — is fitted on everything before it and
// forecasts it, scored by MASE (m = 24) and sMAPE. When seasonal naive scores the lower mean MASE, the
// series is forecast with seasonal naive and the answer says so.
//
// Growth check: MSTL's trend is AutoETS, chosen by one-step likelihood. On a smooth ramp with a wobble
// that is neither daily nor weekly (a disk filling steadily, temporary files coming and going) it picks a
// damped or no trend, and MSTL forecasts the last level for a month while the ramp goes on — and still
// beats seasonal naive. So the growth of the forecast (its line through whole cycles) is compared with the
// history's line over the backtest's training span; outside that slope's 95 % interval, and where the line
// scored at least as well in the backtest, the line with its daily/weekly profiles is used, and the answer
// says why. A growth is read over two whole cycles of the forecast: a 48-hour forecast of a weekly series
// (the M4 protocol) is never checked.
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
import { cycleLine, fitLinearTrend, linearTrendForecast } from './linear-trend.ts';

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

export type ForecastModel = 'mstl' | 'linear_trend' | 'seasonal_naive';

const LABELS: Record<ForecastModel, string> = {
  mstl: 'MSTL',
  linear_trend: 'linear trend',
  seasonal_naive: 'seasonal naive',
};

export interface BacktestSummary {
  windows: number;
  horizon: number;
  /** Scores of the model used (after any fallback). */
  mase: number;
  smape: number;
  /** Seasonal naive's scores on the same windows. */
  baselineMase: number;
  baselineSmape: number;
  /** MSTL's scores (equal to mase/smape unless another model replaced it; undefined when MSTL failed). */
  mstlMase: number | undefined;
  mstlSmape: number | undefined;
  /** The linear trend's MASE (undefined when it could not be fitted). */
  linearMase: number | undefined;
  /** Leave-one-window-out coverage of the calibrated intervals (undefined with a single window). */
  coverage80: number | undefined;
  coverage95: number | undefined;
}

export interface SeriesForecast {
  model: ForecastModel;
  periods: number[];
  /** Why another model was used instead of MSTL, when it was. */
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

interface Candidate {
  model: ForecastModel;
  fit: Fitter;
  /** What it threw, if it did: it is not fitted again. */
  error: string | undefined;
  /** Its backtest windows, oldest first: |error| / normaliser per step, MASE and sMAPE. */
  windows: Array<{ scores: number[]; mase: number; smape: number }>;
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

/** The last `hours` values of `y` (all of them when fewer). */
const tail = (y: ArrayLike<number>, hours: number): number[] =>
  Array.prototype.slice.call(y, Math.max(0, y.length - hours)) as number[];

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

  // Every candidate forecasts every window (a candidate that throws is dropped, with its error).
  const candidates: Candidate[] = [
    { model: 'mstl', fit, error: undefined, windows: [] },
    { model: 'linear_trend', fit: linearTrendForecast, error: undefined, windows: [] },
    {
      model: 'seasonal_naive',
      fit: (train, _periods, h) => seasonalNaiveForecast(train, h),
      error: undefined,
      windows: [],
    },
  ];
  for (let k = windows; k >= 1; k--) {
    const origin = n - k * backtestHorizon;
    const train = Array.prototype.slice.call(y, Math.max(0, origin - trainingCap), origin) as number[];
    const actual = Array.prototype.slice.call(y, origin, origin + backtestHorizon) as number[];
    for (const c of candidates) {
      if (c.error !== undefined) continue;
      try {
        c.windows.push(scoreWindow(train, actual, c.fit(train, periods, backtestHorizon), floor));
      } catch (err) {
        c.error = (err as Error).message;
      }
    }
  }
  const mstl = candidates[0]!;
  const naive = candidates[2]!;
  const scoresOf = (c: Candidate): { mase: number; smape: number } | undefined =>
    windows > 0 && c.error === undefined
      ? { mase: mean(c.windows.map((w) => w.mase)), smape: mean(c.windows.map((w) => w.smape)) }
      : undefined;

  // MSTL or seasonal naive, whichever has the lower mean MASE (MSTL on a tie; MSTL unchecked without a
  // backtest); the first whose forecast of the whole history succeeds (seasonal naive never fails).
  const ranked =
    windows > 0
      ? [mstl, naive]
          .filter((c) => scoresOf(c) !== undefined)
          .sort((a, b) => scoresOf(a)!.mase - scoresOf(b)!.mase)
      : [mstl, naive];
  let chosen: Candidate = naive;
  let forecast: ModelForecast | undefined;
  let mstlFinalError: string | undefined;
  for (const c of ranked) {
    try {
      forecast = c.fit(y, periods, horizon);
      chosen = c;
      break;
    } catch (err) {
      if (c === mstl) mstlFinalError = (err as Error).message;
    }
  }
  forecast ??= seasonalNaiveForecast(y, horizon);
  const mstlError = mstl.error ?? mstlFinalError;
  let fallbackReason =
    chosen === mstl
      ? undefined
      : mstlError !== undefined
        ? `MSTL failed (${mstlError}); seasonal naive used`
        : `seasonal naive beat MSTL in the backtest (MASE ${scoresOf(naive)!.mase.toFixed(3)} vs ` +
          `${scoresOf(mstl)!.mase.toFixed(3)} over ${windows} windows of ${backtestHorizon} h); seasonal naive used`;

  // The growth check (see the top of the file).
  const linear = candidates[1]!;
  const linearScores = scoresOf(linear);
  const chosenScores = scoresOf(chosen);
  const cycle = Math.max(...periods);
  const forecastGrowth = cycleLine(forecast.point, cycle);
  if (linearScores && chosenScores && forecastGrowth && linearScores.mase <= chosenScores.mase) {
    const history = fitLinearTrend(tail(y, trainingCap), periods);
    if (history && Math.abs(forecastGrowth.slope - history.slope) > Z95 * history.slopeError) {
      const week = (perHour: number): string => (perHour * WEEK).toFixed(2);
      fallbackReason =
        `${LABELS[chosen.model]}'s forecast grows ${week(forecastGrowth.slope)} a week, outside the history's ` +
        `${week(history.slope)} ± ${week(Z95 * history.slopeError)} (95 %); the history's linear trend scored as ` +
        `well in the backtest (MASE ${linearScores.mase.toFixed(3)} vs ${chosenScores.mase.toFixed(3)} over ` +
        `${windows} windows of ${backtestHorizon} h) and is used`;
      chosen = linear;
      forecast = history.forecast(horizon);
    }
  }
  const model = chosen.model;

  const windowScores = chosen.windows.map((w) => w.scores);
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

  const modelScores = scoresOf(chosen);
  const naiveScores = scoresOf(naive);
  const mstlScores = scoresOf(mstl);
  const backtest: BacktestSummary | undefined =
    modelScores === undefined || naiveScores === undefined
      ? undefined
      : {
          windows,
          horizon: backtestHorizon,
          mase: modelScores.mase,
          smape: modelScores.smape,
          baselineMase: naiveScores.mase,
          baselineSmape: naiveScores.smape,
          mstlMase: mstlScores?.mase,
          mstlSmape: mstlScores?.smape,
          linearMase: linearScores?.mase,
          coverage80: crossValidatedCoverage(windowScores, 0.8),
          coverage95: crossValidatedCoverage(windowScores, 0.95),
        };

  return {
    model,
    periods: model === 'seasonal_naive' ? [MASE_PERIOD] : periods,
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
