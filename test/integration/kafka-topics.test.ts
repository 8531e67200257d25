// Topics a broker lacks (real Kafka): created with the configured partitions and replication factor, or —
// when creating is off or refused — reported with the reason and waited for; the publisher and pull
// ingestion start on a broker that has never seen them.
import type { ExecutionContext } from 'ava';
import type { Kafka } from 'kafkajs';
import { pullFromKafka } from '../../shared/ingest/index.ts';
import {
  createPublisher,
  ensureTopics,
  waitForTopics,
  type TopicSettings,
  type TopicsLog,
} from '../../shared/kafka/index.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { readTopic, testKafka, uniqueSuffix } from '../fixtures/ingest-kafka.ts';

const test = serviceTest('kafka');
const CREATE: TopicSettings = { create: true, partitions: 3, replicationFactor: 1 };
const NO_CREATE: TopicSettings = { ...CREATE, create: false };

interface Line {
  level: 'info' | 'warn';
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLog(): TopicsLog & { lines: Line[] } {
  const lines: Line[] = [];
  return {
    lines,
    info: (obj, msg) =>
      void lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg: msg ?? '' }),
    warn: (obj, msg) =>
      void lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg: msg ?? '' }),
  };
}

/** Unique topic names, deleted at teardown whether or not they were created. */
function topicNames(t: ExecutionContext, kafka: Kafka, ...parts: string[]): string[] {
  const suffix = uniqueSuffix();
  const names = parts.map((p) => `hxp.test.topics.${p}.${suffix}`);
  t.teardown(async () => {
    const admin = kafka.admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics({ topics: names.filter((n) => existing.has(n)) }).catch(() => undefined);
    await admin.disconnect();
  });
  return names;
}

async function partitionsOf(kafka: Kafka, topic: string): Promise<number | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return undefined;
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

test('missing topics are created with the configured partitions; existing ones are left alone', async (t) => {
  const kafka = testKafka();
  const [a, b] = topicNames(t, kafka, 'a', 'b') as [string, string];
  const log = recordingLog();
  const first = await ensureTopics(kafka, [a, b, a], CREATE, log);
  t.deepEqual(first, { present: [a, b], created: [a, b], missing: [] });
  t.is(await partitionsOf(kafka, a), 3);
  t.deepEqual(
    log.lines.map((l) => [l.msg, l.obj.topic, l.obj.partitions]),
    [
      ['created kafka topic', a, 3],
      ['created kafka topic', b, 3],
    ],
  );
  const second = await ensureTopics(kafka, [a], { ...CREATE, partitions: 7 });
  t.deepEqual(second, { present: [a], created: [], missing: [] });
  t.is(await partitionsOf(kafka, a), 3);
});

test('with creating off, or a replication factor the cluster cannot give, a topic is reported with the fix', async (t) => {
  const kafka = testKafka();
  const [off, rf] = topicNames(t, kafka, 'off', 'rf') as [string, string];
  const notCreated = await ensureTopics(kafka, [off], NO_CREATE);
  t.deepEqual(notCreated.present, []);
  t.is(notCreated.missing[0]?.topic, off);
  t.regex(notCreated.missing[0]?.reason ?? '', /KAFKA_TOPIC_CREATE/);
  const tooMany = await ensureTopics(kafka, [rf], { ...CREATE, replicationFactor: 3 });
  t.is(tooMany.missing[0]?.topic, rf);
  t.regex(
    tooMany.missing[0]?.reason ?? '',
    /fewer brokers than the replication factor 3.*KAFKA_TOPIC_REPLICATION_FACTOR/,
  );
  t.is(await partitionsOf(kafka, off), undefined);
  t.is(await partitionsOf(kafka, rf), undefined);
});

test('waitForTopics warns with the topic name until someone creates it, and stops when told', async (t) => {
  const kafka = testKafka();
  const [late, never] = topicNames(t, kafka, 'late', 'never') as [string, string];
  const log = recordingLog();
  const waiting = waitForTopics(kafka, [late], NO_CREATE, log, { backoffMs: { initial: 100, max: 200 } });
  for (let i = 0; i < 100 && !log.lines.some((l) => l.level === 'warn'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const warning = log.lines.find((l) => l.level === 'warn');
  t.is(warning?.obj.topic, late);
  t.regex(
    warning?.msg ?? '',
    new RegExp(`kafka topic "${late.replaceAll('.', '\\.')}" is missing: creating topics is switched off`),
  );
  await ensureTopics(kafka, [late], CREATE);
  t.true(await waiting);

  const stop = new AbortController();
  const stopped = waitForTopics(kafka, [never], NO_CREATE, recordingLog(), {
    signal: stop.signal,
    backoffMs: { initial: 100, max: 100 },
  });
  stop.abort();
  t.false(await stopped);
});

test('the publisher creates a topic the broker lacks on its first send', async (t) => {
  const kafka = testKafka();
  const [events] = topicNames(t, kafka, 'events') as [string];
  const publisher = createPublisher(kafka, { topics: { ...CREATE, partitions: 2 } });
  t.teardown(() => publisher.disconnect());
  await publisher.publish(events, 'k', { type: 'aggregation.completed' });
  t.is(await partitionsOf(kafka, events), 2);
  t.deepEqual(await readTopic(kafka, events, 1), ['{"type":"aggregation.completed"}']);
});

serviceTest('kafka', 'postgres')(
  'pull ingestion on a broker without its raw topic creates it, or leaves it out with a warning',
  async (t) => {
    const kafka = testKafka();
    const [raw, absent] = topicNames(t, kafka, 'raw', 'absent') as [string, string];
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const log = { ...recordingLog(), debug: () => undefined, error: () => undefined };
    const options = { groupId: `hxp-test-topics-${uniqueSuffix()}`, idleMs: 500, maxWaitTimeMs: 100 };
    const created = await pullFromKafka(
      { db, kafka, log },
      { ...options, topics: [raw], topicSettings: { ...CREATE, partitions: 2 } },
    );
    t.like(created, { recordsIn: 0, stored: 0, lag: 0, stoppedBy: 'idle' });
    t.is(await partitionsOf(kafka, raw), 2);
    const left = await pullFromKafka(
      { db, kafka, log },
      { ...options, topics: [absent], topicSettings: NO_CREATE },
    );
    t.like(left, { recordsIn: 0, lag: 0, stoppedBy: 'idle' });
    t.true(
      log.lines.some(
        (l) => l.level === 'warn' && l.obj.topic === absent && /not pulled this time/.test(l.msg),
      ),
    );
    t.is(await partitionsOf(kafka, absent), undefined);
  },
);
