// Pull ingestion against real PostgreSQL and Kafka: exactly-once storage, offsets in PostgreSQL as the
// truth, dead letters (table and DLQ topic), budgets, and the connector push path agreeing on keys.
import type { ExecutionContext } from 'ava';
import { ingestPayload, pullFromKafka, type PullOptions } from '../../shared/ingest/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { freshEmbeddedDatabase, freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { countOf } from '../fixtures/ingest-events.ts';
import {
  createTopics,
  llmEvent,
  produceValues,
  readTopic,
  testKafka,
  uniqueSuffix,
} from '../fixtures/ingest-kafka.ts';

const test = serviceTest('postgres', 'kafka');
const NOW = Date.parse('2026-11-28T12:00:00Z');

async function setup(t: ExecutionContext, partitions = 2) {
  const suffix = uniqueSuffix();
  const topic = `hxp.test.ingest.${suffix}`;
  const dlqTopic = `hxp.test.ingest-dlq.${suffix}`;
  const groupId = `hxp-test-ingest-${suffix}`;
  const kafka = testKafka();
  await createTopics(t, kafka, [topic, dlqTopic], partitions, [groupId, `${groupId}-b`]);
  const fresh = await freshPgDatabase();
  t.teardown(fresh.drop);
  const options: PullOptions = {
    groupId,
    topics: [topic],
    maxDurationMs: 30_000,
    idleMs: 1500,
    maxWaitTimeMs: 200,
    sessionTimeoutMs: 10_000,
    now: () => NOW,
  };
  return { kafka, db: fresh.db, topic, dlqTopic, groupId, options };
}

async function storedOffsets(db: Database, groupId: string): Promise<Record<number, number>> {
  const { rows } = await db.query<{ partition: number; next_offset: number }>(
    'SELECT partition, next_offset FROM kafka_offsets WHERE consumer_group = $1',
    [groupId],
  );
  return Object.fromEntries(rows.map((r) => [r.partition, Number(r.next_offset)]));
}

test('pull stores every good record once, dead-letters the bad ones, and stores the offsets', async (t) => {
  const { kafka, db, topic, dlqTopic, groupId, options } = await setup(t);
  const values = Array.from({ length: 40 }, (_, i) => llmEvent(`e${i}`, 9 + (i % 3)));
  values[7] = 'not json';
  values[12] = JSON.stringify({ event_type: 'llm_request', data: 'not an object' });
  values[21] = '{"event_type":"x","data":{"v":1e999}}';
  await produceValues(kafka, topic, values);

  const result = await pullFromKafka({ db, kafka }, { ...options, dlqTopic });
  t.like(result, { recordsIn: 40, stored: 37, duplicates: 0, rejected: 3, lag: 0, stoppedBy: 'idle' });
  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), 37);
  t.is(await countOf(db, 'SELECT count(DISTINCT idempotency_key) AS n FROM raw_events'), 37);
  t.deepEqual(await storedOffsets(db, groupId), { 0: 20, 1: 20 });
  const { rows: letters } = await db.query<{ idempotency_key: string; reason_code: string }>(
    'SELECT idempotency_key, reason_code FROM dead_letters ORDER BY reason_code',
  );
  // value i went to partition i % 2 at offset floor(i / 2)
  t.deepEqual(letters, [
    { idempotency_key: `${topic}:1:10`, reason_code: 'EVENT_NON_FINITE' },
    { idempotency_key: `${topic}:1:3`, reason_code: 'EVENT_NOT_JSON' },
    { idempotency_key: `${topic}:0:6`, reason_code: 'EVENT_SCHEMA' },
  ]);
  t.is(await countOf(db, "SELECT count(*) AS n FROM aggregation_windows WHERE level = 'hour'"), 3);
  const dlq = (await readTopic(kafka, dlqTopic, 3)).map((v) => JSON.parse(v) as { idempotencyKey: string });
  t.deepEqual(dlq.map((m) => m.idempotencyKey).sort(), letters.map((l) => l.idempotency_key).sort());

  // The same record pushed by the Kafka connector is a duplicate; a bad one stays one dead letter.
  const pushed = await ingestPayload(
    { db },
    {
      body: values[0] as string,
      headers: { 'X-Topic': topic, 'X-Kafka-Partition': '0', 'X-Kafka-Offset': '0' },
    },
  );
  t.like(pushed, { stored: 0, duplicates: 1 });
  const pushedBad = await ingestPayload(
    { db },
    { body: 'not json', headers: { 'X-Topic': topic, 'X-Kafka-Partition': '1', 'X-Kafka-Offset': '3' } },
  );
  t.like(pushedBad, { stored: 0, rejected: 1 });

  // A second group re-reads the whole topic: redelivered records, good and bad, change nothing.
  const again = await pullFromKafka({ db, kafka }, { ...options, groupId: `${groupId}-b` });
  t.like(again, { recordsIn: 40, stored: 0, duplicates: 37, rejected: 3 });
  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), 37);
  t.is(await countOf(db, 'SELECT count(*) AS n FROM dead_letters'), 3);
});

