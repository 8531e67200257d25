#!/usr/bin/env node
// Readiness probe for the local Kafka broker: a real produce/consume round trip.
// Creates topic `hxp.ready` (if missing), produces a unique message and consumes it back through
// a fresh consumer group, all within a deadline. Exit 0 when the message came back, 1 otherwise.
//
//   node scripts/wait-kafka.mjs [--brokers 127.0.0.1:9092] [--timeout 60]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';

const { Kafka, logLevel, Partitioners } = kafkajs;

const { values } = parseArgs({
  options: {
    brokers: { type: 'string', default: process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092' },
    timeout: { type: 'string', default: '60' },
    topic: { type: 'string', default: 'hxp.ready' },
  },
});

const brokers = values.brokers.split(',').map((b) => b.trim());
const topic = values.topic;
const deadline = Date.now() + Number(values.timeout) * 1000;
const log = (msg) => console.log(`[wait-kafka] ${new Date().toISOString()} ${msg}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withDeadline(promise, what) {
  const left = deadline - Date.now();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: deadline reached`)), Math.max(left, 0));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function attempt(n) {
  const kafka = new Kafka({
    clientId: 'hxp-wait-kafka',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const groupId = `hxp-ready-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10000,
    rebalanceTimeout: 10000,
  });
  const token = `ready-${randomUUID()}`;
  try {
    await admin.connect();
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    log(`attempt ${n}: topic ${topic} ${created ? 'created' : 'exists'}`);

    let resolveSeen;
    const seen = new Promise((resolve) => (resolveSeen = resolve));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value?.toString() === token) resolveSeen(message.offset);
      },
    });

    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'ready', value: token }] });
    log(`attempt ${n}: produced ${token}`);

    const offset = await withDeadline(seen, 'consuming the ready message');
    log(`attempt ${n}: consumed it back at offset ${offset} through group ${groupId}`);
    return true;
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

let n = 0;
for (;;) {
  n += 1;
  try {
    await withDeadline(attempt(n), 'round trip');
    process.exit(0);
  } catch (err) {
    log(`attempt ${n} failed: ${err?.message ?? err}`);
    if (Date.now() >= deadline) {
      log(`Kafka at ${brokers.join(',')} did not complete a produce/consume round trip in time`);
      process.exit(1);
    }
    await sleep(1000);
  }
}
