// kafkajs against the real broker (scripts/services up): produce, consume through a consumer group
// with manual commits, restart the consumer, and check it resumes exactly at the committed offsets.
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type EachMessagePayload } from 'kafkajs';
import { requireService, serviceTest } from '../helpers/services.ts';

const test = serviceTest('kafka');

const PARTITIONS = 2;

interface Seen {
  partition: number;
  offset: bigint;
  value: string;
}

function kafkaClient(clientId: string): Kafka {
  const kafka = requireService('kafka');
  if (!kafka) throw new Error('kafka is not configured');
  return new Kafka({
    clientId,
    brokers: kafka.brokers,
    logLevel: logLevel.ERROR,
    retry: { retries: 5, initialRetryTime: 100 },
  });
}

function uniqueNames(): { topic: string; groupId: string } {
  const suffix = randomBytes(6).toString('hex');
  return { topic: `hxp.test.roundtrip.${suffix}`, groupId: `hxp-test-roundtrip-${suffix}` };
}

async function createTopic(t: ExecutionContext, admin: Admin, topic: string, groupId: string): Promise<void> {
  await admin.connect();
  t.teardown(async () => {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS }],
    waitForLeaders: true,
  });
  t.true(created, `topic ${topic} should be new`);
}

/** Produces `values`, value i to partition i % PARTITIONS, and returns where each one landed. */
async function produce(kafka: Kafka, topic: string, values: string[]): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, i) => ({ key: `k${i}`, value, partition: i % PARTITIONS })),
    });
  } finally {
    await producer.disconnect();
  }
}

function newConsumer(kafka: Kafka, groupId: string): Consumer {
  return kafka.consumer({
    groupId,
    maxWaitTimeInMs: 50,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
}

function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test.serial('a restarted consumer group resumes exactly after its committed offsets', async (t) => {
  t.timeout(90_000);
  const kafka = kafkaClient('hxp-test-roundtrip');
  const { topic, groupId } = uniqueNames();
  await createTopic(t, kafka.admin(), topic, groupId);

  const first = Array.from({ length: 20 }, (_, i) => `first-${i}-${randomBytes(4).toString('hex')}`);
  await produce(kafka, topic, first);

  // Consumer 1: processes and commits the first 7 messages it is given, then "crashes": anything
  // delivered after that is neither recorded nor committed.
  const processLimit = 7;
  const committed: Seen[] = [];
  const committedOffsets = new Map<number, bigint>();
  const consumer1 = newConsumer(kafka, groupId);
  await consumer1.connect();
  await consumer1.subscribe({ topics: [topic], fromBeginning: true });
  await consumer1.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }: EachMessagePayload) => {
      if (committed.length >= processLimit) return;
      const offset = BigInt(message.offset);
      committed.push({ partition, offset, value: message.value?.toString() ?? '' });
      await consumer1.commitOffsets([{ topic, partition, offset: (offset + 1n).toString() }]);
      committedOffsets.set(partition, offset + 1n);
    },
  });
  await waitFor(() => committed.length >= processLimit, `${processLimit} messages on consumer 1`);
  await consumer1.disconnect();

  t.is(committed.length, processLimit);
  t.deepEqual(
    committed.map((m) => m.value).sort(),
    [...new Set(committed.map((m) => m.value))].sort(),
    'no message is delivered twice to consumer 1',
  );

  // What the broker stored for the group is exactly what consumer 1 committed.
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [stored] = await admin.fetchOffsets({ groupId, topics: [topic] });
    for (const { partition, offset } of stored?.partitions ?? []) {
      const expected = committedOffsets.get(partition);
      t.is(
        offset,
        expected === undefined ? '-1' : expected.toString(),
        `committed offset of partition ${partition}`,
      );
    }
  } finally {
    await admin.disconnect();
  }

  // More messages arrive while the group has no member.
  const second = Array.from({ length: 9 }, (_, i) => `second-${i}-${randomBytes(4).toString('hex')}`);
  await produce(kafka, topic, second);

  // Consumer 2, same group: must get exactly the uncommitted remainder — no repeats, no gaps.
  const committedValues = new Set(committed.map((m) => m.value));
  const expected = [...first, ...second].filter((v) => !committedValues.has(v));
  const received: Seen[] = [];
  const consumer2 = newConsumer(kafka, groupId);
  await consumer2.connect();
  t.teardown(() => consumer2.disconnect());
  await consumer2.subscribe({ topics: [topic], fromBeginning: true });
  await consumer2.run({
    eachMessage: async ({ partition, message }: EachMessagePayload) => {
      received.push({ partition, offset: BigInt(message.offset), value: message.value?.toString() ?? '' });
    },
  });
  await waitFor(() => received.length >= expected.length, `${expected.length} messages on consumer 2`);
  await sleep(1_000); // anything extra (a redelivered committed message) would show up here
  await consumer2.disconnect();

  t.is(received.length, expected.length, 'consumer 2 got exactly the uncommitted remainder');
  t.deepEqual(received.map((m) => m.value).sort(), [...expected].sort());
  for (const value of committedValues) {
    t.false(
      received.some((m) => m.value === value),
      `committed message ${value} is not redelivered`,
    );
  }
  // Per partition: starts right at the committed offset and has no gaps.
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const offsets = received.filter((m) => m.partition === partition).map((m) => m.offset);
    const start = committedOffsets.get(partition) ?? 0n;
    const contiguous = offsets.map((_, i) => start + BigInt(i));
    t.deepEqual(offsets, contiguous, `partition ${partition} resumes at offset ${start} without gaps`);
  }
});

test.serial('messages keep their key, value and headers through the broker', async (t) => {
  t.timeout(60_000);
  const kafka = kafkaClient('hxp-test-roundtrip-headers');
  const { topic, groupId } = uniqueNames();
  await createTopic(t, kafka.admin(), topic, groupId);

  const body = JSON.stringify({
    event_type: 'llm_request',
    data: { latency_ms: 812, nonce: randomBytes(8).toString('hex') },
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const [meta] = await producer.send({
    topic,
    acks: -1,
    messages: [{ key: 'api-1', value: body, headers: { 'x-source': 'api-1' }, partition: 1 }],
  });
  await producer.disconnect();
  t.is(meta?.partition, 1);

  const consumer = newConsumer(kafka, groupId);
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got: { key: string; value: string; header: string; partition: number; offset: string }[] = [];
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      got.push({
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
        header: message.headers?.['x-source']?.toString() ?? '',
        partition,
        offset: message.offset,
      });
    },
  });
  await waitFor(() => got.length >= 1, 'the message');
  t.deepEqual(got, [
    { key: 'api-1', value: body, header: 'api-1', partition: 1, offset: meta?.baseOffset ?? '' },
  ]);
});
