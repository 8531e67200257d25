// The bundled functions against the real services, each its own process as in production: events pushed
// to `ingest` (or pulled from Kafka by `aggregate-hourly`) come out of the aggregation views after the
// cron ticks, in a database of the test's own.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freshPgDatabase } from '../helpers/db.ts';
import { requireService, serviceTest } from '../helpers/services.ts';
import { bundleInto, functionEnv, isListening, run, tempDir } from './template-helpers.ts';

const HOUR = 3_600_000;

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Starts a bundled function and returns its base URL. */
async function start(t: Teardown, dir: string, env: Record<string, string>): Promise<string> {
  const fn = run(t, process.execPath, [join(dir, 'index.js')], functionEnv({ PORT: '0', ...env }), dir);
  const listening = await fn.waitFor(isListening, 60_000);
  return `http://127.0.0.1:${String(listening.port)}`;
}

const tick = (url: string): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'X-Connector': 'cron-connector', 'X-Topic': 'cron-function' } });

function events(hourStart: number, latencies: number[]): string {
  return latencies
    .map((latency_ms, i) =>
      JSON.stringify({
        event_type: 'llm_request',
        timestamp: new Date(hourStart + (i + 1) * 60_000).toISOString(),
        source: 'api-1',
        data: { model: 'llama-3-70b', latency_ms, error: false },
      }),
    )
    .join('\n');
}

serviceTest('postgres')(
  'ingest → aggregate-hourly → aggregate-daily as separate processes on PostgreSQL',
  async (t) => {
    const { url: databaseUrl, db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const dir = await tempDir(t, 'fn-pg');
    const env = { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: '2' };
    const [ingest, hourly, daily] = await Promise.all([
      bundleInto(dir, 'ingest').then((d) => start(t, d, env)),
      bundleInto(dir, 'aggregate-hourly').then((d) => start(t, d, env)),
      bundleInto(dir, 'aggregate-daily').then((d) => start(t, d, { ...env, AGGREGATION_LEVEL: 'day' })),
    ]);
    // Yesterday 10:00 UTC: a closed hour inside a closed day.
    const day = new Date();
    day.setUTCHours(0, 0, 0, 0);
    const hourStart = day.getTime() - 24 * HOUR + 10 * HOUR;

    const pushed = await fetch(ingest, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'X-Call-Id': 'push-1' },
      body: events(hourStart, [100, 200, 300]),
    });
    t.is(pushed.status, 200);
    t.like(await pushed.json(), { stored: 3, duplicates: 0, rejected: 0 });

    const h = await tick(hourly);
    t.is(h.status, 200);
    const hourSummary = (await h.json()) as { status: string; level: string; windowsDone: number };
    t.like(hourSummary, { status: 'succeeded', level: 'hour' });
    t.true(hourSummary.windowsDone >= 1);
    const hourRows = await db.query<{ count: string; avg: number }>(
      `SELECT count, avg FROM hourly_aggregations
      WHERE "timestamp" = $1 AND event_type = 'llm_request' AND metric = 'latency_ms' AND dimension = 'all'`,
      [new Date(hourStart)],
    );
    t.is(Number(hourRows.rows[0]?.count), 3);
    t.is(Number(hourRows.rows[0]?.avg), 200);

    const d = await tick(daily);
    t.is(d.status, 200);
    t.like(await d.json(), { status: 'succeeded', level: 'day' });
    const dayRows = await db.query<{ count: string; max: number }>(
      `SELECT count, max FROM daily_aggregations
      WHERE "timestamp" = $1 AND event_type = 'llm_request' AND metric = 'latency_ms' AND dimension = 'all'`,
      [new Date(day.getTime() - 24 * HOUR)],
    );
    t.is(Number(dayRows.rows[0]?.count), 3);
    t.is(Number(dayRows.rows[0]?.max), 300);

    const runs = await db.query<{ trigger: string }>(`SELECT DISTINCT trigger FROM runs`);
    t.deepEqual(
      runs.rows.map((r) => r.trigger),
      ['cron'],
      'the cron-connector headers were recorded as trigger cron',
    );
  },
);

serviceTest('postgres', 'kafka')(
  'aggregate-hourly pulls the raw topic from Kafka before aggregating',
  async (t) => {
    const kafkaService = requireService('kafka')!;
    const { url: databaseUrl, db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const suffix = randomBytes(5).toString('hex');
    const topic = `hxp.test.fn.raw.${suffix}`;
    const groupId = `hxp-test-fn-${suffix}`;
    const eventsTopic = `hxp.test.fn.events.${suffix}`;
    const kafka = new Kafka({
      clientId: `hxp-test-${suffix}`,
      brokers: kafkaService.brokers,
      logLevel: logLevel.ERROR,
    });
    const admin = kafka.admin();
    await admin.connect();
    t.teardown(async () => {
      await admin.deleteGroups([groupId, `${groupId}-events`]).catch(() => undefined);
      await admin.deleteTopics({ topics: [topic, eventsTopic] }).catch(() => undefined);
      await admin.disconnect();
    });
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const hourStart = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: events(hourStart, [10, 20, 30, 40])
        .split('\n')
        .map((value) => ({ value })),
    });
    await producer.disconnect();

    const dir = await tempDir(t, 'fn-kafka');
    const hourly = await start(t, await bundleInto(dir, 'aggregate-hourly'), {
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '2',
      KAFKA_BOOTSTRAP_SERVERS: kafkaService.brokers.join(','),
      KAFKA_RAW_TOPICS: topic,
      KAFKA_CONSUMER_GROUP: groupId,
      KAFKA_DLQ_TOPIC: `hxp.test.fn.dlq.${suffix}`,
      KAFKA_EVENTS_TOPIC: eventsTopic,
    });
    const res = await tick(hourly);
    t.is(res.status, 200);
    const summary = (await res.json()) as { status: string; ingest?: { rowsIn: number } };
    t.is(summary.status, 'succeeded');
    t.is(summary.ingest?.rowsIn, 4);
    const rows = await db.query<{ count: string; sum: number }>(
      `SELECT count, sum FROM hourly_aggregations
      WHERE "timestamp" = $1 AND event_type = 'llm_request' AND metric = 'latency_ms' AND dimension = 'all'`,
      [new Date(hourStart)],
    );
    t.is(Number(rows.rows[0]?.count), 4);
    t.is(Number(rows.rows[0]?.sum), 100);
    const again = (await (await tick(hourly)).json()) as { ingest?: { rowsIn: number } };
    t.is(again.ingest?.rowsIn, 0, 'a second tick pulls nothing new');

    // The completion went to the configured events topic (KAFKA_EVENTS_TOPIC), not the shared default.
    const consumer = kafka.consumer({ groupId: `${groupId}-events`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    t.teardown(() => consumer.disconnect());
    await consumer.subscribe({ topic: eventsTopic, fromBeginning: true });
    const completed = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${eventsTopic} within 30 s`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const value = JSON.parse(message.value?.toString() ?? '{}') as Record<string, unknown>;
          if (value.type === 'aggregation.completed') {
            clearTimeout(timer);
            resolve(value);
          }
        },
      });
    });
    t.like(completed, {
      type: 'aggregation.completed',
      level: 'hour',
      bucket: new Date(hourStart).toISOString(),
    });
  },
);
