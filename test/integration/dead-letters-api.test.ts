// The dead letters API of the status function: GET /dead-letters (reason, time range, keyset pages, payload and
// source position), GET /dead-letters/<id>, and POST /dead-letters/replay, which re-ingests fixed events exactly
// once under today's settings and behind the API token — on PGlite and on PostgreSQL.
import type { ExecutionContext } from 'ava';
import { Registry } from 'prom-client';
import type { Database } from '../../shared/db/index.ts';
import { isBatchError } from '../../shared/errors/index.ts';
import {
  ingestPayload,
  type DeadLetterPage,
  type DeadLetterView,
  type ReplayResult,
} from '../../shared/ingest/index.ts';
import {
  databaseProbe,
  handleStatusRequest,
  type StatusDeps,
  type StatusRequest,
} from '../../shared/status/index.ts';
import { bothBackends } from './aggregate-fixtures.ts';

const schedules = { hourly: '0 * * * *', daily: '0 0 * * *', weekly: '0 0 * * 0', monthly: '0 0 1 * *' };
const TOKEN = 'replay-token-123';
const HOUR = 3_600_000;

function deps(db: Database, metrics: Registry, maxFutureSkewMs = 300_000): StatusDeps {
  return {
    db,
    probes: { database: databaseProbe(db) },
    aggregation: { schedules, timeZone: 'UTC' },
    replay: { db, settings: { limits: { maxFutureSkewMs } }, metrics },
    apiToken: TOKEN,
  };
}

