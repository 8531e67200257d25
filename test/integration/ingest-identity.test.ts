// An event's id is its identity on every path (real PostgreSQL and Kafka): a non-idempotent producer's
// retry, the same event by Kafka and by HTTP, and a crash between two arrivals all store it once; the same id
// with other content keeps the first and records a conflicting duplicate with both events. Counted in the
// answer, the runs ledger and the metrics.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { Registry } from 'prom-client';
import type { Database } from '../../shared/db/index.ts';
import { ingestPayload, pullFromKafka, type PullOptions } from '../../shared/ingest/index.ts';
import { runAggregation } from '../../shared/jobs/index.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { requireService, serviceTest } from '../helpers/services.ts';
import { countOf } from '../fixtures/ingest-events.ts';
import { createTopics, readTopic, testKafka, uniqueSuffix } from '../fixtures/ingest-kafka.ts';
import { deps as jobDeps } from './aggregate-fixtures.ts';

const test = serviceTest('postgres', 'kafka');
const NOW = Date.parse('2026-11-28T12:00:00Z');
const WORKER = fileURLToPath(new URL('../fixtures/ingest-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const request = (id: string, costUsd = 1, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    event_type: 'llm_request',
    timestamp: '2026-11-28T10:15:00Z',
    source: 'api-1',
    id,
    data: { model: 'llama-3-70b', latency_ms: 800, cost_usd: costUsd },
    ...extra,
  });

async function setup(t: ExecutionContext, partitions = 2) {
  const suffix = uniqueSuffix();
  const topic = `hxp.test.identity.${suffix}`;
  const dlqTopic = `hxp.test.identity-dlq.${suffix}`;
  const groupId = `hxp-test-identity-${suffix}`;
  const kafka = testKafka();
  await createTopics(t, kafka, [topic, dlqTopic], partitions, [groupId]);
  const fresh = await freshPgDatabase();
  t.teardown(fresh.drop);
  const metrics = new Registry();
  const options: PullOptions = {
    groupId,
    topics: [topic],
    dlqTopic,
    maxDurationMs: 30_000,
    idleMs: 1500,
    maxWaitTimeMs: 200,
    sessionTimeoutMs: 10_000,
    now: () => NOW,
  };
  const push = (body: string, headers: Record<string, string> = {}) =>
    ingestPayload({ db: fresh.db, now: () => NOW, metrics }, { body, headers });
  return { kafka, db: fresh.db, url: fresh.url as string, topic, dlqTopic, groupId, options, metrics, push };
}

/** What a producer without idempotence does when it retries: the same bytes as a second record. */
async function produceTwice(
  kafka: ReturnType<typeof testKafka>,
  topic: string,
  values: string[],
  partition = 0,
) {
  const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < 2; i++) {
      await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value, partition })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** One counter of `registry` for one way in, as {label value: count}. */
async function counted(
  registry: Registry,
  via: string,
  name = 'hxp_ingest_events_total',
  label = 'outcome',
): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  return Object.fromEntries(
    values.filter((v) => v.labels.via === via).map((v) => [String(v.labels[label]), v.value]),
  );
}

async function hourlyCost(db: Database): Promise<{ count: number; sum: number }[]> {
  const { rows } = await db.query<{ count: number; sum: number }>(
    `SELECT count, sum FROM hourly_aggregations
     WHERE event_type = 'llm_request' AND metric = 'cost_usd' AND dimension = 'all'
       AND "timestamp" = '2026-11-28T10:00:00Z'`,
  );
  return rows.map((r) => ({ count: Number(r.count), sum: Number(r.sum) }));
}

test("a non-idempotent producer's retried records are stored once: the hour's cost reads 1, not 2", async (t) => {
  const { kafka, db, topic, options, metrics } = await setup(t);
  await produceTwice(kafka, topic, [request('req-1'), request('req-2', 2)]);

  // As aggregate-hourly does it: the pull before the hour's aggregation, recorded in the runs ledger.
  const summary = await runAggregation(jobDeps(db), {
    level: 'hour',
    trigger: 'cron',
    now: new Date('2026-11-28T12:00:00Z'),
    beforeAggregate: async () => {
      const pulled = await pullFromKafka({ db, kafka, metrics }, options);
      t.like(pulled, { recordsIn: 4, stored: 2, duplicates: 2, conflictingDuplicates: 0, rejected: 0 });
      const { stored: rowsIn, lag, duplicates, conflictingDuplicates, rejected } = pulled;
      return { rowsIn, lag, duplicates, conflictingDuplicates, rejected };
    },
  });
  t.is(summary.status, 'succeeded');
  t.deepEqual(await hourlyCost(db), [{ count: 2, sum: 3 }]);
  t.deepEqual(
    (await db.query('SELECT idempotency_key FROM raw_events ORDER BY 1')).rows.map((r) => r.idempotency_key),
    ['id:req-1', 'id:req-2'],
  );
  const { rows } = await db.query<{ ingest: Record<string, number> }>(
    `SELECT details->'ingest' AS ingest FROM runs WHERE id = $1`,
    [summary.runId],
  );
  t.like(rows[0]?.ingest, { rowsIn: 2, duplicates: 2, conflictingDuplicates: 0, rejected: 0 });
  t.deepEqual(await counted(metrics, 'pull'), { stored: 2, duplicate: 2 });
  t.is(
    await countOf(db, "SELECT count(*) AS n FROM event_keys WHERE idempotency_key LIKE 'id:%'"),
    2,
    'an event with an id is claimed by it',
  );
});