test('a valid record after an unstorable one with the same id is stored; each bad one is a dead letter', async (t) => {
  const { kafka, db, topic, options } = await setup(t, 1);
  // "\u0000" is valid JSON that no text column takes: refused when its row is made, after its id was read
  const values = [
    llmEvent('a', 10, { id: 'n2', source: 'a\u0000b' }),
    llmEvent('b', 10, { id: 'n2' }),
    llmEvent('c', 10, { id: 'n3', source: 'c\u0000' }),
    llmEvent('d', 10, { id: 'n3', source: 'd\u0000' }),
  ];
  await produceValues(kafka, topic, values, 1);
  const result = await pullFromKafka({ db, kafka }, options);
  t.like(result, { recordsIn: 4, stored: 1, duplicates: 0, rejected: 3, lag: 0 });
  const { rows } = await db.query<{ seq: string }>("SELECT data->>'seq' AS seq FROM raw_events");
  t.deepEqual(
    rows.map((r) => r.seq),
    ['b'],
  );
  const letters = await db.query<{ idempotency_key: string }>(
    'SELECT idempotency_key FROM dead_letters ORDER BY kafka_offset',
  );
  t.deepEqual(
    letters.rows.map((r) => r.idempotency_key),
    [`${topic}:0:0`, `${topic}:0:2`, `${topic}:0:3`],
  );
});

test('push first, pull second: the connector record and the pulled record are one event', async (t) => {
  const { kafka, db, topic, options } = await setup(t, 1);
  await produceValues(kafka, topic, [llmEvent('p0'), llmEvent('p1')], 1);
  const pushed = await ingestPayload(
    { db },
    { body: llmEvent('p1'), headers: { 'x-topic': topic, 'x-kafka-partition': '0', 'x-kafka-offset': '1' } },
  );
  t.like(pushed, { stored: 1 });
  const pulled = await pullFromKafka({ db, kafka }, options);
  t.like(pulled, { recordsIn: 2, stored: 1, duplicates: 1 });
  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), 2);
});

test('maxRecords bounds one invocation and the next one continues where it stopped', async (t) => {
  const { kafka, db, topic, groupId, options } = await setup(t);
  await produceValues(
    kafka,
    topic,
    Array.from({ length: 30 }, (_, i) => llmEvent(`b${i}`)),
  );
  const first = await pullFromKafka({ db, kafka }, { ...options, maxRecords: 11 });
  t.like(first, { recordsIn: 11, stored: 11, stoppedBy: 'budget', lag: 19 });
  const offsets = await storedOffsets(db, groupId);
  t.is((offsets[0] ?? 0) + (offsets[1] ?? 0), 11);
  const second = await pullFromKafka({ db, kafka }, options);
  t.like(second, { recordsIn: 19, stored: 19, duplicates: 0, lag: 0 });
  t.is(await countOf(db, 'SELECT count(DISTINCT idempotency_key) AS n FROM raw_events'), 30);
});

test("the consumer resumes from the PostgreSQL offset when Kafka's committed offset is behind", async (t) => {
  const { kafka, db, topic, groupId, options } = await setup(t);
  await produceValues(
    kafka,
    topic,
    Array.from({ length: 20 }, (_, i) => llmEvent(`r${i}`)),
  );
  t.like(await pullFromKafka({ db, kafka }, options), { recordsIn: 20, stored: 20 });

  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const committed = async () =>
    (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions
      .map((p) => Number(p.offset))
      .sort();
  t.deepEqual(await committed(), [10, 10], 'Kafka got the commit too, for lag tools');
  await admin.setOffsets({
    groupId,
    topic,
    partitions: [
      { partition: 0, offset: '0' },
      { partition: 1, offset: '0' },
    ],
  });
  t.deepEqual(await committed(), [0, 0]);

  await produceValues(kafka, topic, [llmEvent('r20'), llmEvent('r21'), llmEvent('r22'), llmEvent('r23')]);
  const resumed = await pullFromKafka({ db, kafka }, options);
  t.like(resumed, { recordsIn: 4, stored: 4, duplicates: 0, lag: 0 });
  t.deepEqual(await committed(), [12, 12]);
  t.deepEqual(await storedOffsets(db, groupId), { 0: 12, 1: 12 });
});

test('an empty topic stops on idle with nothing stored', async (t) => {
  const { kafka, db, options } = await setup(t, 1);
  const result = await pullFromKafka({ db, kafka }, { ...options, idleMs: 500 });
  t.like(result, { recordsIn: 0, stored: 0, lag: 0, stoppedBy: 'idle' });
});

test('a database without stored offsets reads from the beginning even when Kafka has a commit', async (t) => {
  const { kafka, db, topic, options } = await setup(t);
  await produceValues(
    kafka,
    topic,
    Array.from({ length: 10 }, (_, i) => llmEvent(`n${i}`)),
  );
  t.like(await pullFromKafka({ db, kafka }, options), { recordsIn: 10, stored: 10 });
  const other = await freshPgDatabase();
  t.teardown(other.drop);
  const result = await pullFromKafka({ db: other.db, kafka }, options);
  t.like(result, { recordsIn: 10, stored: 10, lag: 0 });
});

test('two consumers of one group at once (a rebalance mid-run) store every record once', async (t) => {
  const { kafka, db, topic, groupId, options } = await setup(t, 4);
  const n = 400;
  const values = Array.from({ length: n }, (_, i) => llmEvent(`g${i}`));
  for (let start = 0; start < n; start += 20)
    await produceValues(kafka, topic, values.slice(start, start + 20), 4);
  const run = () => pullFromKafka({ db, kafka }, { ...options, maxBytesPerPartition: 1024, idleMs: 3000 });
  const [a, b] = await Promise.all([run(), new Promise((r) => setTimeout(r, 300)).then(run)]);
  t.is(a.stored + b.stored, n);
  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), n);
  t.is(await countOf(db, "SELECT count(DISTINCT data->>'seq') AS n FROM raw_events"), n);
  t.deepEqual(await storedOffsets(db, groupId), { 0: n / 4, 1: n / 4, 2: n / 4, 3: n / 4 });
});

