// What ingestion counts, per path: events stored, found twice (a duplicate: same id, same record or same
// content, by any path), found twice with other content (a conflicting duplicate), refused; and the dead
// letters by reason code. Labels are bounded (path, outcome, catalogue code); no event ids. The counters
// live on a prom-client registry — prom-client's default one unless a caller hands in its own — and the
// observability layer decides how they are collected (scrape or Pushgateway).
import { Counter, register as defaultRegistry, type Registry } from 'prom-client';
import type { DeadLetter } from './types.ts';

/** pull: kafkajs consumer; connector: a push carrying X-Topic/X-Kafka-*; push: an HTTP body. */
export type IngestPath = 'pull' | 'connector' | 'push';

export interface IngestMetrics {
  events: Counter<'path' | 'outcome'>;
  deadLetters: Counter<'path' | 'reason'>;
}

export interface IngestCounts {
  stored: number;
  /** Every duplicate, the conflicting ones included. */
  duplicates: number;
  conflictingDuplicates: number;
  rejected: number;
  /** Rejections, unstorable events and conflicts: counted by reason code. */
  letters: readonly Pick<DeadLetter, 'reasonCode'>[];
}

const byRegistry = new WeakMap<Registry, IngestMetrics>();

/** The ingest counters of `registry`, registered on first use (one set per registry). */
export function ingestMetrics(registry: Registry = defaultRegistry): IngestMetrics {
  let metrics = byRegistry.get(registry);
  if (metrics === undefined) {
    const registers = [registry];
    metrics = {
      events: new Counter({
        name: 'hxp_ingest_events_total',
        help:
          'Events ingested, by path (pull, connector, push) and outcome: stored, duplicate (stored before, by ' +
          'any path), conflicting_duplicate (its id stored before with other content), rejected',
        labelNames: ['path', 'outcome'],
        registers,
      }),
      deadLetters: new Counter({
        name: 'hxp_ingest_dead_letters_total',
        help: 'Dead letters written by ingestion, by path and reason code (EVENT_*, INGEST_*)',
        labelNames: ['path', 'reason'],
        registers,
      }),
    };
    byRegistry.set(registry, metrics);
  }
  return metrics;
}

export function countIngest(metrics: IngestMetrics, path: IngestPath, counts: IngestCounts): void {
  const add = (outcome: string, n: number): void => {
    if (n > 0) metrics.events.inc({ path, outcome }, n);
  };
  add('stored', counts.stored);
  add('duplicate', counts.duplicates - counts.conflictingDuplicates);
  add('conflicting_duplicate', counts.conflictingDuplicates);
  add('rejected', counts.rejected);
  for (const letter of counts.letters) metrics.deadLetters.inc({ path, reason: letter.reasonCode });
}
