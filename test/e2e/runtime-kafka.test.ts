// The Kafka bridge on a real broker: connector headers, retries, dead letters, commits; and end to end
// through the runtime into `ingest`, counted once in the hourly aggregates even when delivered twice; and a
// day's aggregation.completed into generate-report, which makes that day's report once.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { startKafkaBridge, type Deliver } from '../../runtime/kafka-bridge.ts';
import { createTopics } from '../fixtures/ingest-kafka.ts';
import { loadReportFixture } from '../fixtures/report-data.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { requireService, serviceTest } from '../helpers/services.ts';
import { recordingLog, startServiceRuntime, tempStack, until } from './runtime-fixtures.ts';

const suffix = (): string => randomBytes(4).toString('hex');

function kafka(): Kafka {
  return new Kafka({
    clientId: 'rt-test',
    brokers: requireService('kafka')!.brokers,
    logLevel: logLevel.NOTHING,
  });
}

async function committed(k: Kafka, groupId: string, topic: string): Promise<string | undefined> {
  const admin = k.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return entry?.partitions[0]?.offset;
  } finally {
    await admin.disconnect();
  }
}

serviceTest('kafka').serial(
  'the bridge sends connector headers, retries 5xx, dead-letters, then commits',
  async (t) => {
    const k = kafka();
    const topic = `rt.bridge.${suffix()}`;
    const dlq = `rt.dlq.${suffix()}`;
    const groupId = `rt-group-${suffix()}`;
    const dlqReader = `rt-dlq-reader-${suffix()}`;
    await createTopics(t, k, [topic, dlq], 1, [groupId, dlqReader]);
    const calls: Array<{ fn: string; headers: Record<string, string>; body: string }> = [];
    let failuresLeft = 1;
    const deliver: Deliver = async (fn, headers, body) => {
      calls.push({ fn, headers, body: body.toString('utf8') });
      if (fn === 'broken') return 503;
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        return 500;
      }
      return 200;
    };
    const log = recordingLog();
    const bridge = await startKafkaBridge({
      brokers: requireService('kafka')!.brokers,
      routes: [
        { fn: 'good', topics: [topic] },
        { fn: 'broken', topics: [topic] },
      ],
      deliver,
      log,
      groupId,
      dlqTopic: dlq,
      attempts: 3,
      backoffMs: { initial: 20, max: 50 },
      maxWaitTimeInMs: 100,
    });
    t.teardown(() => bridge.stop());
    const producer = k.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: Buffer.from([0xff, 0x00, 0xfe]), value: '{"event_type":"x"}', headers: { trace: 'abc-123' } },
      ],
    });
    await producer.disconnect();

    await until(
      () => calls.filter((c) => c.fn === 'broken').length === 3 || undefined,
      30_000,
      'three tries of broken',
    );
    const good = calls.filter((c) => c.fn === 'good');
    t.is(good.length, 2, 'one 500, then acknowledged');
    t.like(good[1]!.headers, {
      'X-Topic': topic,
      'X-Kafka-Partition': '0',
      'X-Kafka-Offset': '0',
      'X-Kafka-Key': Buffer.from([0xff, 0x00, 0xfe]).toString('base64'),
      'X-Kafka-Key-Enc': 'b64',
      'X-Kafka-trace': 'abc-123',
    });
    t.is(good[1]!.body, '{"event_type":"x"}');

    // the dead letter carries the reason
    const consumer = k.consumer({ groupId: dlqReader, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    const dead: KafkaMessage[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void dead.push(message) });
    t.teardown(() => consumer.disconnect());
    await until(() => dead[0], 30_000, 'the dead letter');
    t.is(dead[0]!.value?.toString(), '{"event_type":"x"}');
    t.regex(String(dead[0]!.headers?.['x-dlq-reason']), /broken answered HTTP 503/);
    t.is(String(dead[0]!.headers?.['x-dlq-function']), 'broken');
    t.is(String(dead[0]!.headers?.trace), 'abc-123');
    t.true(log.lines.some((l) => l.msg === 'message dead-lettered'));

    // committed only now: the next offset to read is 1
    await bridge.stop();
    t.is(await committed(k, groupId, topic), '1');
  },
);