test('a member taking over partitions in a rebalance starts at the offsets stored then: nothing is read twice', async (t) => {
  t.timeout(180_000);
  const { kafka, db, topic, groupId, options } = await setup(t, 4);
  // Phase 1 is drained by A alone; B joins; phase 2 is shared until B has stored its budget and leaves, and A
  // takes B's partitions over where B stopped (not where A last knew them: phase 1's end).
  const [phase1, phase2, bBudget] = [2000, 8000, 1500];
  const values = Array.from({ length: phase1 + phase2 }, (_, i) => llmEvent(`r${i}`, 9 + (i % 3)));
  const produce = async (from: number, to: number) => {
    for (let start = from; start < to; start += 400)
      await produceValues(kafka, topic, values.slice(start, Math.min(to, start + 400)), 4);
  };
  await produce(0, phase1);
  const pull = (budget: number) =>
    pullFromKafka(
      { db, kafka },
      {
        ...options,
        maxBytesPerPartition: 16 * 1024,
        maxRecords: budget,
        idleMs: 10_000,
        maxDurationMs: 120_000,
      },
    );
  // A stops by its budget once it has stored everything B did not: no idle wait, and re-reading eats it.
  const a = pull(phase1 + phase2 - bBudget);
  while ((await countOf(db, 'SELECT count(*) AS n FROM raw_events')) < phase1)
    await new Promise((resolve) => setTimeout(resolve, 50));
  const b = pull(bBudget);
  // Phase 2 only once the group has settled with both members.
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const [group] = (await admin.describeGroups([groupId])).groups;
      if (group?.state === 'Stable' && group.members.length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
  await produce(phase1, phase1 + phase2);
  const [ra, rb] = await Promise.all([a, b]);
  t.log(`A: ${JSON.stringify(ra)}\nB: ${JSON.stringify(rb)}`);
  t.like(rb, { stored: bBudget, duplicates: 0, stoppedBy: 'budget' });
  t.like(ra, { stored: phase1 + phase2 - bBudget, duplicates: 0, stoppedBy: 'budget' });
  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), phase1 + phase2);
  t.is(await countOf(db, "SELECT count(DISTINCT data->>'seq') AS n FROM raw_events"), phase1 + phase2);
  const quarter = (phase1 + phase2) / 4;
  t.deepEqual(await storedOffsets(db, groupId), { 0: quarter, 1: quarter, 2: quarter, 3: quarter });
});

serviceTest('kafka')('pull works on the embedded PGlite too (one connection, insert path)', async (t) => {
  const suffix = uniqueSuffix();
  const topic = `hxp.test.ingest-embedded.${suffix}`;
  const groupId = `hxp-test-ingest-embedded-${suffix}`;
  const kafka = testKafka();
  await createTopics(t, kafka, [topic], 2, [groupId]);
  await produceValues(kafka, topic, [...Array.from({ length: 30 }, (_, i) => llmEvent(`m${i}`)), 'bad']);
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  const options: PullOptions = { groupId, topics: [topic], idleMs: 1500, maxWaitTimeMs: 200, now: () => NOW };
  t.like(await pullFromKafka({ db, kafka }, options), { recordsIn: 31, stored: 30, rejected: 1, lag: 0 });
  t.like(await pullFromKafka({ db, kafka }, options), { recordsIn: 0, stored: 0 });
  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), 30);
});
