// Naive2, the M4 competition's benchmark that OWA is relative to: if the series passes the 90 % seasonality
// test at lag m (autocorrelation against its Bartlett bound), it is deseasonalised by a classical
// multiplicative decomposition (centred 2×m moving average), forecast by its last value and reseasonalised;
// otherwise the plain naive forecast.

function autocorrelation(x: readonly number[], lag: number): number {
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) den += (x[i]! - mean) ** 2;
  for (let i = lag; i < n; i++) num += (x[i]! - mean) * (x[i - lag]! - mean);
  return num / den;
}

export function isSeasonal(x: readonly number[], m: number): boolean {
  let sum = 0;
  for (let k = 1; k < m; k++) sum += autocorrelation(x, k) ** 2;
  const limit = 1.645 * Math.sqrt((1 + 2 * sum) / x.length);
  return Math.abs(autocorrelation(x, m)) > limit;
}

function seasonalIndices(x: readonly number[], m: number): number[] {
  const ratios: number[][] = Array.from({ length: m }, () => []);
  const half = m / 2;
  for (let t = half; t < x.length - half; t++) {
    let sum = 0;
    for (let j = -half; j <= half; j++) sum += (Math.abs(j) === half ? 0.5 : 1) * x[t + j]!;
    ratios[t % m]!.push(x[t]! / (sum / m));
  }
  const raw = ratios.map((r) => r.reduce((a, b) => a + b, 0) / r.length);
  const mean = raw.reduce((a, b) => a + b, 0) / m;
  return raw.map((v) => v / mean);
}

export function naive2(train: readonly number[], horizon: number, m: number): number[] {
  const seasonal = train.length >= 3 * m && isSeasonal(train, m);
  const index = seasonal ? seasonalIndices(train, m) : new Array<number>(m).fill(1);
  const n = train.length;
  const level = train[n - 1]! / index[(n - 1) % m]!;
  return Array.from({ length: horizon }, (_, i) => level * index[(n + i) % m]!);
}
