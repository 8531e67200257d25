// The status function's /metrics reads the raw topics' lag per partition from real Kafka against the offsets
// stored in PostgreSQL; a Kafka that does not answer drops the lag series and says so, the rest still answers.
import test from 'ava';
import { createKafka } from '../../shared/kafka/index.ts';
import { handleStatusRequest, databaseProbe, type StatusDeps } from '../../shared/status/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { freePort } from '../../runtime/free-port.ts';
import { createTopics, produceValues, testKafka, uniqueSuffix } from '../fixtures/ingest-kafka.ts';
import { freshEmbeddedDatabase, freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';

const schedules = { hourly: '0 * * * *', daily: '0 0 * * *', weekly: '0 0 * * 0', monthly: '0 0 1 * *' };

function deps(db: Database, kafkaLag: StatusDeps['kafkaLag']): StatusDeps {
  return {
    db,
    probes: { database: databaseProbe(db) },
    aggregation: { schedules, timeZone: 'UTC' },
    kafkaLag,
  };
}

async function metricsText(d: StatusDeps): Promise<string> {
  return String((await handleStatusRequest({ method: 'GET', path: '/metrics', query: {} }, d)).body);
}

serviceTest('postgres', 'kafka')(
  'lag per partition = high watermark minus the offset stored in PostgreSQL',
  async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const kafka = testKafka();
    const topic = `hxp.test.lag.${uniqueSuffix()}`;
    await createTopics(t, kafka, [topic], 2);
    await produceValues(
      kafka,
      topic,
      Array.from({ length: 10 }, (_, i) => `{"n":${i}}`),
      2,
    );
    const group = `hxp-test-lag-${uniqueSuffix()}`;
    const d = deps(db, { kafka, groupId: group, topics: [topic] });
    const before = await metricsText(d);
    t.regex(before, new RegExp(`hxp_kafka_consumer_lag_messages\\{topic="${topic}",partition="0"\\} 5`));
    t.regex(before, new RegExp(`hxp_kafka_consumer_lag_messages\\{topic="${topic}",partition="1"\\} 5`));
    t.regex(before, /^hxp_kafka_lag_scrape_success 1$/m);
    await db.query(
      `INSERT INTO kafka_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, 0, 3), ($1, $2, 1, 5)`,
      [group, topic],
    );
    const after = await metricsText(d);
    t.regex(after, new RegExp(`hxp_kafka_consumer_lag_messages\\{topic="${topic}",partition="0"\\} 2`));
    t.regex(after, new RegExp(`hxp_kafka_consumer_lag_messages\\{topic="${topic}",partition="1"\\} 0`));
  },
);

test('a Kafka that does not answer: no lag series, hxp_kafka_lag_scrape_success 0, the rest still there', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  const port = await freePort();
  const kafka = createKafka({
    brokers: [`127.0.0.1:${port}`],
    clientId: 'hxp-test-lag-down',
    logLevel: 'nothing',
  });
  const text = await metricsText(deps(db, { kafka, groupId: 'g', topics: ['t'], timeoutMs: 1_000 }));
  t.regex(text, /^hxp_kafka_lag_scrape_success 0$/m);
  t.notRegex(text, /hxp_kafka_consumer_lag_messages\{/);
  t.regex(text, /^data_aggregation_hourly_status -1$/m);
});
