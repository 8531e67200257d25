// Pull ingestion: one bounded invocation of a kafkajs consumer. Each fetched batch is normalised and
// stored in ONE PostgreSQL transaction together with the partition's next offset, so PostgreSQL is the
// truth: on every group join the consumer seeks to the stored offsets, and inside the transaction the
// stored offset (row-locked) filters out records already stored. Kafka's own commit follows the
// PostgreSQL COMMIT only so that ordinary lag tools see progress.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Database } from '../db/index.ts';
import { BatchError } from '../errors/index.ts';
import { createPublisher, type Publisher } from '../kafka/index.ts';
import { storeBatch, type PartitionBatch } from './pull-batch.ts';
import { publishDeadLetters } from './dlq.ts';
import type { NormalizeSettings } from './normalize.ts';
import { readOffsets } from './offsets-sql.ts';
import { silentLogger, type IngestLogger } from './types.ts';

export interface PullDeps {
  db: Database;
  kafka: Kafka;
  log?: IngestLogger;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  /** Needed only with `dlqTopic`; created from `kafka` when absent. */
  publisher?: Publisher;
}

/** Test seams for the crash suite: called at the three points where a crash must lose nothing. */
export interface PullHooks {
  beforeCommit?: () => void | Promise<void>;
  afterCommit?: () => void | Promise<void>;
  afterKafkaCommit?: () => void | Promise<void>;
}

export interface PullOptions extends NormalizeSettings {
  groupId?: string;
  topics: readonly string[];
  /** Stop after this many records (default: no limit). */
  maxRecords?: number;
  /** Stop after this long (default 60 s). */
  maxDurationMs?: number;
  /** Stop when no record arrived for this long after joining the group (default 2 s). */
  idleMs?: number;
  dlqTopic?: string;
  /**
   * Where a partition without an offset in PostgreSQL starts: its earliest record (default) or only new
   * ones. Kafka's committed offset is never used as a start: PostgreSQL is the truth.
   */
  fromBeginning?: boolean;
  /** Consumer group session timeout (default 30 s); a crashed member holds its partitions this long. */
  sessionTimeoutMs?: number;
  /** How long the group waits for members to rejoin during a rebalance (default 60 s). */
  rebalanceTimeoutMs?: number;
  /** How long a fetch waits for data (default 500 ms). */
  maxWaitTimeMs?: number;
  /** Fetch size per partition, which bounds one batch and its transaction (default 1 MiB). */
  maxBytesPerPartition?: number;
  /**
   * Partitions stored at once, each batch in its own transaction (default 2; always 1 on embedded PGlite,
   * which has one connection). Two let Node decode and normalise one partition's batch while PostgreSQL
   * writes another's; the pool needs as many connections.
   */
  partitionsInFlight?: number;
  hooks?: PullHooks;
}

export interface PullResult {
  recordsIn: number;
  stored: number;
  duplicates: number;
  rejected: number;
  /** Sum over the topics' partitions of high watermark − next offset stored in PostgreSQL. */
  lag: number;
  durationMs: number;
  stoppedBy: 'budget' | 'time' | 'idle';
}

export const DEFAULT_GROUP_ID = 'hxp-batch-processing';

type StopReason = PullResult['stoppedBy'];

