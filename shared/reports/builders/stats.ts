// Small numeric helpers of the builders: changes between periods, least-squares trends, robust bands.

/** Rounds away floating-point dust (0.1 + 0.2) without hiding real digits: 12 significant digits. */
export function clean(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}

export function ratio(numerator: number | null, denominator: number | null): number | null {
  if (numerator === null || denominator === null || denominator === 0) return null;
  return clean(numerator / denominator);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** 1.4826 · MAD: the median absolute deviation scaled to a normal distribution's standard deviation. */
export function scaledMad(values: readonly number[], center = median(values)): number {
  return 1.4826 * median(values.map((v) => Math.abs(v - center)));
}

export interface LinearFit {
  slope: number;
  intercept: number;
  rSquared: number | null;
}

/** Ordinary least squares of y over x; rSquared is null when y does not vary. */
export function linearFit(points: ReadonlyArray<{ x: number; y: number }>): LinearFit | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
    syy += (p.y - my) ** 2;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, rSquared: syy === 0 ? null : (sxy * sxy) / (sxx * syy) };
}