test('the same id by Kafka and by HTTP is one event, whichever comes first', async (t) => {
  const { kafka, db, topic, options, metrics, push } = await setup(t);
  // HTTP first, then the same events pulled from Kafka.
  t.like(await push(request('a') + '\n' + request('b')), { stored: 2, duplicates: 0 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [request('a'), request('b'), request('c')].map((value) => ({ value, partition: 1 })),
  });
  await producer.disconnect();
  t.like(await pullFromKafka({ db, kafka, metrics }, options), { recordsIn: 3, stored: 1, duplicates: 2 });
  // Kafka first, then HTTP, then the connector push of a record at another offset.
  t.like(await push(JSON.stringify([JSON.parse(request('c')), JSON.parse(request('d'))])), {
    stored: 1,
    duplicates: 1,
    conflictingDuplicates: 0,
    conflicts: [],
  });
  t.like(await push(request('d'), { 'X-Topic': topic, 'X-Kafka-Partition': '0', 'X-Kafka-Offset': '99' }), {
    stored: 0,
    duplicates: 1,
  });
  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), 4);
  t.is(await countOf(db, 'SELECT count(DISTINCT idempotency_key) AS n FROM raw_events'), 4);
  t.is(await countOf(db, 'SELECT count(*) AS n FROM dead_letters'), 0, 'a true duplicate is no conflict');
  t.deepEqual(await counted(metrics, 'http'), { stored: 3, duplicate: 1 });
  t.deepEqual(await counted(metrics, 'connector'), { duplicate: 1 });
  t.deepEqual(await counted(metrics, 'pull'), { stored: 1, duplicate: 2 });
});

test('the same id with another payload keeps the first and records a conflicting duplicate with both', async (t) => {
  const { kafka, db, topic, dlqTopic, options, metrics, push } = await setup(t);
  t.like(await push(request('order-9', 1)), { stored: 1 });
  // Pulled: the same id with another cost (a conflict), then an exact copy of it (still a conflict, one
  // letter: a redelivered conflicting record lands once), and the first again (a plain duplicate).
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [request('order-9', 5), request('order-9', 5), request('order-9', 1)].map((value) => ({
      value,
      partition: 0,
    })),
  });
  await producer.disconnect();
  const pulled = await pullFromKafka({ db, kafka, metrics }, options);
  t.like(pulled, { recordsIn: 3, stored: 0, duplicates: 3, conflictingDuplicates: 2, rejected: 0 });
  // By HTTP: a conflict in the answer, named by its id.
  const answer = await push(request('order-9', 7, { source: 'api-2' }));
  t.like(answer, { stored: 0, duplicates: 1, conflictingDuplicates: 1, rejected: 0 });
  t.is(answer.conflicts.length, 1);
  t.like(answer.conflicts[0], { id: 'order-9', code: 'EVENT_CONFLICTING_DUPLICATE' });
  t.regex(answer.conflicts[0]?.reason ?? '', /differs in source, data\.cost_usd/);

  const { rows: kept } = await db.query<{ data: { cost_usd: number }; source: string }>(
    'SELECT data, source FROM raw_events',
  );
  t.deepEqual(kept, [{ data: { model: 'llama-3-70b', latency_ms: 800, cost_usd: 1 }, source: 'api-1' }]);
  const { rows: letters } = await db.query<{
    origin: string;
    reason_code: string;
    reason: string;
    payload: Buffer;
    topic: string | null;
    kafka_offset: string | null;
  }>(`SELECT origin, reason_code, reason, payload, topic, kafka_offset::text FROM dead_letters ORDER BY id`);
  t.deepEqual(
    letters.map((l) => [l.origin, l.reason_code, l.topic, l.kafka_offset]),
    [
      ['kafka', 'EVENT_CONFLICTING_DUPLICATE', topic, '0'],
      ['http', 'EVENT_CONFLICTING_DUPLICATE', null, null],
    ],
  );
  const both = JSON.parse(letters[0]!.payload.toString()) as {
    kept: { id: string; data: { cost_usd: number }; timestamp: string };
    conflicting: { id: string; data: { cost_usd: number }; timestamp: string };
  };
  t.like(both.kept, { id: 'order-9', data: { cost_usd: 1 } });
  t.like(both.conflicting, { id: 'order-9', data: { cost_usd: 5 } });
  t.is(Date.parse(both.kept.timestamp), Date.parse('2026-11-28T10:15:00Z'));
  t.is(Date.parse(both.conflicting.timestamp), Date.parse('2026-11-28T10:15:00Z'));
  t.regex(
    letters[0]!.reason,
    /event id "order-9" was stored before with other content \(differs in data\.cost_usd\)/,
  );
  // The DLQ topic carries the pulled conflict.
  const dlq = (await readTopic(kafka, dlqTopic, 1)).map((v) => JSON.parse(v) as { reasonCode: string });
  t.deepEqual(
    dlq.map((m) => m.reasonCode),
    ['EVENT_CONFLICTING_DUPLICATE'],
  );
  t.deepEqual(await counted(metrics, 'pull'), { duplicate: 1, conflicting_duplicate: 2 });
  t.deepEqual(await counted(metrics, 'http'), { stored: 1, conflicting_duplicate: 1 });
  t.deepEqual(
    await counted(metrics, 'pull', 'hxp_ingest_rejected_total', 'reason'),
    {},
    'a conflict is no rejection',
  );
});

