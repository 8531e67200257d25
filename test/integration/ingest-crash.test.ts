// Crash safety of ingestion (real PostgreSQL and Kafka). Pull: a worker process is SIGKILLed at random
// instants and right before COMMIT, right after COMMIT and right after the Kafka commit, restarted each
// time, and at the end every record is stored exactly once, in the partials too, and the stored offsets are
// at the end. Push: a producer-and-store process is SIGKILLed at random instants, between the raw rows and
// the partials, right before COMMIT and after COMMIT before the answer; restarted each time, it sends the
// unacknowledged body and the last acknowledged one again, and every event is stored and counted once.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { freshPgDatabase } from '../helpers/db.ts';
import { requireService, serviceTest } from '../helpers/services.ts';
import { countOf } from '../fixtures/ingest-events.ts';
import { createTopics, llmEvent, produceValues, testKafka, uniqueSuffix } from '../fixtures/ingest-kafka.ts';

const test = serviceTest('postgres', 'kafka');
const pgTest = serviceTest('postgres');
const WORKER = fileURLToPath(new URL('../fixtures/ingest-worker.ts', import.meta.url));
const PUSH_WORKER = fileURLToPath(new URL('../fixtures/push-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const N = 5000;
const BAD_EVERY = 500;

/** How a crash-suite worker process ended, and what it wrote on stderr. */
interface ChildRun {
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/**
 * Runs a worker script of test/fixtures, handing each whole line of its stdout to `onLine`. Once `onLine` has
 * reported progress (returned true), the worker is killed with SIGKILL `killAfterMs` later, if given: timed
 * from its first progress, so the kill lands in the work, not in the start-up.
 */
function runCrashWorker(
  script: string,
  env: Record<string, string>,
  onLine: (line: string) => boolean,
  killAfterMs?: number,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let progressed = false;
    let armed = false;
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (onLine(line)) progressed = true;
      if (killAfterMs !== undefined && progressed && !armed) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

interface WorkerRun extends ChildRun {
  batches: number;
  done: boolean;
}

async function runWorker(env: Record<string, string>, killAfterFirstBatchMs?: number): Promise<WorkerRun> {
  let batches = 0;
  let done = false;
  const run = await runCrashWorker(
    WORKER,
    env,
    (line) => {
      if (line.startsWith('batch ')) batches++;
      if (line.startsWith('done ')) done = true;
      return batches > 0;
    },
    killAfterFirstBatchMs,
  );
  return { ...run, batches, done };
}

test('kill -9 at random and at the commit points loses and duplicates nothing', async (t: ExecutionContext) => {
  t.timeout(600_000);
  const suffix = uniqueSuffix();
  const topic = `hxp.test.ingest-crash.${suffix}`;
  const groupId = `hxp-test-ingest-crash-${suffix}`;
  const kafka = testKafka();
  await createTopics(t, kafka, [topic], 2, [groupId]);
  const values: string[] = [];
  for (let i = 0; i < N; i++)
    values.push(i % BAD_EVERY === 7 ? `bad record ${i}` : llmEvent(`c${i}`, 9 + (i % 3)));
  // Small sends give small record batches, so a fetch holds few records and a run spans many transactions.
  for (let start = 0; start < N; start += 20)
    await produceValues(kafka, topic, values.slice(start, start + 20));
  const fresh = await freshPgDatabase();
  t.teardown(fresh.drop);
  const env = {
    INGEST_DATABASE_URL: fresh.url,
    INGEST_KAFKA_BROKERS: (requireService('kafka')?.brokers ?? []).join(','),
    INGEST_TOPIC: topic,
    INGEST_GROUP_ID: groupId,
  };

  let kills = 0;
  for (const point of ['beforeCommit', 'afterCommit', 'afterKafkaCommit']) {
    const run = await runWorker({ ...env, INGEST_CRASH_AT: point, INGEST_CRASH_BATCH: '3' });
    t.is(run.signal, 'SIGKILL', `worker crashing at ${point}: ${run.stderr}`);
    kills++;
  }
  let randomKills = 0;
  for (let attempt = 0; attempt < 20 && randomKills < 10; attempt++) {
    const run = await runWorker(env, Math.floor(Math.random() * 400));
    if (run.signal === 'SIGKILL') randomKills++;
    else t.is(run.code, 0, run.stderr);
    if (run.done) break;
  }
  kills += randomKills;
  t.true(randomKills >= 10, `killed at ${randomKills} random instants`);

  const final = await runWorker(env);
  t.is(final.code, 0, final.stderr);
  t.true(final.done);

  const good = N - N / BAD_EVERY;
  const { db } = fresh;
  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), good);
  t.is(await countOf(db, 'SELECT count(DISTINCT idempotency_key) AS n FROM raw_events'), good);
  t.is(await countOf(db, "SELECT count(DISTINCT data->>'seq') AS n FROM raw_events"), good);
  t.is(await countOf(db, 'SELECT count(*) AS n FROM event_keys'), 0, 'Kafka records are claimed by offset');
  t.is(
    await countOf(db, 'SELECT coalesce(sum(end_offset - first_offset), 0) AS n FROM kafka_record_claims'),
    good,
    'every stored record is claimed exactly once',
  );
  t.is(await countOf(db, 'SELECT count(*) AS n FROM dead_letters'), N / BAD_EVERY);
  // The partials moved with the rows: every stored value counted once in them, every row in their hours.
  t.is(
    await countOf(
      db,
      "SELECT coalesce(sum(partial_rows), 0) AS n FROM aggregation_windows WHERE level = 'hour'",
    ),
    good,
  );
  const perMetric = async (sql: string): Promise<unknown[]> => (await db.query(sql)).rows;
  t.deepEqual(
    await perMetric(
      `SELECT metric, sum(count)::int AS n FROM aggregate_partials WHERE dimension = 'all' GROUP BY 1 ORDER BY 1`,
    ),
    await perMetric(
      `SELECT m AS metric, count(*)::int AS n FROM raw_events, unnest(metric_names) AS m GROUP BY 1 ORDER BY 1`,
    ),
  );
  const { rows } = await db.query<{ partition: number; next_offset: number }>(
    'SELECT partition, next_offset FROM kafka_offsets WHERE consumer_group = $1 ORDER BY partition',
    [groupId],
  );
  t.deepEqual(
    rows.map((r) => [r.partition, Number(r.next_offset)]),
    [
      [0, N / 2],
      [1, N / 2],
    ],
  );
  t.log(`${kills} kills (${randomKills} at random instants)`);
});

interface PushRun extends ChildRun {
  /** The last body acknowledged in this run, or -1. */
  acked: number;
  /** Every answer of the run: the body and the counts it was answered with. */
  answers: Array<[body: number, answer: { stored: number; duplicates: number }]>;
  done: boolean;
}

async function runPushWorker(env: Record<string, string>, killAfterMs?: number): Promise<PushRun> {
  let acked = -1;
  const answers: PushRun['answers'] = [];
  let done = false;
  const run = await runCrashWorker(
    PUSH_WORKER,
    env,
    (line) => {
      const match = /^acked (\d+) (.*)$/.exec(line);
      if (match) {
        acked = Number(match[1]);
        answers.push([acked, JSON.parse(match[2]!) as PushRun['answers'][number][1]]);
      }
      if (line === 'done') done = true;
      return acked >= 0;
    },
    killAfterMs,
  );
  return { ...run, acked, answers, done };
}

pgTest(
  'push: kill -9 at random, between the rows and the partials, before and after COMMIT loses and duplicates nothing',
  async (t: ExecutionContext) => {
    t.timeout(600_000);
    const BODIES = 60;
    const PER_BODY = 40;
    const fresh = await freshPgDatabase();
    t.teardown(fresh.drop);
    const env = { PUSH_DATABASE_URL: fresh.url, PUSH_BODIES: String(BODIES), PUSH_EVENTS: String(PER_BODY) };
    // the producer's view: the next body to send is the one after the last acknowledged — but it re-sends
    // that one too, as a producer whose answer was lost would
    let next = 0;
    const answers: PushRun['answers'] = [];
    const resume = (run: PushRun): void => {
      if (run.acked >= 0) next = run.acked;
      answers.push(...run.answers);
    };

    const points = ['beforePartials', 'beforeCommit', 'afterCommit'];
    for (const [n, point] of points.entries()) {
      const body = 3 + n * 4;
      const run = await runPushWorker({
        ...env,
        PUSH_FROM: String(next),
        PUSH_CRASH_AT: point,
        PUSH_CRASH_BODY: String(body),
      });
      t.is(run.signal, 'SIGKILL', `worker crashing at ${point}: ${run.stderr}`);
      t.is(run.acked, body - 1, `body ${body} was not acknowledged`);
      resume(run);
    }
    let randomKills = 0;
    for (let attempt = 0; attempt < 20 && randomKills < 8; attempt++) {
      const run = await runPushWorker({ ...env, PUSH_FROM: String(next) }, Math.floor(Math.random() * 150));
      if (run.signal === 'SIGKILL') randomKills++;
      else t.is(run.code, 0, run.stderr);
      resume(run);
      if (run.done) break;
    }
    t.true(randomKills >= 3, `killed at ${randomKills} random instants`);
    const final = await runPushWorker({ ...env, PUSH_FROM: String(next) });
    t.is(final.code, 0, final.stderr);
    t.true(final.done);
    resume(final);

    // Each body is sent with its Idempotency-Key, so every answer to it — the first, a re-send after a
    // kill, one after a COMMIT whose answer died with the process — is the first attempt's: its own events
    // stored, and only the event it repeats from the body before a duplicate.
    const wrong = answers.filter(
      ([body, answer]) => answer.stored !== PER_BODY || answer.duplicates !== (body > 0 ? 1 : 0),
    );
    t.deepEqual(wrong, [], 'answers that do not say what the body stored');
    t.is(new Set(answers.map(([body]) => body)).size, BODIES);
    t.true(answers.length > BODIES, 'some bodies were answered again after a kill');

    const { db } = fresh;
    const total = BODIES * PER_BODY;
    t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), total);
    t.is(await countOf(db, 'SELECT count(DISTINCT idempotency_key) AS n FROM raw_events'), total);
    t.is(await countOf(db, 'SELECT count(*) AS n FROM event_keys'), total);
    t.is(await countOf(db, 'SELECT count(*) AS n FROM dead_letters'), 0);
    // the partials moved with the rows: every stored row counted once in its hour and in each metric
    t.is(
      await countOf(
        db,
        "SELECT coalesce(sum(partial_rows), 0) AS n FROM aggregation_windows WHERE level = 'hour'",
      ),
      total,
    );
    const perMetric = async (sql: string): Promise<unknown[]> => (await db.query(sql)).rows;
    t.deepEqual(
      await perMetric(
        `SELECT metric, sum(count)::int AS n, round(sum(sum), 6)::text AS s FROM aggregate_partials
         WHERE dimension = 'all' GROUP BY 1 ORDER BY 1`,
      ),
      await perMetric(
        `SELECT m AS metric, count(*)::int AS n, round(sum(v::numeric), 6)::text AS s
         FROM raw_events, unnest(metric_names, metric_values) AS u(m, v) GROUP BY 1 ORDER BY 1`,
      ),
    );
    t.log(`${points.length + randomKills} kills (${randomKills} at random instants)`);
  },
);
