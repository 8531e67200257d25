// What a sweep would do now: every unit past its cutoff with the action for it — archive (export, verify,
// remove), reverify (a restored day whose archive exists), delete (no copy: archival off, or bookkeeping
// rows), or keep with the reason (hours not final, a restored day still within its keep period, …).
// A dry run answers this plan; a sweep carries it out in this order: raw days, aggregates (hour, day, week,
// month), reports, bookkeeping rows.
import { LEVELS } from '../aggregate/index.ts';
import type { Queryable } from '../db/index.ts';
import {
  aggregateUnitBlocker,
  aggregateUnitName,
  listAggregateUnits,
  type AggregateUnit,
} from './aggregate-sql.ts';
import { getArchive, REMOVED, type ArchiveRow } from './archives-sql.ts';
import { BOOKKEEPING_KINDS, countExpired, type BookkeepingKind } from './bookkeeping-sql.ts';
import { cutoffsAt, type Cutoffs, type RetentionPolicy } from './policy.ts';
import { countPartitionRows, listRawPartitions, unfinishedHours, type RawPartition } from './raw-sql.ts';
import { listReportsUnits, type ReportsUnit } from './reports-sql.ts';
import type { UnitAction, UnitEntry } from './types.ts';

export type PlannedUnit = UnitEntry &
  (
    | { kind: 'raw'; partition: RawPartition; archive: ArchiveRow | undefined }
    | { kind: 'aggregate'; aggregate: AggregateUnit; archive: ArchiveRow | undefined }
    | { kind: 'reports'; reports: ReportsUnit; archive: ArchiveRow | undefined }
    | { kind: BookkeepingKind; cutoff: Date }
  );

export interface Plan {
  now: Date;
  cutoffs: Cutoffs;
  units: PlannedUnit[];
}

/** The action for a unit past retention whose archive row (if any) is `archive`. */
function actionFor(
  archive: ArchiveRow | undefined,
  policy: RetentionPolicy,
  now: Date,
): { action: UnitAction; reason?: string } {
  if (archive && REMOVED.includes(archive.status)) {
    return {
      action: 'keep',
      reason: `recorded as ${archive.status} on ${archive.removedAt?.toISOString() ?? '?'} but its data is in the database again; remove it by hand or restore it properly`,
    };
  }
  if (archive?.status === 'restored') {
    if (archive.keepUntil && archive.keepUntil > now) {
      return { action: 'keep', reason: `restored; kept until ${archive.keepUntil.toISOString()}` };
    }
    return {
      action: policy.archival && archive.manifestKey ? 'reverify' : policy.archival ? 'archive' : 'delete',
    };
  }
  return { action: policy.archival ? 'archive' : 'delete' };
}

/** A unit that is archived before it goes: a raw day, an aggregate level's month, a month of reports. */
interface ArchivableUnit {
  kind: 'raw' | 'aggregate' | 'reports';
  name: string;
  start: Date;
  end: Date;
  rows: number;
  bytes: number | null;
  /** Why the unit must stay although it is past retention, or undefined; asked only when it would go. */
  blocker?: () => Promise<string | undefined>;
}

/** The plan for an archivable unit: its action from its archive row, unless its blocker holds it back. */
async function plannedEntry(
  db: Queryable,
  policy: RetentionPolicy,
  now: Date,
  unit: ArchivableUnit,
): Promise<UnitEntry & { archive: ArchiveRow | undefined }> {
  const archive = await getArchive(db, unit.kind, unit.name);
  let { action, reason } = actionFor(archive, policy, now);
  if (action !== 'keep' && unit.blocker) {
    const blocker = await unit.blocker();
    if (blocker) {
      action = 'keep';
      reason = blocker;
    }
  }
  return {
    kind: unit.kind,
    unit: unit.name,
    range: { from: unit.start.toISOString(), to: unit.end.toISOString() },
    rows: unit.rows,
    bytes: unit.bytes,
    action,
    outcome: 'planned',
    ...(reason ? { reason } : {}),
    archive,
  };
}