test('a timestamp is compared only when the later arrival carries its own', async (t) => {
  const { db, push } = await setup(t);
  const noTimestamp = (id: string) => {
    const { timestamp: _drop, ...event } = JSON.parse(request(id)) as Record<string, unknown>;
    return JSON.stringify(event);
  };
  // Received at different times (the fallback timestamp differs): still the same event.
  t.like(await push(noTimestamp('t-1')), { stored: 1 });
  t.like(await ingestPayload({ db, now: () => NOW + 60_000 }, { body: noTimestamp('t-1'), headers: {} }), {
    stored: 0,
    duplicates: 1,
    conflictingDuplicates: 0,
  });
  // Its own timestamp, another instant: a conflict; the same instant in another zone: the same event.
  t.like(await push(request('t-2')), { stored: 1 });
  t.like(await push(request('t-2', 1, { timestamp: '2026-11-28T11:15:00+01:00' })), {
    duplicates: 1,
    conflictingDuplicates: 0,
  });
  const moved = await push(request('t-2', 1, { timestamp: '2026-11-28T10:16:00Z' }));
  t.like(moved, { duplicates: 1, conflictingDuplicates: 1 });
  t.regex(moved.conflicts[0]?.reason ?? '', /differs in timestamp\)/);
});

function runWorker(
  env: Record<string, string>,
): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

test('kill -9 between the two arrivals still stores each event once', async (t) => {
  t.timeout(240_000);
  const { kafka, db, url, topic, groupId, push } = await setup(t, 1);
  const ids = Array.from({ length: 60 }, (_, i) => `k${i}`);
  const env = {
    INGEST_DATABASE_URL: url,
    INGEST_KAFKA_BROKERS: (requireService('kafka')?.brokers ?? []).join(','),
    INGEST_TOPIC: topic,
    INGEST_GROUP_ID: groupId,
  };
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // Small sends: small record batches, so the worker commits many transactions.
  for (let i = 0; i < ids.length; i += 5) {
    await producer.send({
      topic,
      acks: -1,
      messages: ids.slice(i, i + 5).map((id) => ({ value: request(id), partition: 0 })),
    });
  }
  await producer.disconnect();

  // 1. The worker dies right before its second COMMIT: one batch stored, the second rolled back.
  const beforeCommit = await runWorker({ ...env, INGEST_CRASH_AT: 'beforeCommit', INGEST_CRASH_BATCH: '2' });
  t.is(beforeCommit.signal, 'SIGKILL', beforeCommit.stderr);
  // 2. Meanwhile every event arrives again by HTTP: what the worker committed is a duplicate, the rest new.
  const first = await push(ids.map((id) => request(id)).join('\n'));
  t.is(first.stored + first.duplicates, ids.length);
  t.true(first.duplicates > 0, 'the first batch was committed before the kill');
  // 3. The worker dies again, right after a COMMIT, then runs to the end: everything it reads is known.
  const afterCommit = await runWorker({ ...env, INGEST_CRASH_AT: 'afterCommit', INGEST_CRASH_BATCH: '1' });
  t.is(afterCommit.signal, 'SIGKILL', afterCommit.stderr);
  const final = await runWorker(env);
  t.is(final.code, 0, final.stderr);

  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), ids.length);
  t.is(await countOf(db, 'SELECT count(DISTINCT idempotency_key) AS n FROM raw_events'), ids.length);
  t.is(
    await countOf(db, "SELECT count(*) AS n FROM event_keys WHERE idempotency_key LIKE 'id:%'"),
    ids.length,
  );
  t.is(await countOf(db, 'SELECT count(*) AS n FROM dead_letters'), 0);
  t.is(
    await countOf(db, 'SELECT next_offset AS n FROM kafka_offsets WHERE consumer_group = $1', [groupId]),
    ids.length,
    'every record read, the stored offset at the end',
  );
});
