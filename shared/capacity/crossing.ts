// When a forecast crosses a line (a threshold or a limit): the first hour the point forecast reaches it,
// the first hour the 95 % band's upper edge does (the earliest plausible crossing) and the first hour its
// lower edge does (by then the crossing is all but certain). Days count from the end of the history.
import type { ForecastPoint } from './types.ts';

const HOUR = 3_600_000;

export interface Crossing {
  days: { point: number | null; earliest: number | null; latest: number | null };
  dates: { point_at: string | null; earliest_at: string | null; latest_at: string | null };
}

function first(
  points: readonly ForecastPoint[],
  reaches: (p: ForecastPoint) => boolean,
): ForecastPoint | undefined {
  return points.find(reaches);
}

export function crossing(points: readonly ForecastPoint[], line: number, end: Date): Crossing {
  const days = (p: ForecastPoint | undefined): number | null =>
    p ? Math.round(((Date.parse(p.timestamp) - end.getTime()) / HOUR / 24) * 100) / 100 : null;
  const point = first(points, (p) => p.value >= line);
  const earliest = first(points, (p) => p.hi95 >= line);
  const latest = first(points, (p) => p.lo95 >= line);
  return {
    days: { point: days(point), earliest: days(earliest), latest: days(latest) },
    dates: {
      point_at: point?.timestamp ?? null,
      earliest_at: earliest?.timestamp ?? null,
      latest_at: latest?.timestamp ?? null,
    },
  };
}