serviceTest('kafka', 'postgres').serial(
  'KAFKA_CONSUMPTION=push: a raw Kafka message reaches ingest through the bridge and counts once, even when delivered again',
  async (t) => {
    const k = kafka();
    const topic = `rt.raw.${suffix()}`;
    const groupId = `rt-connector-${suffix()}`;
    await createTopics(t, k, [topic], 1, [groupId]);
    const { url, db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const stack = tempStack({
      ingest: { projectHandler: 'functions/ingest', annotations: { topic } },
      // With brokers configured, but the push path chosen: it must not pull the topic too.
      'aggregate-hourly': { projectHandler: 'functions/aggregate-hourly' },
    });
    t.teardown(() => stack.cleanup());
    const rt = await startServiceRuntime(t, {
      stackFile: stack.stackFile,
      databaseUrl: url,
      brokers: requireService('kafka')!.brokers,
      env: {
        KAFKA_RAW_TOPICS: topic,
        KAFKA_CONSUMPTION: 'push',
        KAFKA_CONSUMER_GROUP: `rt-pull-${suffix()}`,
      },
      kafka: { groupId, maxWaitTimeInMs: 100 },
    });
    t.deepEqual(rt.bridge?.topics, [topic]);

    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000);
    const eventType = `bridge_test_${suffix()}`;
    const event = {
      event_type: eventType,
      timestamp: new Date(hour.getTime() + 600_000).toISOString(),
      data: { latency_ms: 42 },
    };
    const producer = k.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k1', value: JSON.stringify(event) }] });
    await producer.disconnect();

    const stored = await until(
      async () => {
        const { rows } = await db.query<{ idempotency_key: string }>(
          'SELECT idempotency_key FROM raw_events WHERE event_type = $1',
          [eventType],
        );
        return rows.length > 0 ? rows : undefined;
      },
      60_000,
      'the event in raw_events',
    );
    t.deepEqual(
      stored.map((r) => r.idempotency_key),
      [`${topic}:0:0`],
      'keyed by the connector headers',
    );
    await until(
      async () => ((await committed(k, groupId, topic)) === '1' ? true : undefined),
      30_000,
      'the commit',
    );

    // Redelivery: rewind the group and bridge again (as after a crash between answer and commit).
    await rt.bridge!.stop();
    const admin = k.admin();
    await admin.connect();
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }] });
    await admin.disconnect();
    let redelivered = 0;
    const again = await startKafkaBridge({
      brokers: requireService('kafka')!.brokers,
      routes: [{ fn: 'ingest', topics: [topic] }],
      deliver: async (fn, headers, body) => {
        const res = await fetch(`${rt.gatewayUrl}/function/${fn}`, { method: 'POST', headers, body });
        const answer = (await res.json()) as { duplicates: number };
        redelivered += answer.duplicates;
        return res.status;
      },
      log: recordingLog(),
      groupId,
      maxWaitTimeInMs: 100,
    });
    t.teardown(() => again.stop());
    await until(() => (redelivered === 1 ? true : undefined), 60_000, 'the redelivery');

    const agg = await fetch(`${rt.gatewayUrl}/function/aggregate-hourly`, { method: 'POST' });
    const summary = (await agg.json()) as { status: string; ingest?: unknown };
    t.is(agg.status, 200, JSON.stringify(summary));
    t.is(summary.ingest, undefined, 'the hourly job did not pull: one consumption path');
    const { rows } = await db.query<{ count: number; sum: number }>(
      `SELECT count, sum FROM hourly_aggregations
        WHERE event_type = $1 AND metric = 'latency_ms' AND dimension = 'all' AND "timestamp" = $2`,
      [eventType, hour],
    );
    t.deepEqual(rows, [{ count: 1, sum: 42 }]);
  },
);

