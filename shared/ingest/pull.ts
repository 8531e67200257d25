// Pull ingestion: one bounded invocation of a kafkajs consumer. Each fetched batch is normalised and
// stored in ONE PostgreSQL transaction together with the partition's next offset, so PostgreSQL is the
// truth: on every group join the consumer seeks to the stored offsets, and inside the transaction the
// stored offset (row-locked) filters out records already stored. Kafka's own commit follows the
// PostgreSQL COMMIT only so that ordinary lag tools see progress.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Database } from '../db/index.ts';
import { BatchError } from '../errors/index.ts';
import { ArchivedDays } from '../events/index.ts';
import { archivedRawDays } from '../retention/archives-sql.ts';
import {
  createPublisher,
  DEFAULT_TOPIC_SETTINGS,
  ensureTopics,
  type Publisher,
  type TopicSettings,
} from '../kafka/index.ts';
import type { Registry } from 'prom-client';
import { recordIngest } from '../metrics/index.ts';
import { CONFLICT_CODE } from './conflicts.ts';
import { PartitionQueue } from './partition-queue.ts';
import { preparePartitionBatch, storeBatch, type PreparedPartitionBatch } from './pull-batch.ts';
import { publishDeadLetters } from './dlq.ts';
import type { NormalizeSettings } from './normalize.ts';
import { measureLag, watermarks } from './kafka-lag.ts';
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
  /** Where stored / duplicate / rejected counts go (the process registry in a function). */
  metrics?: Registry;
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
  /** Fetch size per partition, which bounds one batch and its transaction (default 2 MiB). */
  maxBytesPerPartition?: number;
  /**
   * Fetch size over all partitions (default 2 MiB: one partition's batch per fetch). A fetch is one
   * response that kafkajs gathers and decodes whole, and its cost per byte grows with the response: on the
   * benchmark, 4 MiB fetches cost Node ~12.5 µs per event against ~8.5 µs for 2 MiB ones, and 2 MiB
   * fetches of two 1 MiB batches need twice the transactions of one 2 MiB batch (1M events: 99,000 vs
   * 106,000 events/s).
   */
  maxBytesPerFetch?: number;
  /**
   * Fetched batches prepared and waiting or being stored, each in its own transaction, one at a time per
   * partition (default 3; always 1 on embedded PGlite, which has one connection). More than one lets Node
   * prepare one batch and Kafka serve the next fetch while PostgreSQL writes another; the pool needs as
   * many connections.
   */
  batchesInFlight?: number;
  /**
   * How a topic the broker lacks is created (default: the configuration defaults). A topic that cannot be
   * created is left out of this invocation with a warning naming it; the next invocation looks again.
   */
  topicSettings?: TopicSettings;
  hooks?: PullHooks;
}

export interface PullResult {
  recordsIn: number;
  stored: number;
  /** Records whose event was stored before (same id, or same record), by any path. */
  duplicates: number;
  /** The duplicates whose id was stored before with other content (each a dead letter). */
  conflictingDuplicates: number;
  rejected: number;
  /** llm_request records whose cost_usd was inferred from the price table (pricing.*). */
  costInferred: number;
  /** llm_request records with tokens but no cost and no price for their model at their time. */
  unpriced: number;
  /** Sum over the topics' partitions of high watermark − next offset stored in PostgreSQL. */
  lag: number;
  durationMs: number;
  stoppedBy: 'budget' | 'time' | 'idle';
}

export const DEFAULT_GROUP_ID = 'hxp-batch-processing';
// Three: on the benchmark's 2 cores (1M events, 2 MiB batches) two left the cores ~20 % idle, with Node
// and PostgreSQL waiting on each other (97,000 events/s); three reached 106,000 for ~10 MiB more peak RSS.
const DEFAULT_BATCHES_IN_FLIGHT = 3;

type StopReason = PullResult['stoppedBy'];