export async function pullFromKafka(deps: PullDeps, options: PullOptions): Promise<PullResult> {
  const log = deps.log ?? silentLogger;
  const clock = deps.clock ?? Date.now;
  const groupId = options.groupId ?? DEFAULT_GROUP_ID;
  const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
  const idleMs = options.idleMs ?? 2000;
  const fromBeginning = options.fromBeginning ?? true;
  const started = clock();
  const totals = { recordsIn: 0, stored: 0, duplicates: 0, rejected: 0 };
  if (options.topics.length === 0) {
    throw new BatchError(
      'CONFIG_INVALID',
      'pullFromKafka: no topics given; set kafka.topics.raw (KAFKA_RAW_TOPICS)',
    );
  }

  let stopReason: StopReason | undefined;
  let failure: unknown;
  let signalStop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (signalStop = resolve));
  const stop = (reason: StopReason, err?: unknown): void => {
    if (stopReason !== undefined || failure !== undefined) return;
    if (err !== undefined) failure = err;
    else stopReason = reason;
    signalStop();
  };
  if (maxRecords <= 0) stop('budget');

  let joined = false;
  // Batches being stored now, and how many records they hold (counted against maxRecords up front).
  let inFlight = 0;
  let reserved = 0;
  let lastActivity = started;
  // Partitions whose position this invocation has checked against PostgreSQL (see handleBatch).
  const confirmed = new Set<string>();

  const consumer: Consumer = deps.kafka.consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.max(500, Math.floor((options.sessionTimeoutMs ?? 30_000) / 10)),
    rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    allowAutoTopicCreation: false,
    retry: { retries: 3 },
  });

  // PostgreSQL's offsets, read once before joining and kept current by our own commits, so the GROUP_JOIN
  // listener can seek synchronously — before kafkajs fetches from the (informative) Kafka commit. A stale
  // entry (another member advanced a partition) is caught by the check inside the transaction.
  const positions = new Map<string, string>();
  // Where partitions without a stored offset start: their low (fromBeginning) or high watermark.
  const starts = new Map<string, string>();
  const seekToStored = (assignment: Record<string, number[]>): void => {
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        // No stored offset: the partition was never ingested into this database, whatever Kafka committed.
        const key = `${topic}:${partition}`;
        const offset = positions.get(key) ?? starts.get(key);
        if (offset !== undefined) consumer.seek({ topic, partition, offset });
      }
    }
  };
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    joined = true;
    lastActivity = clock();
    confirmed.clear();
    try {
      seekToStored(event.payload.memberAssignment);
    } catch (err) {
      stop('time', err);
    }
  });
  consumer.on(consumer.events.CRASH, (event) => {
    // kafkajs restarts itself after retriable crashes (the rejoin seeks again); anything else ends the run.
    if (event.payload.restart) log.warn({ err: event.payload.error }, 'kafka consumer restarting');
    else stop('time', event.payload.error);
  });

  const handleBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload;
    if (stopReason !== undefined || failure !== undefined || !payload.isRunning() || payload.isStale())
      return;
    const room = maxRecords - totals.recordsIn - reserved;
    const messages: KafkaMessage[] =
      batch.messages.length > room ? batch.messages.slice(0, room) : batch.messages;
    if (messages.length === 0) return;
    inFlight += 1;
    reserved += messages.length;
    try {
      const key = `${batch.topic}:${batch.partition}`;
      const work: PartitionBatch = {
        groupId,
        topic: batch.topic,
        partition: batch.partition,
        messages,
        checkGap: !confirmed.has(key),
      };
      const outcome = await storeBatch(deps.db, work, options, options.hooks);
      if (outcome.kind === 'gap') {
        // Fetched from Kafka's committed offset, which is ahead of PostgreSQL's: go back to the truth.
        log.warn(
          { topic: batch.topic, partition: batch.partition, from: outcome.nextOffset },
          'seeking to the stored offset',
        );
        confirmed.add(key);
        consumer.seek({ topic: batch.topic, partition: batch.partition, offset: outcome.nextOffset });
        return;
      }
      confirmed.add(key);
      positions.set(key, outcome.nextOffset);
      await options.hooks?.afterCommit?.();
      totals.recordsIn += messages.length;
      totals.stored += outcome.result.stored;
      totals.duplicates += outcome.result.duplicates + outcome.skipped;
      totals.rejected += outcome.result.rejected;
      lastActivity = clock();
      const last = (messages[messages.length - 1] as KafkaMessage).offset;
      payload.resolveOffset(last);
      try {
        await payload.commitOffsetsIfNecessary({
          topics: [
            { topic: batch.topic, partitions: [{ partition: batch.partition, offset: outcome.nextOffset }] },
          ],
        });
      } catch (err) {
        // Informative only: PostgreSQL already holds the offset.
        log.warn({ err, topic: batch.topic, partition: batch.partition }, 'kafka offset commit failed');
      }
      await options.hooks?.afterKafkaCommit?.();
      if (options.dlqTopic && outcome.letters.length > 0) {
        publisher ??= deps.publisher ?? (ownPublisher = createPublisher(deps.kafka));
        await publishDeadLetters(publisher, options.dlqTopic, outcome.letters, log);
      }
      if (totals.recordsIn >= maxRecords) stop('budget');
    } catch (err) {
      stop('time', err);
    } finally {
      inFlight -= 1;
      reserved -= messages.length;
    }
    // Outside the try: a rebalance surfaces here as an error kafkajs itself handles by rejoining.
    if (stopReason === undefined && failure === undefined) await payload.heartbeat();
  };

  let publisher: Publisher | undefined;
  let ownPublisher: Publisher | undefined;
  const timer = setTimeout(() => stop('time'), options.maxDurationMs ?? 60_000);
  const idleCheck = setInterval(
    () => {
      if (joined && inFlight === 0 && clock() - lastActivity >= idleMs) stop('idle');
    },
    Math.max(20, Math.min(250, Math.floor(idleMs / 4))),
  );
  try {
    for (const o of await readOffsets(deps.db, groupId, options.topics)) {
      positions.set(`${o.topic}:${o.partition}`, o.nextOffset);
    }
    for (const w of await watermarks(deps.kafka, options.topics)) {
      starts.set(`${w.topic}:${w.partition}`, fromBeginning ? w.low : w.high);
    }
    await consumer.connect();
    for (const topic of options.topics) {
      await consumer.subscribe({ topic, fromBeginning });
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: deps.db.embedded ? 1 : Math.max(1, options.partitionsInFlight ?? 2),
      eachBatch: handleBatch,
    });
    await stopped;
  } catch (err) {
    failure ??= err;
  } finally {
    clearTimeout(timer);
    clearInterval(idleCheck);
    await consumer
      .disconnect()
      .catch((err: unknown) => log.warn({ err }, 'kafka consumer disconnect failed'));
    await ownPublisher
      ?.disconnect()
      .catch((err: unknown) => log.warn({ err }, 'kafka DLQ producer disconnect failed'));
  }
  if (failure !== undefined) throw asBatchError(failure, groupId, options.topics);
  const lag = await measureLag(deps, groupId, options.topics).catch((err: unknown) => {
    log.warn({ err }, 'could not measure kafka lag');
    return -1;
  });
  return { ...totals, lag, durationMs: clock() - started, stoppedBy: stopReason ?? 'time' };
}