serviceTest('kafka', 'postgres').serial(
  'KAFKA_CONSUMPTION=pull (the default): the bridge leaves the raw topics alone, aggregate-hourly pulls them, ingest refuses a connector copy',
  async (t) => {
    const k = kafka();
    const topic = `rt.raw.${suffix()}`;
    const other = `rt.other.${suffix()}`;
    const pullGroup = `rt-pull-${suffix()}`;
    const connectorGroup = `rt-connector-${suffix()}`;
    await createTopics(t, k, [topic, other], 1, [pullGroup, connectorGroup]);
    const { url, db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const stack = tempStack({
      ingest: { projectHandler: 'functions/ingest', annotations: { topic } },
      'aggregate-hourly': { projectHandler: 'functions/aggregate-hourly' },
      // A second-wave function on another topic is still bridged.
      listener: {
        source: 'export default async () => "seen";',
        annotations: { topic: other },
      },
    });
    t.teardown(() => stack.cleanup());
    const rt = await startServiceRuntime(t, {
      stackFile: stack.stackFile,
      databaseUrl: url,
      brokers: requireService('kafka')!.brokers,
      // KAFKA_CONSUMPTION unset: the default path
      env: { KAFKA_RAW_TOPICS: topic, KAFKA_CONSUMPTION: '', KAFKA_CONSUMER_GROUP: pullGroup },
      kafka: { groupId: connectorGroup, maxWaitTimeInMs: 100 },
    });
    t.deepEqual(rt.bridge?.topics, [other], 'the raw topic is not bridged');

    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000);
    const eventType = `pull_test_${suffix()}`;
    const event = JSON.stringify({
      event_type: eventType,
      timestamp: new Date(hour.getTime() + 600_000).toISOString(),
      data: { latency_ms: 7 },
    });
    const producer = k.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: event }] });
    await producer.disconnect();

    // A connector delivering the raw topic anyway (a misconfigured deployment) is refused, visibly.
    const copy = await fetch(`${rt.gatewayUrl}/function/ingest`, {
      method: 'POST',
      headers: { 'X-Topic': topic, 'X-Kafka-Partition': '0', 'X-Kafka-Offset': '0' },
      body: event,
    });
    t.is(copy.status, 409);
    t.like(await copy.json(), { error: { code: 'KAFKA_PUSH_OFF' } });

    const agg = await fetch(`${rt.gatewayUrl}/function/aggregate-hourly`, { method: 'POST' });
    const summary = (await agg.json()) as { status: string; ingest?: { rowsIn: number } };
    t.is(agg.status, 200, JSON.stringify(summary));
    t.is(summary.ingest?.rowsIn, 1, 'pulled by the hourly job');
    const { rows } = await db.query<{ count: number; sum: number }>(
      `SELECT count, sum FROM hourly_aggregations
        WHERE event_type = $1 AND metric = 'latency_ms' AND dimension = 'all' AND "timestamp" = $2`,
      [eventType, hour],
    );
    t.deepEqual(rows, [{ count: 1, sum: 7 }]);
    t.is(await committed(k, pullGroup, topic), '1', 'the pull consumed as KAFKA_CONSUMER_GROUP');
    // An HTTP push (no connector headers) is always taken: it is not a copy of a Kafka record.
    const http = await fetch(`${rt.gatewayUrl}/function/ingest`, {
      method: 'POST',
      body: JSON.stringify({ event_type: eventType, timestamp: new Date().toISOString(), data: { x: 1 } }),
    });
    t.is(http.status, 200);
  },
);

