// UTC days whose raw events the retention sweep archived and removed (shared/retention's archives table),
// restored ones included. An event for such a day is refused with EVENT_DAY_ARCHIVED: stored on a removed
// day, it would re-create the day's partition with that one event, and its hour would be re-aggregated from
// it alone; stored on a restored day, it could be one already in the restored rows, sent again after the
// idempotency keys that would catch it expired with the day (retention.dedupKeysDays), and count twice.
// A restore brings a day back to be read and recomputed, not to take events.

export interface RemovedDay {
  /** YYYY-MM-DD (UTC). */
  day: string;
  /** true when an archive holds the day (false: removed without one, archival was off). */
  archived: boolean;
  /** true while the day is restored from its archive (until the sweep drops it again). */
  restored?: boolean;
}

export class ArchivedDays {
  readonly #days: ReadonlyMap<string, RemovedDay>;
  /** End of the newest removed day: instants from here on need no lookup (the common case). */
  readonly #end: number;

  constructor(days: Iterable<RemovedDay>) {
    this.#days = new Map([...days].map((d) => [d.day, d]));
    let end = -Infinity;
    for (const day of this.#days.keys()) end = Math.max(end, Date.parse(`${day}T00:00:00Z`) + 86_400_000);
    this.#end = end;
  }

  get size(): number {
    return this.#days.size;
  }

  /** The removed day of `ms`, or undefined when its day is in the database (or never was). */
  dayOf(ms: number): RemovedDay | undefined {
    if (!(ms < this.#end)) return undefined;
    return this.#days.get(new Date(ms).toISOString().slice(0, 10));
  }
}
