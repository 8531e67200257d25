// A push with an Idempotency-Key: the same request sent again is answered with its first answer (on PGlite
// and PostgreSQL), another request under the key is refused, and a COMMIT whose reply was lost is answered
// with what it stored, not with its own events counted as duplicates.
import test, { type ExecutionContext } from 'ava';
import { Registry } from 'prom-client';
import type { PoolClient } from 'pg';
import type { Database } from '../../shared/db/index.ts';
import { BatchError, isBatchError } from '../../shared/errors/index.ts';
import { answerPush, ingestPayload, type PushDeps } from '../../shared/ingest/index.ts';
import { freshEmbeddedDatabase, freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { countOf } from '../fixtures/ingest-events.ts';

const pgTest = serviceTest('postgres');
const NOW = Date.parse('2026-11-28T12:00:00Z');

const event = (id: string, latency = 812) => ({
  event_type: 'llm_request',
  timestamp: '2026-11-28T10:15:00Z',
  source: 'api-1',
  id,
  data: { model: 'llama-3-70b', latency_ms: latency },
});

const keyed = (key: string, events: unknown) => ({
  body: JSON.stringify(events),
  headers: { 'content-type': 'application/json', 'idempotency-key': key },
});

async function embedded(t: ExecutionContext): Promise<PushDeps> {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  return { db, now: () => NOW };
}

async function postgres(t: ExecutionContext): Promise<PushDeps> {
  const fresh = await freshPgDatabase();
  t.teardown(fresh.drop);
  return { db: fresh.db, now: () => NOW };
}

const stored = (deps: PushDeps) => countOf(deps.db, 'SELECT count(*) AS n FROM raw_events');

for (const [name, setup, register] of [
  ['PGlite', embedded, test],
  ['PostgreSQL', postgres, pgTest],
] as const) {
  register(
    `${name}: a request sent again with its Idempotency-Key gets its first answer and stores nothing`,
    async (t: ExecutionContext) => {
      const metrics = new Registry();
      const deps = { ...(await setup(t)), metrics };
      await ingestPayload(deps, { body: JSON.stringify(event('earlier')), headers: {} });
      const request = keyed('batch-0001', [event('a'), event('b'), event('earlier'), { event_type: 'nope' }]);
      const first = await answerPush(deps, request);
      t.false(first.replayed);
      t.like(first.result, { stored: 2, duplicates: 1, rejected: 1 });
      const again = await answerPush(deps, request);
      t.true(again.replayed);
      t.deepEqual(again.result, first.result);
      // the key in the structured-field spelling of the draft ("…") names the same request
      const quoted = await answerPush(deps, {
        ...request,
        headers: { ...request.headers, 'idempotency-key': '"batch-0001"' },
      });
      t.true(quoted.replayed);
      t.is(await stored(deps), 3);
      t.is(await countOf(deps.db, 'SELECT count(*) AS n FROM dead_letters'), 1);
      // the metrics count what was stored, once: a replay stores nothing
      const counted = await metrics.getSingleMetricAsString('hxp_ingest_events_total');
      t.regex(counted, /hxp_ingest_events_total\{via="http",outcome="stored"\} 3\n/);
      t.regex(counted, /hxp_ingest_events_total\{via="http",outcome="duplicate"\} 1\n/);
      // without a key the same body is what it always was: its events known, counted duplicates
      const unkeyed = await answerPush(deps, {
        body: request.body,
        headers: { 'content-type': 'application/json' },
      });
      t.false(unkeyed.replayed);
      t.like(unkeyed.result, { stored: 0, duplicates: 3, rejected: 1 });
    },
  );

  register(
    `${name}: another request under a used key is refused naming the header, and stores nothing`,
    async (t: ExecutionContext) => {
      const deps = await setup(t);
      t.like(await ingestPayload(deps, keyed('k-1', event('a'))), { stored: 1 });
      for (const other of [
        keyed('k-1', event('b')),
        // the same bytes read another way (NDJSON), or as a connector's record, are another request
        {
          ...keyed('k-1', event('a')),
          headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'k-1' },
        },
        {
          ...keyed('k-1', event('a')),
          headers: {
            'content-type': 'application/json',
            'idempotency-key': 'k-1',
            'x-topic': 'raw',
            'x-kafka-partition': '0',
            'x-kafka-offset': '7',
          },
        },
      ]) {
        const err = await t.throwsAsync(ingestPayload(deps, other));
        t.true(isBatchError(err) && err.code === 'IDEMPOTENCY_KEY_REUSED', String(err));
        t.regex(String(err?.message), /Idempotency-Key "k-1" was sent before with another request/);
        t.deepEqual((err as BatchError).context, { field: 'Idempotency-Key' });
      }
      t.is(await stored(deps), 1);
    },
  );
}

