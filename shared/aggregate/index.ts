export { codeOf, messageOf } from './errors.ts';
export {
  DEFAULT_CALENDAR,
  LEVELS,
  isLevel,
  levelBelow,
  levelsAbove,
  type CalendarOptions,
  type Level,
  type WeekStart,
} from './levels.ts';
export { assertSupportedTimeZone, utcOffsetMinutes } from './timezone.ts';
export { recomputeWindow, recomputeWindows, type RecomputeResult } from './recompute.ts';
export {
  listDueWindows,
  listFailedWindows,
  markRangeDirty,
  markWindowFailed,
  oldestDirtyBucket,
  rekeyStaleWindows,
  type DueWindow,
  type FailedWindow,
} from './windows-sql.ts';
export {
  LOCAL_DATE_TIME,
  localDate,
  localDateStart,
  parseZonedInstant,
  repeatsWallClock,
  wallClockToInstant,
} from './local-time.ts';
export { edgeHourParts, sqlHourPartSeries, type HourPart } from './hour-parts-sql.ts';
export {
  daysToRestore,
  describeMissing,
  leftRemovedReason,
  markStateRemoved,
  removedSources,
  removedSourcesOverlapping,
  restoreCommand,
  sourcesToLeaveRemoved,
  type MissingSource,
} from './removed-sources.ts';
