// The aggregation levels and how they nest: hour → day → week, day → month.

export type Level = 'hour' | 'day' | 'week' | 'month';
export const LEVELS: readonly Level[] = ['hour', 'day', 'week', 'month'];
export type WeekStart = 'monday' | 'sunday';

export interface CalendarOptions {
  /** IANA zone for day/week/month buckets; hours are always UTC (a day starting inside one is cut at a quarter). */
  timeZone: string;
  /** First day of a week: 'monday' (ISO, default) or 'sunday'. */
  weekStart: WeekStart;
}

export const DEFAULT_CALENDAR: CalendarOptions = { timeZone: 'UTC', weekStart: 'monday' };

/** The level a rollup reads its stored state from; undefined for hours, which read raw events. */
export function levelBelow(level: Level): Level | undefined {
  switch (level) {
    case 'hour':
      return undefined;
    case 'day':
      return 'hour';
    case 'week':
    case 'month':
      return 'day';
  }
}

/** The levels whose windows a finished window of `level` re-opens. */
export function levelsAbove(level: Level): Level[] {
  switch (level) {
    case 'hour':
      return ['day'];
    case 'day':
      return ['week', 'month'];
    case 'week':
    case 'month':
      return [];
  }
}

export function isLevel(value: unknown): value is Level {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value);
}