serviceTest('kafka', 'postgres').serial(
  'aggregation.completed on the events topic makes the day’s report through the runtime, once even when delivered twice',
  async (t) => {
    t.timeout(300_000, 'fixture, two function processes and a report on a shared machine');
    const k = kafka();
    const eventsTopic = `rt.events.${suffix()}`;
    const groupId = `rt-connector-${suffix()}`;
    await createTopics(t, k, [eventsTopic], 1, [groupId, `${groupId}-reader`]);
    const { url, db, drop } = await freshPgDatabase();
    t.teardown(drop);
    // two whole days that ended well before now (inside the default catch-up window), stored and aggregated
    // hourly; their days are left to aggregate-daily, whose completion is the event under test
    const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const end = new Date(midnight - 86_400_000);
    const fixtureNow = new Date(end.getTime() + 30 * 60_000);
    await loadReportFixture(db, { end, days: 2, requestsPerHour: 6, now: fixtureNow, levels: ['hour'] });
    const lastDay = new Date(end.getTime() - 86_400_000).toISOString().slice(0, 10);

    const stack = tempStack({
      'aggregate-daily': {
        projectHandler: 'functions/aggregate-daily',
        environment: { AGGREGATION_LEVEL: 'day' },
      },
      'generate-report': {
        projectHandler: 'functions/generate-report',
        annotations: { topic: eventsTopic },
        environment: {
          BATCH_PROCESSING_REPORT_SCHEDULED_TYPES: 'daily_summary',
          BATCH_PROCESSING_REPORT_FORMATS: 'json',
        },
      },
    });
    t.teardown(() => stack.cleanup());
    const rt = await startServiceRuntime(t, {
      stackFile: stack.stackFile,
      databaseUrl: url as string,
      brokers: requireService('kafka')!.brokers,
      env: { KAFKA_EVENTS_TOPIC: eventsTopic, BATCH_PROCESSING_ARCHIVAL_PATH: join(stack.dir, 'archive') },
      kafka: { groupId, maxWaitTimeInMs: 100 },
    });
    t.deepEqual(rt.bridge?.topics, [eventsTopic]);

    const daily = await fetch(`${rt.gatewayUrl}/function/aggregate-daily`, { method: 'POST' });
    t.is(daily.status, 200, await daily.text());
    const reports = async () =>
      (
        await db.query<{ id: number; period_label: string; status: string; sha256: string }>(
          `SELECT id, period_label, status, sha256 FROM reports
            WHERE report_type = 'daily_summary' AND format = 'json' ORDER BY period_start`,
        )
      ).rows;
    const made = await until(
      async () => {
        const rows = await reports();
        return rows.length === 2 && rows.every((r) => r.status === 'stored') ? rows : undefined;
      },
      120_000,
      'the daily_summary of both days, made by the event',
    );
    t.is(made.at(-1)!.period_label, lastDay);
    const events = (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM runs WHERE job = 'generate-report' AND trigger = 'kafka'`,
      )
    ).rows[0]!.n;
    t.true(events >= 1, 'the catch-up ran on the Kafka trigger');
    const file = await fetch(
      `${rt.gatewayUrl}/function/generate-report/reports/${made.find((r) => r.period_label === lastDay)!.id}/download`,
    );
    t.is(file.status, 200);
    t.is(((await file.json()) as { period: { label: string } }).period.label, lastDay);

    // the same completion delivered again (a redelivery after a crash, a replay): handled, nothing new made
    const admin = k.admin();
    await admin.connect();
    const { high } = (await admin.fetchTopicOffsets(eventsTopic))[0]!;
    await admin.disconnect();
    await until(
      async () => ((await committed(k, groupId, eventsTopic)) === high ? true : undefined),
      60_000,
      'every completion handled and committed',
    );
    const producer = k.producer();
    await producer.connect();
    const consumer = k.consumer({ groupId: `${groupId}-reader`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: eventsTopic, fromBeginning: true });
    const completion = await new Promise<KafkaMessage>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value?.toString().includes('"aggregation.completed"')) resolve(message);
        },
      });
    });
    await consumer.disconnect();
    await producer.send({
      topic: eventsTopic,
      messages: [{ key: completion.key, value: completion.value }],
    });
    await producer.disconnect();
    await until(
      async () => (Number(await committed(k, groupId, eventsTopic)) > Number(high) ? true : undefined),
      60_000,
      'the redelivered event handled and committed',
    );
    t.deepEqual(await reports(), made, 'one report per day and format, not replaced by the duplicate');
  },
);
