// The history's growth: a straight line through the means of the last whole cycles of the longest seasonal
// period, per hour — the least-squares slope with one level per hour of the cycle, so a daily or weekly
// swing does not tilt it (a plain line through one week of a daily swing of ±10 leans by up to ±2.7 a
// week, by where the week starts in the swing).

export interface CycleLine {
  /** Change per step. */
  slope: number;
  /** Index of the first value of the whole cycles fitted. */
  start: number;
  cycles: number;
}

/** The line through the means of the last whole cycles of `values` (two or more needed). */
export function cycleLine(values: ArrayLike<number>, cycle: number): CycleLine | undefined {
  const cycles = Math.floor(values.length / cycle);
  if (cycles < 2) return undefined;
  const start = values.length - cycles * cycle;
  const centre = (cycles - 1) / 2;
  let sxy = 0;
  for (let c = 0; c < cycles; c++) {
    let sum = 0;
    for (let j = 0; j < cycle; j++) sum += values[start + c * cycle + j]!;
    sxy += (c - centre) * (sum / cycle);
  }
  const sxx = (cycles * (cycles * cycles - 1)) / 12;
  return { slope: sxy / sxx / cycle, start, cycles };
}