async function rawUnits(
  db: Queryable,
  policy: RetentionPolicy,
  cutoffs: Cutoffs,
  now: Date,
): Promise<PlannedUnit[]> {
  const units: PlannedUnit[] = [];
  for (const partition of await listRawPartitions(db)) {
    if (partition.end > cutoffs.raw) continue;
    const entry = await plannedEntry(db, policy, now, {
      kind: 'raw',
      name: partition.day,
      start: partition.start,
      end: partition.end,
      rows: await countPartitionRows(db, partition.name),
      bytes: partition.bytes,
      blocker: async () => {
        const unfinished = await unfinishedHours(db, partition.name, partition.start, partition.end);
        return unfinished.length === 0
          ? undefined
          : `${unfinished.length} hour(s) not aggregated yet or re-opened (first ${unfinished[0]}); kept until they are final`;
      },
    });
    units.push({ ...entry, kind: 'raw', partition });
  }
  return units;
}

async function aggregateUnits(
  db: Queryable,
  policy: RetentionPolicy,
  cutoffs: Cutoffs,
  now: Date,
): Promise<PlannedUnit[]> {
  const units: PlannedUnit[] = [];
  for (const level of LEVELS) {
    for (const aggregate of await listAggregateUnits(db, level, cutoffs.aggregate[level], policy.timeZone)) {
      const entry = await plannedEntry(db, policy, now, {
        kind: 'aggregate',
        name: aggregateUnitName(level, aggregate.month),
        start: aggregate.start,
        end: aggregate.end,
        rows: aggregate.rows,
        bytes: aggregate.bytes,
        blocker: () => aggregateUnitBlocker(db, aggregate, policy.timeZone),
      });
      // Aggregates are never restored; a restored unit's archive is written again.
      if (entry.action === 'reverify') entry.action = 'archive';
      units.push({ ...entry, kind: 'aggregate', aggregate });
    }
  }
  return units;
}

async function reportsUnits(
  db: Queryable,
  policy: RetentionPolicy,
  cutoffs: Cutoffs,
  now: Date,
): Promise<PlannedUnit[]> {
  const units: PlannedUnit[] = [];
  for (const reports of await listReportsUnits(db, cutoffs.reports)) {
    const entry = await plannedEntry(db, policy, now, {
      kind: 'reports',
      name: reports.month,
      start: reports.start,
      end: reports.end,
      rows: reports.rows,
      bytes: reports.bytes,
    });
    units.push({ ...entry, kind: 'reports', reports });
  }
  return units;
}

async function bookkeepingUnits(db: Queryable, cutoffs: Cutoffs): Promise<PlannedUnit[]> {
  const cutoffOf: Record<BookkeepingKind, Date> = {
    dead_letters: cutoffs.deadLetters,
    runs: cutoffs.runs,
    dedup_keys: cutoffs.dedupKeys,
    request_keys: cutoffs.dedupKeys,
    kafka_claims: cutoffs.dedupKeys,
  };
  const units: PlannedUnit[] = [];
  for (const kind of BOOKKEEPING_KINDS) {
    const cutoff = cutoffOf[kind];
    const rows = await countExpired(db, kind, cutoff);
    if (rows === 0) continue;
    units.push({
      kind,
      unit: `before ${cutoff.toISOString()}`,
      range: { from: null, to: cutoff.toISOString() },
      rows,
      bytes: null,
      action: 'delete',
      outcome: 'planned',
      cutoff,
    });
  }
  return units;
}

export async function planSweep(db: Queryable, policy: RetentionPolicy, now: Date): Promise<Plan> {
  const cutoffs = cutoffsAt(policy, now);
  return {
    now,
    cutoffs,
    units: [
      ...(await rawUnits(db, policy, cutoffs, now)),
      ...(await aggregateUnits(db, policy, cutoffs, now)),
      ...(await reportsUnits(db, policy, cutoffs, now)),
      ...(await bookkeepingUnits(db, cutoffs)),
    ],
  };
}

/** A unit as answered (without the internal references). */
export function publicEntry(unit: PlannedUnit): UnitEntry {
  const { kind, unit: name, range, rows, bytes, action, outcome } = unit;
  const entry: UnitEntry = { kind, unit: name, range, rows, bytes, action, outcome };
  for (const key of [
    'archiveBytes',
    'reason',
    'error',
    'attempts',
    'manifest',
    'archivedRows',
    'durationMs',
  ] as const) {
    if (unit[key] !== undefined) (entry as unknown as Record<string, unknown>)[key] = unit[key];
  }
  return entry;
}
