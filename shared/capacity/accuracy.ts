// Forecast accuracy as the M4 competition scores it: sMAPE (in %), and MASE scaled by the in-sample mean
// absolute error of the seasonal naive forecast with period m (m = 24 for hourly data).

/** Symmetric MAPE in percent: mean of 2·|y − ŷ| / (|y| + |ŷ|); a step where both are 0 counts as 0. */
export function smape(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const f = forecast[i]!;
    const denominator = Math.abs(a) + Math.abs(f);
    if (denominator > 0) sum += (2 * Math.abs(a - f)) / denominator;
  }
  return (100 * sum) / actual.length;
}

/** Mean |y_t − y_{t−m}| over the history: the seasonal naive method's in-sample error, MASE's scale. */
export function maseScale(history: ArrayLike<number>, m: number): number {
  let sum = 0;
  for (let t = m; t < history.length; t++) sum += Math.abs(history[t]! - history[t - m]!);
  return history.length > m ? sum / (history.length - m) : NaN;
}

/** Mean absolute error of `forecast` over `actual`, divided by maseScale(history, m). */
export function mase(
  history: ArrayLike<number>,
  actual: ArrayLike<number>,
  forecast: ArrayLike<number>,
  m: number,
): number {
  return meanAbsoluteError(actual, forecast) / maseScale(history, m);
}

export function meanAbsoluteError(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(actual[i]! - forecast[i]!);
  return sum / actual.length;
}

/** The seasonal naive forecast: each step repeats the value one period `m` earlier. */
export function seasonalNaive(history: ArrayLike<number>, horizon: number, m: number): number[] {
  const n = history.length;
  return Array.from({ length: horizon }, (_, i) => history[n - m + (i % m)]!);
}
