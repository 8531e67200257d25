// How long each kind of data is kept, from the one configuration, and the cutoffs that follows at a given
// instant. A unit (a raw day, an aggregate month, …) is past retention when its whole range ends at or
// before its cutoff.
import type { Level } from '../aggregate/index.ts';
import type { BatchProcessingConfig } from '../config/index.ts';

export const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  rawDays: number;
  /** Per level; hour takes retention.aggregatedDays, the others their override or the same. */
  aggregateDays: Record<Level, number>;
  reportsDays: number;
  deadLetterDays: number;
  runsDays: number;
  /** Idempotency keys and Kafka record claims. */
  dedupKeysDays: number;
  restoredKeepDays: number;
  /** Archive before removing (retention.archival.enabled); off = remove without a copy. */
  archival: boolean;
  timeZone: string;
  quota: { databaseBytes: number; archiveBytes: number };
}

export interface Cutoffs {
  raw: Date;
  aggregate: Record<Level, Date>;
  reports: Date;
  deadLetters: Date;
  runs: Date;
  dedupKeys: Date;
}

export function policyFrom(config: BatchProcessingConfig): RetentionPolicy {
  const { retention } = config;
  const aggregated = retention.aggregatedDays;
  return {
    rawDays: retention.rawDays,
    aggregateDays: {
      hour: aggregated,
      day: retention.aggregatedLevelDays.day ?? aggregated,
      week: retention.aggregatedLevelDays.week ?? aggregated,
      month: retention.aggregatedLevelDays.month ?? aggregated,
    },
    reportsDays: retention.reportsDays,
    deadLetterDays: retention.deadLetterDays,
    runsDays: retention.runsDays,
    // An event is accepted up to rawDays old and maxFutureSkew ahead, so its key must live that long; one
    // more day covers an event received just before a day boundary.
    dedupKeysDays:
      retention.dedupKeysDays ??
      retention.rawDays + Math.ceil(config.ingestion.maxFutureSkewSeconds / 86_400) + 1,
    restoredKeepDays: retention.restoredKeepDays,
    archival: retention.archival.enabled,
    timeZone: config.time.zone,
    quota: { ...retention.quota },
  };
}

const before = (now: Date, days: number): Date => new Date(now.getTime() - days * DAY_MS);

export function cutoffsAt(policy: RetentionPolicy, now: Date): Cutoffs {
  return {
    raw: before(now, policy.rawDays),
    aggregate: {
      hour: before(now, policy.aggregateDays.hour),
      day: before(now, policy.aggregateDays.day),
      week: before(now, policy.aggregateDays.week),
      month: before(now, policy.aggregateDays.month),
    },
    reports: before(now, policy.reportsDays),
    deadLetters: before(now, policy.deadLetterDays),
    runs: before(now, policy.runsDays),
    dedupKeys: before(now, policy.dedupKeysDays),
  };
}

/** 'YYYY-MM-DD' of a UTC day start. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The UTC day 'YYYY-MM-DD' as its start instant; throws on anything else. */
export function dayStart(day: string): Date {
  const date = new Date(`${day}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(date.getTime()) || isoDay(date) !== day) {
    throw new RangeError(`"${day}" is not a calendar date (YYYY-MM-DD)`);
  }
  return date;
}