// kafkajs names its errors; those that mean "no broker answered" become KAFKA_UNAVAILABLE (retriable).
const UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNumberOfRetriesExceeded',
]);

function asBatchError(err: unknown, groupId: string, topics: readonly string[]): unknown {
  const name = (err as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || !UNREACHABLE.has(name)) return err;
  return new BatchError(
    'KAFKA_UNAVAILABLE',
    `pull ingestion could not reach Kafka (${(err as Error).message}); check kafka.bootstrapServers and that the brokers are up`,
    { cause: err, context: { groupId, topics } },
  );
}

interface Watermark {
  topic: string;
  partition: number;
  low: string;
  high: string;
}

async function watermarks(kafka: Kafka, topics: readonly string[]): Promise<Watermark[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out: Watermark[] = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        out.push({ topic, partition: p.partition, low: p.low, high: p.high });
      }
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** High watermark − stored next offset (or the low watermark when none is stored), summed. */
async function measureLag(deps: PullDeps, groupId: string, topics: readonly string[]): Promise<number> {
  const stored = new Map(
    (await readOffsets(deps.db, groupId, topics)).map((o) => [
      `${o.topic}:${o.partition}`,
      BigInt(o.nextOffset),
    ]),
  );
  let lag = 0n;
  for (const w of await watermarks(deps.kafka, topics)) {
    const next = stored.get(`${w.topic}:${w.partition}`) ?? BigInt(w.low);
    if (BigInt(w.high) > next) lag += BigInt(w.high) - next;
  }
  return Number(lag);
}
