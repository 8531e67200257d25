// The Kafka broker (one of the test's own, test/helpers/private-kafka.ts, so the shared broker is never touched)
// stopped and restarted while pullFromKafka reads from it: the run ends or fails cleanly, the next one resumes
// from the offsets stored in PostgreSQL, and every record is stored exactly once.
import type { ExecutionContext } from 'ava';
import { isRetriable } from '../../shared/errors/index.ts';
import { pullFromKafka } from '../../shared/ingest/index.ts';
import { createKafka } from '../../shared/kafka/index.ts';
import { countOf } from '../fixtures/ingest-events.ts';
import { createTopics, llmEvent, produceValues, uniqueSuffix } from '../fixtures/ingest-kafka.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { kafkaLib, startPrivateKafka } from '../helpers/private-kafka.ts';
import { serviceTest } from '../helpers/services.ts';

const kafkaTest = serviceTest('postgres', 'kafka');
const NOW = Date.parse('2026-11-28T12:00:00Z');

kafkaTest.serial(
  'the Kafka broker restarted during a pull: resumes from the stored offsets, nothing lost or doubled',
  async (t: ExecutionContext) => {
    t.timeout(400_000, 'a broker of its own started twice on a shared 2-core machine');
    t.truthy(kafkaLib(), 'the Kafka jars (bash scripts/services install)');
    const broker = await startPrivateKafka();
    t.teardown(() => broker.destroy());
    const fresh = await freshPgDatabase();
    t.teardown(fresh.drop);
    const db = fresh.db;
    const kafka = createKafka({
      brokers: broker.brokers,
      clientId: 'hxp-test-kafka-outage',
      logLevel: 'nothing',
    });
    const suffix = uniqueSuffix();
    const topic = `hxp.test.kafka-outage.${suffix}`;
    const groupId = `hxp-test-kafka-outage-${suffix}`;
    await createTopics(t, kafka, [topic], 2, [groupId]);
    // Half the records before the outage, half after it, so the pull must fetch from the restarted broker.
    const RECORDS = 20_000;
    const values = Array.from({ length: RECORDS }, (_, i) => llmEvent(`k${i}`, 9 + (i % 3)));
    await produceValues(kafka, topic, values.slice(0, RECORDS / 2));
    const options = {
      groupId,
      topics: [topic],
      maxDurationMs: 120_000,
      idleMs: 1500,
      maxWaitTimeMs: 200,
      sessionTimeoutMs: 10_000,
      now: () => NOW,
    };

    let seen = 0;
    let restartedAt = Number.POSITIVE_INFINITY;
    const outage = (async () => {
      for (;;) {
        seen = await countOf(db, 'SELECT count(*) AS n FROM raw_events');
        if (seen > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await broker.stop();
      await new Promise((r) => setTimeout(r, 2000));
      await broker.start();
      await produceValues(kafka, topic, values.slice(RECORDS / 2));
      restartedAt = Date.now();
    })();
    const runs: string[] = [];
    let lag = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 10 && lag > 0; attempt++) {
      try {
        const startedAt = Date.now();
        const result = await pullFromKafka({ db, kafka }, options);
        // Only a run that started after the second half was produced can say the topic is drained.
        const early = startedAt < restartedAt;
        runs.push(
          `stored ${result.stored}, duplicates ${result.duplicates}, lag ${result.lag}, stopped by ${result.stoppedBy}`,
        );
        lag = early ? Number.POSITIVE_INFINITY : result.lag;
        if (early) await outage;
      } catch (err) {
        runs.push(
          `failed: ${(err as { code?: string }).code ?? (err as Error).name} ${(err as Error).message.slice(0, 120)}`,
        );
        t.true(isRetriable(err), `a failed run says it may be retried: ${(err as Error).message}`);
        await outage;
      }
    }
    await outage;
    t.log(`rows when the broker stopped: ${seen}; runs:\n${runs.join('\n')}`);
    t.is(lag, 0);
    t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), RECORDS);
    t.is(await countOf(db, 'SELECT count(DISTINCT idempotency_key) AS n FROM raw_events'), RECORDS);
    t.is(
      await countOf(db, 'SELECT sum(next_offset) AS n FROM kafka_offsets WHERE consumer_group = $1', [
        groupId,
      ]),
      RECORDS,
      'the stored offsets are the end of the topic',
    );
  },
);
