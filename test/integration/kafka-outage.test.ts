// The Kafka broker (one of the test's own, test/helpers/private-kafka.ts, so the shared broker is never touched)
// stopped while a pull reads from it and started again after that pull has ended: the pull fails with a
// retriable error once kafkajs gives up, leaves nothing running in its process, the next runs resume from the
// offsets stored in PostgreSQL, and every record is stored exactly once.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { isRetriable } from '../../shared/errors/index.ts';
import { pullFromKafka } from '../../shared/ingest/index.ts';
import { createKafka } from '../../shared/kafka/index.ts';
import { countOf } from '../fixtures/ingest-events.ts';
import {
  createTopics,
  llmEvent,
  outagePullOptions,
  produceValues,
  uniqueSuffix,
} from '../fixtures/ingest-kafka.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { kafkaLib, startPrivateKafka } from '../helpers/private-kafka.ts';
import { serviceTest } from '../helpers/services.ts';

const kafkaTest = serviceTest('postgres', 'kafka');
const WORKER = fileURLToPath(new URL('../fixtures/ingest-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The ingest worker in a process of its own, its stdout lines awaitable by their first word. */
function startWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let wake: () => void = () => undefined;
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': by then its stdout has been read to the end.
  let closed = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      closed = true;
      resolve({ code, signal });
      wake();
    }),
  );
  return {
    child,
    exited,
    stderr: () => stderr,
    /** The first line starting with one of `words`; rejects if the process exits without printing one. */
    async line(...words: string[]): Promise<string> {
      for (;;) {
        const found = lines.find((l) => words.some((w) => l.startsWith(`${w} `)));
        if (found !== undefined) return found;
        if (closed) throw new Error(`the worker exited without "${words.join('" or "')}": ${stderr}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

kafkaTest.serial(
  'the Kafka broker restarted during a pull: the pull fails retriably and leaves nothing running, the next resumes from the stored offsets, nothing lost or doubled',
  async (t: ExecutionContext) => {
    t.timeout(
      600_000,
      'a broker of its own started twice, and a pull waiting out kafkajs retries, on a shared 2-core machine',
    );
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
    // Half the records before the outage, half after it, so the later runs must fetch from the restarted broker.
    const RECORDS = 20_000;
    const values = Array.from({ length: RECORDS }, (_, i) => llmEvent(`k${i}`, 9 + (i % 3)));
    await produceValues(kafka, topic, values.slice(0, RECORDS / 2));

    // 1. A pull in a process of its own, set to wait for records and to run far longer than the test, so only
    //    the broker's absence can end it: kafkajs retries, gives up, the consumer crashes, and the pull fails.
    //    That crash once armed kafkajs's restart of the consumer instead, which went on after the pull had
    //    stopped (and, with the broker back, joined the group as a member nobody ran).
    const worker = startWorker({
      INGEST_DATABASE_URL: fresh.url,
      INGEST_KAFKA_BROKERS: broker.brokers.join(','),
      INGEST_TOPIC: topic,
      INGEST_GROUP_ID: groupId,
      INGEST_IDLE_MS: '3600000',
      INGEST_MAX_DURATION_MS: '3600000',
      INGEST_MAX_BYTES_PER_PARTITION: String(64 * 1024),
    });
    t.teardown(() => {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    });
    await worker.line('batch');
    await broker.stop();
    // kafkajs gives up within a minute (its retries back off to ~10 s); four minutes means it never will.
    let gaveUp = false;
    const giveUp = setTimeout(() => {
      gaveUp = true;
      worker.child.kill('SIGKILL');
    }, 240_000);
    const ended = await worker
      .line('done', 'failed')
      .catch((err: Error) => {
        throw gaveUp ? new Error(`the pull still ran 240 s after the broker stopped; ${err.message}`) : err;
      })
      .finally(() => clearTimeout(giveUp));
    t.regex(ended, /^failed /, 'the pull ends once kafkajs gives up on the broker');
    const failure = JSON.parse(ended.slice('failed '.length)) as { code?: string; retriable: boolean };
    t.like(failure, { code: 'KAFKA_UNAVAILABLE', retriable: true }, ended);
    // Nothing of kafkajs is left once the pull has returned: no timer, no socket (the pool is closed too)…
    t.is(
      await worker.line('resources'),
      'resources []',
      'what kept the worker alive after its pull returned',
    );
    // …and so the process ends by itself, with the broker still down.
    t.like(await worker.exited, { code: 1, signal: null }, worker.stderr());
    const storedBefore = await countOf(db, 'SELECT count(*) AS n FROM raw_events');
    t.true(storedBefore > 0);
    t.is(
      await countOf(db, 'SELECT sum(next_offset) AS n FROM kafka_offsets WHERE consumer_group = $1', [
        groupId,
      ]),
      storedBefore,
      'the stored offsets agree with the stored rows (one transaction)',
    );

    // 2. The broker back, the second half produced, and pulls until one says lag 0.
    await broker.start();
    await produceValues(kafka, topic, values.slice(RECORDS / 2));
    const options = outagePullOptions(groupId, topic);
    const runs: string[] = [];
    let lag = Number.POSITIVE_INFINITY;
    let readAgain = 0;
    let read = 0;
    let failed = 0;
    for (let attempt = 0; attempt < 10 && lag > 0; attempt++) {
      try {
        const result = await pullFromKafka({ db, kafka }, options);
        runs.push(
          `stored ${result.stored}, duplicates ${result.duplicates}, lag ${result.lag}, stopped by ${result.stoppedBy}`,
        );
        read += result.recordsIn;
        readAgain += result.duplicates;
        lag = result.lag;
      } catch (err) {
        runs.push(
          `failed: ${(err as { code?: string }).code ?? (err as Error).name} ${(err as Error).message.slice(0, 120)}`,
        );
        t.true(isRetriable(err), `a failed run says it may be retried: ${(err as Error).message}`);
        failed += 1;
      }
    }
    t.log(
      `first pull: ${ended}; rows when it ended: ${storedBefore}; runs after the restart:\n${runs.join('\n')}`,
    );
    t.is(lag, 0);
    // They started where PostgreSQL said the first pull had stopped: nothing it stored was read again.
    t.is(readAgain, 0, 'records read again after the restart');
    // (A run that failed stored part of its records without saying how many.)
    if (failed === 0) t.is(read, RECORDS - storedBefore, 'records read after the restart');
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
