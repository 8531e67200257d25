// PostgreSQL (a private cluster, test/helpers/private-postgres.ts) shut down immediately and restarted while
// pullFromKafka reads a topic of the shared broker: a run fails cleanly with a retriable error, rows and offsets
// agree after crash recovery, and the next run stores the rest, every record once.
import type { ExecutionContext } from 'ava';
import { openDatabase } from '../../shared/db/index.ts';
import { isRetriable } from '../../shared/errors/index.ts';
import { pullFromKafka } from '../../shared/ingest/index.ts';
import { countOf } from '../fixtures/ingest-events.ts';
import {
  createTopics,
  llmEvent,
  outagePullOptions,
  produceValues,
  testKafka,
  uniqueSuffix,
} from '../fixtures/ingest-kafka.ts';
import { privateDatabase } from '../helpers/private-postgres.ts';
import { serviceTest } from '../helpers/services.ts';

const kafkaTest = serviceTest('postgres', 'kafka');

kafkaTest.serial(
  'PostgreSQL restarted during pull ingest: the run fails cleanly or retries; the next run stores the rest, each record once',
  async (t: ExecutionContext) => {
    t.timeout(300_000);
    const { pg, db } = await privateDatabase(t);
    const suffix = uniqueSuffix();
    const topic = `hxp.test.pull-outage.${suffix}`;
    const groupId = `hxp-test-pull-outage-${suffix}`;
    const kafka = testKafka();
    await createTopics(t, kafka, [topic], 2, [groupId]);
    const RECORDS = 20_000;
    await produceValues(
      kafka,
      topic,
      Array.from({ length: RECORDS }, (_, i) => llmEvent(`p${i}`, 9 + (i % 3))),
    );
    const options = outagePullOptions(groupId, topic);

    // The outage starts once the first rows are committed, while the pull is mid-topic.
    const afterRecovery = { seen: 0, rows: -1, offsets: -2 };
    const watcher = await openDatabase({ url: pg.url, poolSize: 1 });
    const outage = (async () => {
      for (;;) {
        const n = await countOf(watcher, 'SELECT count(*) AS n FROM raw_events').catch(() => 0);
        if (n > 0) {
          afterRecovery.seen = n;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      await watcher.close();
      await pg.stop('immediate');
      await new Promise((r) => setTimeout(r, 1500));
      await pg.start();
      // After crash recovery the rows and the offsets agree: they were committed together or not at all (a
      // pull batch commits with synchronous_commit off, so the last batches may be lost — both halves alike).
      const check = await openDatabase({ url: pg.url, poolSize: 1 });
      afterRecovery.rows = await countOf(check, 'SELECT count(*) AS n FROM raw_events');
      afterRecovery.offsets = await countOf(
        check,
        'SELECT coalesce(sum(next_offset), 0) AS n FROM kafka_offsets WHERE consumer_group = $1',
        [groupId],
      );
      await check.close();
    })();
    const runs: string[] = [];
    let lag = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 10 && lag > 0; attempt++) {
      try {
        const result = await pullFromKafka({ db, kafka }, options);
        runs.push(`stored ${result.stored}, duplicates ${result.duplicates}, lag ${result.lag}`);
        lag = result.lag;
      } catch (err) {
        runs.push(`failed: ${(err as { code?: string }).code} ${(err as Error).message.slice(0, 120)}`);
        t.true(isRetriable(err), `a failed run says it may be retried: ${(err as Error).message}`);
        await outage;
      }
    }
    await outage;
    t.log(
      `rows before the outage ${afterRecovery.seen}, after recovery ${afterRecovery.rows}; runs:\n${runs.join('\n')}`,
    );
    t.is(afterRecovery.rows, afterRecovery.offsets, 'rows and offsets agree after crash recovery');
    t.is(lag, 0);
    t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), RECORDS);
    t.is(await countOf(db, 'SELECT count(DISTINCT idempotency_key) AS n FROM raw_events'), RECORDS);
    const { rows } = await db.query<{ next: number }>(
      'SELECT sum(next_offset)::int AS next FROM kafka_offsets WHERE consumer_group = $1',
      [groupId],
    );
    t.is(rows[0]!.next, RECORDS, 'the stored offsets are the end of the topic');
  },
);
