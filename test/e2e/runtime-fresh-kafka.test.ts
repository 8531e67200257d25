// The runtime on a broker that has never seen this project (real Kafka and PostgreSQL): topic names that do
// not exist yet. With creating on, it starts healthy, the raw, events and DLQ topics are created with the
// configured partitions and events flow; with creating off it still starts healthy, warns naming the
// topic, and the bridge starts once someone creates it. A producer's retry of an event is stored once.
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Database } from '../../shared/db/index.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { requireService, serviceTest } from '../helpers/services.ts';
import {
  recordingLog,
  startServiceRuntime,
  tempStack,
  until,
  type RecordingLog,
} from './runtime-fixtures.ts';

const test = serviceTest('kafka', 'postgres').serial;
const suffix = (): string => randomBytes(4).toString('hex');

function kafka(): Kafka {
  return new Kafka({
    clientId: 'rt-fresh',
    brokers: requireService('kafka')!.brokers,
    logLevel: logLevel.NOTHING,
  });
}

interface Fresh {
  rt: Runtime;
  db: Database;
  log: RecordingLog;
  topics: { raw: string; events: string; dlq: string };
  group: string;
}

async function topicPartitions(k: Kafka, topics: string[]): Promise<Record<string, number>> {
  const admin = k.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return {};
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: present });
    return Object.fromEntries(meta.map((m) => [m.name, m.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

async function startFresh(t: ExecutionContext, env: Record<string, string>): Promise<Fresh> {
  const k = kafka();
  const id = suffix();
  const topics = { raw: `rt.fresh.raw.${id}`, events: `rt.fresh.events.${id}`, dlq: `rt.fresh.dlq.${id}` };
  const group = `rt-fresh-${id}`;
  t.teardown(async () => {
    const admin = k.admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    await admin
      .deleteTopics({ topics: Object.values(topics).filter((n) => existing.has(n)) })
      .catch(() => undefined);
    await admin.deleteGroups([group, `${group}-pull`]).catch(() => undefined);
    await admin.disconnect();
  });
  const { url, db, drop } = await freshPgDatabase();
  t.teardown(drop);
  const stack = tempStack({
    ingest: { projectHandler: 'functions/ingest', annotations: { topic: topics.raw } },
    'aggregate-hourly': { projectHandler: 'functions/aggregate-hourly' },
    status: { projectHandler: 'functions/status' },
  });
  t.teardown(() => stack.cleanup());
  const log = recordingLog();
  const rt = await startServiceRuntime(t, {
    stackFile: stack.stackFile,
    databaseUrl: url as string,
    brokers: requireService('kafka')!.brokers,
    env: {
      KAFKA_RAW_TOPICS: topics.raw,
      KAFKA_EVENTS_TOPIC: topics.events,
      KAFKA_DLQ_TOPIC: topics.dlq,
      KAFKA_CONSUMER_GROUP: `${group}-pull`,
      KAFKA_TOPIC_PARTITIONS: '2',
      // the raw topic reaches ingest through the runtime's bridge (one consumption path per deployment)
      KAFKA_CONSUMPTION: 'push',
      ...env,
    },
    kafka: { groupId: group, maxWaitTimeInMs: 100, startBackoffMs: { initial: 100, max: 300 } },
    log,
  });
  return { rt, db, log, topics, group };
}

async function committedTotal(k: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = k.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

async function healthy(rt: Runtime): Promise<number> {
  const res = await fetch(`${rt.apiUrl}/health`);
  await res.arrayBuffer();
  return res.status;
}

async function produce(topic: string, value: object): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value: JSON.stringify(value) }] });
  await producer.disconnect();
}

const hourAgo = (): string =>
  new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_000_000).toISOString();

async function storedKeys(db: Database, eventType: string): Promise<string[] | undefined> {
  const { rows } = await db.query<{ idempotency_key: string }>(
    'SELECT idempotency_key FROM raw_events WHERE event_type = $1',
    [eventType],
  );
  return rows.length > 0 ? rows.map((r) => r.idempotency_key) : undefined;
}

test('started against topics that do not exist: healthy, topics created, events flow, stored once', async (t) => {
  const { rt, db, topics, group } = await startFresh(t, {});
  t.true(rt.bridge?.running, 'the bridge consumes at once');
  t.is(await healthy(rt), 200);
  const all = Object.values(topics);
  t.deepEqual(
    await until(
      async () => {
        const found = await topicPartitions(kafka(), all);
        return Object.keys(found).length === all.length ? found : undefined;
      },
      30_000,
      'the three topics',
    ),
    { [topics.raw]: 2, [topics.events]: 2, [topics.dlq]: 2 },
  );

  const eventType = `fresh_${suffix()}`;
  await produce(topics.raw, {
    event_type: eventType,
    timestamp: hourAgo(),
    id: 'fresh-1',
    data: { cost_usd: 1 },
  });
  t.deepEqual(await until(() => storedKeys(db, eventType), 60_000, 'the event in raw_events'), [
    'id:fresh-1',
  ]);

  // A producer's retry of the same record: the bridge delivers it, and its id says it is stored already.
  await produce(topics.raw, {
    event_type: eventType,
    timestamp: hourAgo(),
    id: 'fresh-1',
    data: { cost_usd: 1 },
  });
  await until(
    async () => ((await committedTotal(kafka(), group, topics.raw)) === 2 ? true : undefined),
    60_000,
    'both records delivered and committed by the bridge',
  );
  t.deepEqual(await storedKeys(db, eventType), ['id:fresh-1']);
});

test('with topic creation off: healthy, a warning names the topic, the bridge starts once it exists', async (t) => {
  const { rt, db, log, topics } = await startFresh(t, { KAFKA_TOPIC_CREATE: 'false' });
  t.false(rt.bridge?.running);
  t.is(await healthy(rt), 200);
  const warning = await until(
    () => log.lines.find((l) => l.level === 'warn' && (l.obj as { topic?: string }).topic === topics.raw),
    30_000,
    'a warning naming the raw topic',
  );
  t.regex(warning.msg, /is missing: creating topics is switched off .*KAFKA_TOPIC_CREATE/);
  t.deepEqual(await topicPartitions(kafka(), Object.values(topics)), {}, 'nothing created');

  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({
    topics: [topics.raw, topics.dlq].map((topic) => ({ topic, numPartitions: 1 })),
    waitForLeaders: true,
  });
  await admin.disconnect();
  t.true(await rt.bridge!.ready);
  t.true(rt.bridge!.running);
  const eventType = `fresh_${suffix()}`;
  await produce(topics.raw, { event_type: eventType, timestamp: hourAgo(), data: { cost_usd: 1 } });
  t.deepEqual(await until(() => storedKeys(db, eventType), 60_000, 'the event in raw_events'), [
    `${topics.raw}:0:0`,
  ]);
});
