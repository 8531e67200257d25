// Untimed setup of the ingest measurement: writes the generated events to the size's topic as fast as the
// broker takes them — large single-partition batches round-robin over the partitions, acks=1, no
// compression, several sends in flight. Memory stays bounded by the batches in flight.
import { performance } from 'node:perf_hooks';
import { CompressionTypes, type Kafka, type Message } from 'kafkajs';
import type { DemoEvent } from '../runtime/demo/generate.ts';
import { every, formatCount, say } from './progress.ts';

export interface ProduceOptions {
  topic: string;
  partitions: number;
  /** Messages per send (one partition each); stays under the broker's 1 MB record-batch limit. */
  batchSize?: number;
  inFlight?: number;
}

export interface ProduceResult {
  events: number;
  bytes: number;
  ms: number;
  /** Events per source, e.g. {llm_request: …}. */
  byType: Record<string, number>;
}

export async function produceEvents(
  kafka: Kafka,
  events: Iterable<DemoEvent>,
  options: ProduceOptions,
): Promise<ProduceResult> {
  const batchSize = options.batchSize ?? 2000;
  const inFlight = options.inFlight ?? 6;
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: false,
    maxInFlightRequests: inFlight,
  });
  await producer.connect();
  const started = performance.now();
  const result: ProduceResult = { events: 0, bytes: 0, ms: 0, byType: {} };
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  let partition = 0;
  const send = (messages: Message[], p: number): void => {
    const sent: Promise<void> = producer
      .send({
        topic: options.topic,
        acks: 1,
        compression: CompressionTypes.None,
        messages: messages.map((m) => ({ ...m, partition: p })),
      })
      .then(
        () => undefined,
        (err: unknown) => {
          failure ??= err;
        },
      )
      .finally(() => pending.delete(sent));
    pending.add(sent);
  };
  const stopTicker = every(5000, () => {
    const s = (performance.now() - started) / 1000;
    say(`  produced ${formatCount(result.events)} events (${formatCount(result.events / s)}/s)`);
  });
  try {
    let batch: Message[] = [];
    for (const event of events) {
      const value = Buffer.from(JSON.stringify(event));
      batch.push({ value });
      result.events += 1;
      result.bytes += value.length;
      result.byType[event.event_type] = (result.byType[event.event_type] ?? 0) + 1;
      if (batch.length >= batchSize) {
        send(batch, partition);
        partition = (partition + 1) % options.partitions;
        batch = [];
        while (pending.size >= inFlight) await Promise.race(pending);
        if (failure !== undefined) throw failure;
      }
    }
    if (batch.length > 0) send(batch, partition);
    await Promise.all(pending);
    if (failure !== undefined) throw failure;
  } finally {
    stopTicker();
    await producer.disconnect();
  }
  result.ms = performance.now() - started;
  return result;
}