function request(method: string, path: string, extra: Partial<StatusRequest> = {}): StatusRequest {
  return { method, path, query: {}, ...extra };
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function list(d: StatusDeps, query: Record<string, string> = {}): Promise<DeadLetterPage> {
  return (await handleStatusRequest(request('GET', '/dead-letters', { query }), d)).body as DeadLetterPage;
}

async function replay(d: StatusDeps, ids: Array<number | string>): Promise<ReplayResult> {
  const answer = await handleStatusRequest(
    request('POST', '/dead-letters/replay', { headers: auth, body: { ids } }),
    d,
  );
  return answer.body as ReplayResult;
}

async function rawCount(db: Database): Promise<number> {
  return Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM raw_events')).rows[0]?.n);
}

function event(id: string, timestamp: string, data: Record<string, unknown> = { latency_ms: 5 }): string {
  return JSON.stringify({ id, event_type: 'llm_request', timestamp, source: 'api-1', data });
}

async function seed(
  t: ExecutionContext,
  db: Database,
): Promise<{ future: DeadLetterView; schema: DeadLetterView; kafka: DeadLetterView }> {
  const now = Date.now();
  const body = [
    event('ok-1', new Date(now - 2 * HOUR).toISOString()),
    event('future-1', new Date(now + HOUR).toISOString()),
    JSON.stringify({
      event_type: 'llm_request',
      timestamp: new Date(now - HOUR).toISOString(),
      data: 'not an object',
    }),
  ].join('\n');
  const pushed = await ingestPayload({ db }, { body, headers: { 'content-type': 'application/x-ndjson' } });
  t.like(pushed, { stored: 1, rejected: 2 });
  // A record the Kafka connector forwarded, refused for its future timestamp.
  const record = JSON.stringify({
    event_type: 'llm_request',
    timestamp: new Date(now + HOUR).toISOString(),
    data: { n: 1 },
  });
  const connector = { 'x-topic': 'hxp.events.raw', 'x-kafka-partition': '3', 'x-kafka-offset': '41' };
  t.like(await ingestPayload({ db }, { body: record, headers: connector }), { rejected: 1 });
  const all = (await list(deps(db, new Registry()))).deadLetters;
  t.is(all.length, 3);
  const byCode = (code: string, origin: string) =>
    all.find((l) => l.reason.code === code && l.origin === origin)!;
  return {
    future: byCode('EVENT_TOO_FAR_IN_FUTURE', 'http'),
    schema: byCode('EVENT_SCHEMA', 'http'),
    kafka: byCode('EVENT_TOO_FAR_IN_FUTURE', 'kafka'),
  };
}

bothBackends(
  'GET /dead-letters: newest first, filters, keyset pages, payload and source position',
  async (t, db) => {
    const letters = await seed(t, db);
    const d = deps(db, new Registry());
    const all = await list(d);
    t.deepEqual(
      all.deadLetters.map((l) => l.id),
      [...all.deadLetters.map((l) => l.id)].sort((a, b) => b - a),
      'newest first',
    );
    t.is(all.nextCursor, null);
    t.like(letters.kafka, {
      origin: 'kafka',
      source: { topic: 'hxp.events.raw', partition: 3, offset: '41' },
      replay: { attempts: 0, replayedAt: null, outcome: null },
    });
    t.is(letters.schema.source, null);
    t.is(letters.schema.payload.encoding, 'utf8');
    t.regex(letters.schema.payload.data, /"data":"not an object"/);
    t.regex(letters.future.reason.message, /ahead|future/i);

    const future = await list(d, { reason: 'EVENT_TOO_FAR_IN_FUTURE' });
    t.deepEqual(future.deadLetters.map((l) => l.id).sort(), [letters.future.id, letters.kafka.id].sort());
    const first = await list(d, { limit: '2' });
    t.is(first.count, 2);
    t.truthy(first.nextCursor);
    const second = await list(d, { limit: '2', cursor: first.nextCursor! });
    t.is(second.count, 1);
    t.is(second.nextCursor, null);
    t.deepEqual(
      [...first.deadLetters, ...second.deadLetters].map((l) => l.id),
      all.deadLetters.map((l) => l.id),
    );
    t.is((await list(d, { to: '2000-01-01T00:00:00Z' })).count, 0);
    t.is((await list(d, { from: new Date(Date.now() - HOUR).toISOString() })).count, 3);

    const one = await handleStatusRequest(request('GET', `/dead-letters/${letters.schema.id}`), d);
    t.like(one.body, {
      id: letters.schema.id,
      reason: { code: 'EVENT_SCHEMA' },
      payload: { truncated: false },
    });
    const missing = await t.throwsAsync(handleStatusRequest(request('GET', '/dead-letters/999999'), d));
    t.true(isBatchError(missing, 'NOT_FOUND'));
    for (const [query, name] of [
      [{ limit: '0' }, 'limit'],
      [{ limit: '501' }, 'limit'],
      [{ reason: 'lower case' }, 'reason'],
      [{ from: 'yesterday' }, 'from'],
      [{ cursor: 'abc' }, 'cursor'],
      [{ from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'to'],
    ] as const) {
      const err = await t.throwsAsync(list(d, query));
      t.true(isBatchError(err, 'REQUEST_INVALID'), JSON.stringify(query));
      t.regex(err.message, new RegExp(`^${name}=`), JSON.stringify(query));
      // details.field, as every other route names it
      t.is((err as unknown as { context: { field: string } }).context.field, name, JSON.stringify(query));
    }
  },
);

bothBackends(
  'POST /dead-letters/replay re-ingests fixed events exactly once and leaves the still-bad ones',
  async (t, db) => {
    const letters = await seed(t, db);
    const metrics = new Registry();
    // The cause is fixed: the producers' clocks ran ahead, and the skew allowed is raised to 2 hours.
    const fixed = deps(db, metrics, 2 * HOUR);
    const before = await rawCount(db);

    const refused = await t.throwsAsync(
      handleStatusRequest(
        request('POST', '/dead-letters/replay', { body: { ids: [letters.future.id] } }),
        fixed,
      ),
    );
    t.true(isBatchError(refused, 'UNAUTHORIZED'), 'the token is required');
    t.is(await rawCount(db), before, 'a refused call changes nothing');

    const result = await replay(fixed, [letters.future.id, letters.schema.id, letters.kafka.id, 424242]);
    t.deepEqual(
      result.results.map((r) => [r.id, r.outcome]),
      [
        [letters.future.id, 'stored'],
        [letters.schema.id, 'rejected'],
        [letters.kafka.id, 'stored'],
        [424242, 'not_found'],
      ],
    );
    t.is(result.results[1]?.reason?.code, 'EVENT_SCHEMA');
    t.like(result, { stored: 2, rejected: 1 });
    t.is(await rawCount(db), before + 2);

    const again = await replay(fixed, [letters.future.id, letters.kafka.id]);
    t.deepEqual(
      again.results.map((r) => r.outcome),
      ['already_replayed', 'already_replayed'],
    );
    t.is(await rawCount(db), before + 2, 'nothing stored twice');
    // The connector delivering the same Kafka record again finds it stored (same topic:partition:offset).
    const redelivered = await ingestPayload(
      { db, limits: { maxFutureSkewMs: 2 * HOUR } },
      {
        body: JSON.stringify({
          event_type: 'llm_request',
          timestamp: new Date(Date.now() + HOUR).toISOString(),
          data: { n: 1 },
        }),
        headers: { 'x-topic': 'hxp.events.raw', 'x-kafka-partition': '3', 'x-kafka-offset': '41' },
      },
    );
    t.like(redelivered, { stored: 0, duplicates: 1 });

    const page = await list(fixed);
    const view = (id: number) => page.deadLetters.find((l) => l.id === id)!;
    t.like(view(letters.future.id).replay, { attempts: 1, outcome: 'stored' });
    t.truthy(view(letters.future.id).replay.replayedAt);
    t.like(view(letters.schema.id).replay, { attempts: 1, outcome: 'rejected', replayedAt: null });
    t.regex(view(letters.schema.id).replay.error ?? '', /^EVENT_SCHEMA: /);

    const text = String((await handleStatusRequest(request('GET', '/metrics'), fixed)).body);
    t.regex(text, /hxp_dead_letters\{reason="EVENT_SCHEMA"\} 1/);
    t.regex(
      text,
      /^hxp_dead_letters\{reason="EVENT_TOO_FAR_IN_FUTURE"\} 0$/m,
      'replayed letters are not counted',
    );
    const counted = await metrics.getSingleMetricAsString('hxp_ingest_events_total');
    t.regex(counted, /hxp_ingest_events_total\{via="replay",outcome="stored"\} 2/);
    t.regex(counted, /hxp_ingest_events_total\{via="replay",outcome="rejected"\} 1/);

    // A bad body is refused with the field that is wrong (the template answers a ZodError with 400).
    for (const body of [
      undefined,
      {},
      { ids: [] },
      { ids: [0] },
      { ids: ['x'] },
      { ids: [1], extra: true },
    ]) {
      const err = await t.throwsAsync(
        handleStatusRequest(request('POST', '/dead-letters/replay', { headers: auth, body }), fixed),
      );
      t.is(err.name, 'ZodError', JSON.stringify(body));
    }
  },
);

bothBackends('two replays of the same letters at once store each event once', async (t, db) => {
  const letters = await seed(t, db);
  const fixed = deps(db, new Registry(), 2 * HOUR);
  const before = await rawCount(db);
  const [a, b] = await Promise.all([replay(fixed, [letters.future.id]), replay(fixed, [letters.future.id])]);
  t.deepEqual([a.results[0]?.outcome, b.results[0]?.outcome].sort(), ['already_replayed', 'stored']);
  t.is(await rawCount(db), before + 1);
});

// Refused array elements used to be kept as JSON.stringify of their value: 1e400 became null, and a replay
// stored the event with "rating": null. Kept as their own bytes, a replay reads what the producer sent.
bothBackends('a refused array element replays from its own bytes', async (t, db) => {
  const now = Date.now();
  const late = [
    '{',
    '  "id": "late-1", "event_type": "llm_request",',
    `  "timestamp": "${new Date(now + HOUR).toISOString()}",`,
    '  "data": {"latency_ms": 5.0}',
    '}',
  ].join('\n');
  const infinite = `{"event_type": "user_feedback", "timestamp": "${new Date(now - HOUR).toISOString()}", "data": {"rating": 1e400}}`;
  const pushed = await ingestPayload({ db }, { body: `[ ${late},\n\t${infinite} ]`, headers: {} });
  t.like(pushed, { stored: 0, rejected: 2 });
  const letters = (await list(deps(db, new Registry()))).deadLetters;
  const byCode = (code: string) => letters.find((l) => l.reason.code === code)!;
  t.like(byCode('EVENT_TOO_FAR_IN_FUTURE').payload, { encoding: 'utf8', data: late });
  t.like(byCode('EVENT_NON_FINITE').payload, { encoding: 'utf8', data: infinite });

  const fixed = deps(db, new Registry(), 2 * HOUR);
  const result = await replay(fixed, [byCode('EVENT_TOO_FAR_IN_FUTURE').id, byCode('EVENT_NON_FINITE').id]);
  t.deepEqual(
    result.results.map((r) => [r.outcome, r.reason?.code]),
    [
      ['stored', undefined],
      ['rejected', 'EVENT_NON_FINITE'],
    ],
  );
  t.is(await rawCount(db), 1, 'the infinite rating is not stored as null');
});

// Regression: 19-digit ids past the bigint range (9223372036854775808 … 9999999999999999999) passed the
// pattern and overflowed int8 in the query: GET /dead-letters/9999999999999999999 and ?cursor=… answered 500.
bothBackends('an id or cursor past the bigint range is a 400 naming the field, not a 500', async (t, db) => {
  const d = deps(db, new Registry());
  const tooBig = '9223372036854775808';
  for (const id of [tooBig, '9999999999999999999']) {
    const one = await t.throwsAsync(handleStatusRequest(request('GET', `/dead-letters/${id}`), d));
    t.true(isBatchError(one, 'REQUEST_INVALID'), id);
    t.like((one as unknown as { context: object }).context, { field: 'id' });
    const page = await t.throwsAsync(list(d, { cursor: id }));
    t.true(isBatchError(page, 'REQUEST_INVALID'), id);
    t.regex(page.message, /^cursor=/);
    const replayed = await t.throwsAsync(replay(d, [id]));
    t.is((replayed as { name?: string }).name, 'ZodError', id);
    t.regex(JSON.stringify((replayed as unknown as { issues: unknown }).issues), /positive integer up to/);
  }
  // The largest bigint is still an id: it is simply not there.
  const last = await t.throwsAsync(
    handleStatusRequest(request('GET', '/dead-letters/9223372036854775807'), d),
  );
  t.true(isBatchError(last, 'NOT_FOUND'));
  t.is((await list(d, { cursor: '9223372036854775807' })).count, 0);
});

// Regression: the listing selected `id::text AS id` and ordered by that text alias (9, 8, …, 3, 23, 22, …,
// 2, 19, …, 10, 1) while the cursor compared the bigint column, so paging 22 letters 5 at a time showed 9.
bothBackends(
  'paging with small pages through more than 9 letters returns every letter once',
  async (t, db) => {
    const lines = Array.from({ length: 22 }, (_, i) =>
      JSON.stringify({ event_type: 'llm_request', data: `not an object ${i}` }),
    );
    const pushed = await ingestPayload(
      { db },
      { body: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } },
    );
    t.like(pushed, { rejected: 22 });
    const d = deps(db, new Registry());
    const all = (await list(d, { limit: '500' })).deadLetters.map((l) => l.id);
    t.is(all.length, 22);
    t.deepEqual(
      all,
      [...all].sort((a, b) => b - a),
      'newest first, by number',
    );
    const paged: number[] = [];
    let cursor: string | null | undefined;
    for (let pages = 0; pages < 10 && cursor !== null; pages++) {
      const page = await list(d, { limit: '5', ...(cursor ? { cursor } : {}) });
      paged.push(...page.deadLetters.map((l) => l.id));
      cursor = page.nextCursor;
    }
    t.is(cursor, null, 'the last page says so');
    t.deepEqual(paged, all);
  },
);

// Regression: a conflict letter's payload is the {"kept", "conflicting"} wrapper, which replay fed to the
// normaliser as if it were an event: "event_type is required", a reason that says nothing about the conflict.
bothBackends('replaying a conflicting duplicate offers the conflicting event again', async (t, db) => {
  const at = new Date(Date.now() - HOUR).toISOString();
  const kept = event('conf-1', at, { latency_ms: 5 });
  const conflicting = event('conf-1', at, { latency_ms: 7 });
  t.like(await ingestPayload({ db }, { body: kept, headers: {} }), { stored: 1 });
  t.like(await ingestPayload({ db }, { body: conflicting, headers: {} }), { conflictingDuplicates: 1 });
  const [letter] = (await list(deps(db, new Registry()))).deadLetters;
  t.is(letter?.reason.code, 'EVENT_CONFLICTING_DUPLICATE');
  const d = deps(db, new Registry());

  // The kept event is still there: the conflict stands, and the answer says so.
  const result = await replay(d, [letter!.id]);
  t.like(result, { stored: 0, duplicates: 0, rejected: 1 });
  t.is(result.results[0]?.outcome, 'rejected');
  t.is(result.results[0]?.reason?.code, 'EVENT_CONFLICTING_DUPLICATE');
  t.regex(result.results[0]?.reason?.message ?? '', /still conflicts.*data\.latency_ms.*new id/);
  const after = (await list(d)).deadLetters;
  t.is(after.length, 1, 'no second letter for the same conflict');
  t.like(after[0]?.replay, { attempts: 1, outcome: 'rejected', replayedAt: null });
  t.regex(after[0]?.replay.error ?? '', /^EVENT_CONFLICTING_DUPLICATE: /);
  t.is(await rawCount(db), 1);

  // Once the kept event is gone (its id forgotten), the conflicting event itself is what a replay stores.
  await db.query(`DELETE FROM raw_events WHERE idempotency_key = 'id:conf-1'`);
  await db.query(`DELETE FROM event_keys WHERE idempotency_key = 'id:conf-1'`);
  const again = await replay(d, [letter!.id]);
  t.like(again.results[0], { outcome: 'stored', stored: 1 });
  const { rows } = await db.query<{ latency: number }>(
    `SELECT (data->>'latency_ms')::int AS latency FROM raw_events WHERE idempotency_key = 'id:conf-1'`,
  );
  t.deepEqual(
    rows.map((r) => r.latency),
    [7],
  );
});
