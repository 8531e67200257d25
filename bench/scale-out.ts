// The scale-out figure (`npm run bench -- --scale-out 1,2,4`): the size's events on a topic of
// SCALE_OUT_PARTITIONS partitions, drained into a fresh database by N ingest processes of one consumer group
// (as N replicas of the ingesting function would be), for each N. Events/s is what all of them stored over
// the span from the first one's start to the last one's last commit (group joins and rebalances included);
// efficiency is that rate over N times the one-process rate. Each run must store every event once.
import type { Kafka } from 'kafkajs';
import type { DemoEvent } from '../runtime/demo/generate.ts';
import { measureIngest, type IngestMeasurement, type StartGate } from './ingest.ts';
import { produceEvents } from './produce.ts';
import { formatCount, say, step } from './progress.ts';
import { createTopic, deleteTopic, dropDatabase, freshDatabase } from './services.ts';

export const SCALE_OUT_PARTITIONS = 8;

export interface ScaleOutRun {
  consumers: number;
  /** Events stored by all consumers together (every event once: = the events produced), and records read again
   * after a rebalance, recognised as duplicates and not stored. */
  stored: number;
  duplicates: number;
  ms: number;
  eventsPerSec: number;
  /** eventsPerSec / (consumers × the one-consumer run's eventsPerSec); 1 for the first run of one consumer. */
  efficiency: number | null;
  /** Events stored by each consumer, and the highest peak RSS among them. */
  perConsumer: number[];
  maxRssKiB: number;
}

export interface ScaleOutMeasurement {
  partitions: number;
  events: number;
  runs: ScaleOutRun[];
}

export interface ScaleOutContext {
  kafka: Kafka;
  databaseUrl: string;
  brokers: string[];
  /** Names the topic, databases and groups of this size and run. */
  tag: string;
  childBundle: string | undefined;
}

async function drainWith(
  consumers: number,
  ctx: ScaleOutContext,
  topic: string,
): Promise<Omit<ScaleOutRun, 'efficiency'>> {
  const name = `hxp_bench_scale_${ctx.tag.replace(/[^a-z0-9]/gi, '_')}_${consumers}`;
  const bench = await freshDatabase(ctx.databaseUrl, name);
  try {
    const groupId = `hxp-bench-scale-${ctx.tag}-${consumers}`;
    // All processes start pulling together once each has loaded and connected (a process start takes longer
    // than a small size's whole drain on a busy machine).
    let ready = 0;
    let go = (): void => undefined;
    const gate: StartGate = {
      ready: () => {
        ready += 1;
        if (ready === consumers) go();
      },
      go: new Promise<void>((resolve) => (go = resolve)),
    };
    const results: IngestMeasurement[] = await Promise.all(
      Array.from({ length: consumers }, () =>
        measureIngest(
          {
            databaseUrl: bench.url,
            brokers: ctx.brokers,
            topic,
            groupId,
            idleMs: 3000,
            maxDurationMs: 3_600_000,
          },
          ctx.childBundle,
          gate,
        ),
      ),
    );
    const committed = results.filter((r) => r.commits > 0);
    const ms =
      Math.max(...committed.map((r) => r.lastCommitAtMs)) - Math.min(...results.map((r) => r.startedAtMs));
    const stored = results.reduce((a, r) => a + r.stored, 0);
    return {
      consumers,
      stored,
      duplicates: results.reduce((a, r) => a + r.duplicates, 0),
      ms,
      eventsPerSec: stored / (ms / 1000),
      perConsumer: results.map((r) => r.stored),
      maxRssKiB: Math.max(...results.map((r) => Math.max(r.maxRssKiB, r.vmHwmKiB))),
    };
  } finally {
    await bench.db.close();
    // A scratch database left behind costs disk, not a result; the measurement is already made.
    await dropDatabase(ctx.databaseUrl, name).catch(() => undefined);
  }
}

export async function measureScaleOut(
  events: Iterable<DemoEvent>,
  consumerCounts: readonly number[],
  ctx: ScaleOutContext,
): Promise<ScaleOutMeasurement> {
  const topic = `hxp-bench-scale-${ctx.tag}`;
  await createTopic(ctx.kafka, topic, SCALE_OUT_PARTITIONS);
  try {
    const produced = await produceEvents(ctx.kafka, events, { topic, partitions: SCALE_OUT_PARTITIONS });
    const out: ScaleOutMeasurement = { partitions: SCALE_OUT_PARTITIONS, events: produced.events, runs: [] };
    for (const consumers of consumerCounts) {
      const { value: run } = await step(`scale-out: ${consumers} ingest process(es) in one group`, () =>
        drainWith(consumers, ctx, topic),
      );
      const one = out.runs.find((r) => r.consumers === 1);
      const efficiency = one ? run.eventsPerSec / (consumers * one.eventsPerSec) : null;
      out.runs.push({ ...run, efficiency });
      say(
        `  ${consumers} consumer(s): ${formatCount(run.stored)} stored (${run.perConsumer.map(formatCount).join(' + ')}), ` +
          `${run.duplicates} duplicates, ${(run.ms / 1000).toFixed(2)} s, ${formatCount(run.eventsPerSec)} events/s` +
          (efficiency === null ? '' : `, efficiency ${(efficiency * 100).toFixed(0)} %`),
      );
    }
    return out;
  } finally {
    // A scratch topic left behind costs disk, not a result; the measurement is already made.
    await deleteTopic(ctx.kafka, topic).catch(() => undefined);
  }
}
