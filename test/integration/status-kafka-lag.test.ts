// The status function's /metrics reads the raw topics' lag per partition from real Kafka against the offsets
// of the path that stores them: stored in PostgreSQL (pull), or committed in Kafka by the connector's group
// (push); a Kafka that does not answer drops the lag series and says so, the rest still answers.
import test from 'ava';
import { loadConfig } from '../../shared/config/index.ts';
import { createKafka } from '../../shared/kafka/index.ts';
import {
  handleStatusRequest,
  databaseProbe,
  kafkaLagSourceFrom,
  type StatusDeps,
} from '../../shared/status/index.ts';
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

// Regression: under push nothing writes kafka_offsets, and the lag fell back to the low watermark, so every
// record the topic retains counted as behind and KafkaConsumerLagHigh fired for ever.
serviceTest('postgres', 'kafka')(
  "KAFKA_CONSUMPTION=push: lag = high watermark minus the connector group's offsets committed in Kafka",
  async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const kafka = testKafka();
    const topic = `hxp.test.lag.${uniqueSuffix()}`;
    const connectorGroup = `hxp-test-connector-${uniqueSuffix()}`;
    const pullGroup = `hxp-test-pull-${uniqueSuffix()}`;
    await createTopics(t, kafka, [topic], 2, [connectorGroup]);
    await produceValues(
      kafka,
      topic,
      Array.from({ length: 10 }, (_, i) => `{"n":${i}}`),
      2,
    );
    const config = loadConfig({
      env: {
        KAFKA_CONSUMPTION: 'push',
        KAFKA_CONNECTOR_GROUP: connectorGroup,
        KAFKA_CONSUMER_GROUP: pullGroup,
        KAFKA_RAW_TOPICS: topic,
      },
      secretsDir: '/nonexistent-hxp-secrets',
    });
    const d = deps(db, kafkaLagSourceFrom(config, kafka));
    const admin = kafka.admin();
    await admin.connect();
    t.teardown(() => admin.disconnect());
    // What the connector does as it delivers: commit the next offset to read, in Kafka.
    await admin.setOffsets({
      groupId: connectorGroup,
      topic,
      partitions: [
        { partition: 0, offset: '3' },
        { partition: 1, offset: '5' },
      ],
    });
    // A pull group's row from before the switch to push is not what stores the topic now.
    await db.query(
      `INSERT INTO kafka_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, 0, 0), ($1, $2, 1, 0)`,
      [pullGroup, topic],
    );
    const text = await metricsText(d);
    t.regex(text, new RegExp(`hxp_kafka_consumer_lag_messages\\{topic="${topic}",partition="0"\\} 2$`, 'm'));
    t.regex(text, new RegExp(`hxp_kafka_consumer_lag_messages\\{topic="${topic}",partition="1"\\} 0$`, 'm'));
    t.regex(text, /^hxp_kafka_lag_scrape_success 1$/m);
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