test('a malformed Idempotency-Key is a request error naming the header; nothing is stored', async (t) => {
  const deps = await embedded(t);
  for (const [key, why] of [
    ['', /is empty/],
    ['  ', /is empty/],
    ['""', /is empty/],
    ['x'.repeat(256), /is 256 characters long; at most 255/],
    ['naïve', /outside printable ASCII/],
    ['tab\there', /outside printable ASCII/],
  ] as const) {
    const err = await t.throwsAsync(ingestPayload(deps, keyed(key, [event('a')])));
    t.true(isBatchError(err) && err.code === 'REQUEST_INVALID', `${JSON.stringify(key)}: ${String(err)}`);
    t.regex(String(err?.message), /^the Idempotency-Key header /);
    t.regex(String(err?.message), why);
  }
  t.is(await stored(deps), 0);
  t.like(await ingestPayload(deps, keyed('x'.repeat(255), [event('a')])), { stored: 1 });
});

/** The Database with a transaction that commits and then fails as if the COMMIT's reply had been lost. */
function commitReplyLost(db: Database, times: number): Database {
  let left = times;
  return {
    ...db,
    query: db.query.bind(db),
    withClient: db.withClient.bind(db),
    close: db.close.bind(db),
    transaction: async <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
      const result = await db.transaction(fn);
      if (left-- > 0) {
        throw new BatchError('DB_CONNECTION_LOST', 'the connection was lost during COMMIT (test)');
      }
      return result;
    },
  };
}

pgTest(
  'a COMMIT whose reply was lost: the retry answers what it stored, with the key; duplicates without',
  async (t) => {
    const deps = await postgres(t);
    const events = [event('a'), event('b'), event('c')];
    const withKey = await answerPush({ ...deps, db: commitReplyLost(deps.db, 1) }, keyed('lost-1', events));
    t.like(withKey.result, { stored: 3, duplicates: 0 });
    t.true(withKey.replayed, 'the retried transaction found the first attempt committed');
    // the producer, told 503 after the last retry, sends it again: still its first answer
    const lostTwice = commitReplyLost(deps.db, 3);
    const err = await t.throwsAsync(answerPush({ ...deps, db: lostTwice }, keyed('lost-2', [event('d')])));
    t.true(isBatchError(err) && err.code === 'DB_CONNECTION_LOST');
    const resent = await answerPush(deps, keyed('lost-2', [event('d')]));
    t.like(resent, { replayed: true, result: { stored: 1, duplicates: 0 } });
    // what the key changes: without one, the retry finds its own events and calls them duplicates
    const unkeyed = await answerPush(
      { ...deps, db: commitReplyLost(deps.db, 1) },
      { body: JSON.stringify([event('e')]), headers: {} },
    );
    t.like(unkeyed.result, { stored: 0, duplicates: 1 });
    t.is(await stored(deps), 5);
  },
);

pgTest(
  'two requests with one key at once: one stores, the other waits and gets the same answer',
  async (t) => {
    const deps = await postgres(t);
    const events = Array.from({ length: 300 }, (_, i) => event(`e${i}`, 100 + i));
    const request = keyed('racing', events);
    const answers = await Promise.all([
      answerPush(deps, request),
      answerPush(deps, request),
      answerPush(deps, request),
    ]);
    t.deepEqual(answers.map((a) => a.replayed).sort(), [false, true, true]);
    for (const answer of answers) t.like(answer.result, { stored: 300, duplicates: 0, rejected: 0 });
    t.is(await stored(deps), 300);
  },
);