export async function pullFromKafka(deps: PullDeps, pullOptions: PullOptions): Promise<PullResult> {
  // read once per invocation; a day archived meanwhile is refused by the store's partition guard instead
  const options: PullOptions = pullOptions.archivedDays
    ? pullOptions
    : { ...pullOptions, archivedDays: new ArchivedDays(await archivedRawDays(deps.db)) };
  const log = deps.log ?? silentLogger;
  const clock = deps.clock ?? Date.now;
  const groupId = options.groupId ?? DEFAULT_GROUP_ID;
  const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
  const idleMs = options.idleMs ?? 2000;
  const fromBeginning = options.fromBeginning ?? true;
  const started = clock();
  const totals = {
    recordsIn: 0,
    stored: 0,
    duplicates: 0,
    conflictingDuplicates: 0,
    rejected: 0,
    costInferred: 0,
    unpriced: 0,
  };
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

  // Idle time counts from the first fetch answered after a join, not from the join: on a loaded machine the
  // first fetch can take longer than idleMs, and a pull must not stop with records waiting for it.
  let fetchedSinceJoin = false;
  // Records of the batches queued or being stored (counted against maxRecords up front).
  let reserved = 0;
  let lastActivity = started;
  // Partitions whose position this invocation has checked against PostgreSQL (see handleBatch).
  const confirmed = new Set<string>();

  let transientCrash: unknown;
  const consumer: Consumer = deps.kafka.consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.max(500, Math.floor((options.sessionTimeoutMs ?? 30_000) / 10)),
    rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 2 * 1024 * 1024,
    maxBytes: options.maxBytesPerFetch ?? 2 * 1024 * 1024,
    allowAutoTopicCreation: false,
    // A crash (a broker down longer than these retries) ends the invocation with its error; the next one
    // resumes from the offsets stored in PostgreSQL. kafkajs's own restart after a crash is switched off
    // because disconnect() does not cancel it: a restart already under way (connecting, joining) when the
    // pull stops goes on after the pull has returned, re-arms its timer on every failure while the broker is
    // down, and once the broker is back joins the group as a member nobody runs, holding partitions.
    // kafkajs asks only about a crash it deems transient (retries exhausted, or a retriable cause): that one
    // fails the run as KAFKA_UNAVAILABLE, to be retried like any broker outage.
    retry: {
      retries: 3,
      restartOnFailure: (err) => {
        transientCrash = err;
        return Promise.resolve(false);
      },
    },
  });

  // Where partitions without a stored offset start: their low (fromBeginning) or high watermark.
  const starts = new Map<string, string>();
  // Bumped whenever what this member fetched may no longer be its to store or is read again (a rebalance
  // beginning, every group join, which seeks, and a gap seek): batches taken before that are dropped from
  // the queue instead of stored.
  let joins = 0;
  const gapSeeks = new Map<string, number>();
  const readPosition = (key: string): string => `${joins}:${gapSeeks.get(key) ?? 0}`;
  // The partitions of the current assignment already sent to their offset stored in PostgreSQL; a batch of
  // any other (fetched before the join, or before the seek) is not taken.
  const positioned = new Set<string>();
  let awaitingPositions = false;
  let positioning: Promise<void> = Promise.resolve();
  // Every assignment — the first join and every rebalance — starts where PostgreSQL says at that moment, not
  // where this member last knew: a partition taken over from another member has moved on since. kafkajs
  // fetches as soon as the join returns, so the partitions are paused in the (synchronous) listener, and
  // resumed once PostgreSQL has answered and they are sought.
  const seekToStored = async (join: number, held: { topic: string; partitions: number[] }[]) => {
    const keys = held.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}:${p}`));
    // A batch of a partition kept through the rebalance may be in its transaction: its offset counts.
    await queue.settled(keys);
    const stored = await readOffsets(
      deps.db,
      groupId,
      held.map((h) => h.topic),
      { afterWriters: true },
    );
    // A later join positions its own assignment; a stopped pull positions nothing.
    if (join !== joins || stopReason !== undefined || failure !== undefined) return;
    const offsets = new Map(stored.map((o) => [`${o.topic}:${o.partition}`, o.nextOffset]));
    for (const { topic, partitions } of held) {
      for (const partition of partitions) {
        // No stored offset: the partition was never ingested into this database, whatever Kafka committed.
        const key = `${topic}:${partition}`;
        const offset = offsets.get(key) ?? starts.get(key);
        if (offset !== undefined) consumer.seek({ topic, partition, offset });
        positioned.add(key);
      }
    }
    consumer.resume(held);
    awaitingPositions = false;
    fetchedSinceJoin = false;
    lastActivity = clock();
  };
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    joins += 1;
    const join = joins;
    fetchedSinceJoin = false;
    lastActivity = clock();
    confirmed.clear();
    positioned.clear();
    awaitingPositions = true;
    const held = Object.entries(event.payload.memberAssignment).map(([topic, partitions]) => ({
      topic,
      partitions,
    }));
    try {
      consumer.pause(held);
    } catch (err) {
      stop('time', err);
      return;
    }
    const looking = seekToStored(join, held).catch((err: unknown) => stop('time', err));
    positioning = Promise.all([positioning, looking]).then(() => undefined);
  });
  // A rebalance has begun: the assignment is about to change, so batches queued and not yet in their
  // transaction are dropped (they are read again by whoever holds the partition next) and nothing more is
  // taken until the next join has sought its partitions. A member losing a partition then stores nothing of
  // it after this point, and the one taking it over reads its offset after the last batch in a transaction.
  consumer.on(consumer.events.REBALANCING, () => {
    joins += 1;
    positioned.clear();
  });
  consumer.on(consumer.events.FETCH, () => {
    // Fetches of a paused assignment (waiting for PostgreSQL's offsets) bring nothing and do not count.
    if (fetchedSinceJoin || awaitingPositions) return;
    fetchedSinceJoin = true;
    lastActivity = clock();
  });
  // kafkajs has disconnected the consumer when it reports a crash (it never restarts it, see retry above).
  consumer.on(consumer.events.CRASH, (event) => stop('time', event.payload.error));

  // Stores one prepared batch in its transaction, then does what follows a commit. Runs from the queue,
  // after the partition's earlier batches.
  const storeQueued = async (work: PreparedPartitionBatch, takenAt: string): Promise<void> => {
    let counted = false;
    try {
      const key = `${work.topic}:${work.partition}`;
      if (failure !== undefined || readPosition(key) !== takenAt) return;
      const outcome = await storeBatch(deps.db, work, options.hooks);
      if (outcome.kind === 'gap') {
        // Fetched from Kafka's committed offset, which is ahead of PostgreSQL's: go back to the truth.
        log.warn(
          { topic: work.topic, partition: work.partition, from: outcome.nextOffset },
          'seeking to the stored offset',
        );
        confirmed.add(key);
        gapSeeks.set(key, (gapSeeks.get(key) ?? 0) + 1);
        consumer.seek({ topic: work.topic, partition: work.partition, offset: outcome.nextOffset });
        return;
      }
      confirmed.add(key);
      // Committed: PostgreSQL holds the rows, and nothing below reads their bytes.
      work.prepared.prepared.tuples.recycle();
      await options.hooks?.afterCommit?.();
      // From reserved to counted in one step, so the budget never sees the batch twice.
      reserved -= work.records;
      counted = true;
      totals.recordsIn += work.records;
      totals.stored += outcome.result.stored;
      totals.duplicates += outcome.result.duplicates + outcome.skipped;
      totals.conflictingDuplicates += outcome.result.conflictingDuplicates;
      totals.rejected += outcome.result.rejected;
      totals.costInferred += outcome.costs.inferred;
      totals.unpriced += outcome.costs.unpriced;
      if (deps.metrics) {
        recordIngest(deps.metrics, 'pull', {
          stored: outcome.result.stored,
          duplicates: outcome.result.duplicates + outcome.skipped,
          conflictingDuplicates: outcome.result.conflictingDuplicates,
          rejectedReasons: outcome.letters
            .filter((l) => l.reasonCode !== CONFLICT_CODE)
            .map((l) => l.reasonCode),
        });
      }
      lastActivity = clock();
      try {
        await consumer.commitOffsets([
          { topic: work.topic, partition: work.partition, offset: outcome.nextOffset },
        ]);
      } catch (err) {
        // Informative only: PostgreSQL already holds the offset.
        log.warn({ err, topic: work.topic, partition: work.partition }, 'kafka offset commit failed');
      }
      await options.hooks?.afterKafkaCommit?.();
      if (options.dlqTopic && outcome.letters.length > 0) {
        publisher ??=
          deps.publisher ??
          (ownPublisher = createPublisher(deps.kafka, {
            topics: options.topicSettings ?? DEFAULT_TOPIC_SETTINGS,
            log,
          }));
        await publishDeadLetters(publisher, options.dlqTopic, outcome.letters, log);
      }
      if (totals.recordsIn >= maxRecords) stop('budget');
    } catch (err) {
      stop('time', err);
    } finally {
      if (!counted) reserved -= work.records;
    }
  };
  // On PGlite (one connection) each batch is stored before the next is taken, as without a queue.
  const queue = new PartitionQueue(
    deps.db.embedded ? 1 : Math.max(1, options.batchesInFlight ?? DEFAULT_BATCHES_IN_FLIGHT),
    (err) => stop('time', err),
  );

  const handleBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload;
    const key = `${batch.topic}:${batch.partition}`;
    // Whether the batch is still this member's to store: the pull goes on, kafkajs has not moved past it,
    // and its partition was sought to PostgreSQL's offset in the current assignment.
    const takeable = (): boolean =>
      stopReason === undefined &&
      failure === undefined &&
      payload.isRunning() &&
      !payload.isStale() &&
      positioned.has(key);
    if (!takeable()) return;
    const room = Math.max(0, maxRecords - totals.recordsIn - reserved);
    const messages: KafkaMessage[] =
      batch.messages.length > room ? batch.messages.slice(0, room) : batch.messages;
    if (messages.length === 0) return;
    // Read before preparing: a join or a gap seek while the batch is prepared makes it stale.
    const takenAt = readPosition(key);
    let work: PreparedPartitionBatch;
    try {
      // Prepared now, so the queue holds rendered rows rather than kafkajs's messages and fetch buffers.
      work = await preparePartitionBatch(
        { groupId, topic: batch.topic, partition: batch.partition, messages, checkGap: !confirmed.has(key) },
        options,
        deps.db.embedded,
      );
    } catch (err) {
      stop('time', err);
      return;
    }
    // The batch was prepared in slices: a stop or a rebalance may have come in between.
    if (!takeable()) return;
    reserved += work.records;
    queue.push(key, () => storeQueued(work, takenAt));
    // kafkajs fetches on from the resolved offset; PostgreSQL, not this, says what is stored (a batch that
    // fails is read again by the next invocation, which seeks to the stored offset).
    payload.resolveOffset((messages[messages.length - 1] as KafkaMessage).offset);
    await queue.room();
    // A rebalance surfaces here as an error kafkajs itself handles by rejoining.
    if (stopReason === undefined && failure === undefined) await payload.heartbeat();
  };

  let publisher: Publisher | undefined;
  let ownPublisher: Publisher | undefined;
  const timer = setTimeout(() => stop('time'), options.maxDurationMs ?? 60_000);
  const idleCheck = setInterval(
    () => {
      if (fetchedSinceJoin && queue.size === 0 && clock() - lastActivity >= idleMs) stop('idle');
    },
    Math.max(20, Math.min(250, Math.floor(idleMs / 4))),
  );
  let topics: string[] = [];
  try {
    topics = await presentTopics(deps.kafka, options.topics, options.topicSettings, log);
    if (topics.length === 0) stop('idle');
    else {
      for (const w of await watermarks(deps.kafka, topics)) {
        starts.set(`${w.topic}:${w.partition}`, fromBeginning ? w.low : w.high);
      }
      await consumer.connect();
      for (const topic of topics) {
        await consumer.subscribe({ topic, fromBeginning });
      }
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: handleBatch,
      });
      await stopped;
    }
  } catch (err) {
    failure ??= err;
  } finally {
    // Batches already handed over finish (or, after a failure, are skipped) before the consumer goes, and so
    // does a join's look at PostgreSQL's offsets.
    await positioning;
    await queue.drain();
    clearTimeout(timer);
    clearInterval(idleCheck);
    await consumer
      .disconnect()
      .catch((err: unknown) => log.warn({ err }, 'kafka consumer disconnect failed'));
    await ownPublisher
      ?.disconnect()
      .catch((err: unknown) => log.warn({ err }, 'kafka DLQ producer disconnect failed'));
  }
  if (failure !== undefined) throw asBatchError(failure, groupId, options.topics, failure === transientCrash);
  const lag =
    topics.length === 0
      ? 0
      : await measureLag(deps, groupId, topics).catch((err: unknown) => {
          log.warn({ err }, 'could not measure kafka lag');
          return -1;
        });
  return { ...totals, lag, durationMs: clock() - started, stoppedBy: stopReason ?? 'time' };
}

/**
 * The raw topics that exist, missing ones created first when allowed. One that cannot be created is left out
 * of this invocation (subscribing to it would fail the whole consumer), with a warning naming it.
 */
async function presentTopics(
  kafka: Kafka,
  topics: readonly string[],
  settings: TopicSettings | undefined,
  log: IngestLogger,
): Promise<string[]> {
  const check = await ensureTopics(kafka, topics, settings ?? DEFAULT_TOPIC_SETTINGS, log);
  for (const { topic, reason } of check.missing) {
    log.warn({ topic, reason }, `kafka topic "${topic}" is missing: ${reason}; not pulled this time`);
  }
  return topics.filter((t) => check.present.includes(t));
}

// kafkajs names its errors; those that mean "no broker answered" become KAFKA_UNAVAILABLE (retriable).
const UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNumberOfRetriesExceeded',
]);

/**
 * Whether `err` or one of its causes says no broker answered. A consumer that could not reconnect crashes
 * with a KafkaJSNonRetriableError whose cause is the connection error.
 */
function kafkaUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const { name, cause } = e as { name?: unknown; cause?: unknown };
    if (typeof name === 'string' && UNREACHABLE.has(name)) return true;
    e = cause;
  }
  return false;
}

function asBatchError(err: unknown, groupId: string, topics: readonly string[], transient = false): unknown {
  if (!transient && !kafkaUnreachable(err)) return err;
  return new BatchError(
    'KAFKA_UNAVAILABLE',
    `pull ingestion could not reach Kafka (${(err as Error).message}); check kafka.bootstrapServers and that the brokers are up`,
    { cause: err, context: { groupId, topics } },
  );
}
