// storeEvents on PGlite (insert path) and real PostgreSQL (COPY and insert paths).
import test, { type ExecutionContext } from 'ava';
import {
  storeEvents,
  UNSTORABLE_CODE,
  type DeadLetter,
  type IngestEvent,
  type StoreOptions,
} from '../../shared/ingest/index.ts';
import { freshEmbeddedDatabase, freshPgDatabase, type FreshDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { countOf, hourWindows, makeEvent, storedRows } from '../fixtures/ingest-events.ts';

type Open = () => Promise<FreshDatabase>;
interface Variant {
  name: string;
  open: Open;
  options: StoreOptions;
  register: (title: string, fn: (t: ExecutionContext) => Promise<void>) => void;
}

const pg = serviceTest('postgres');
const variants: Variant[] = [
  { name: 'pglite', open: () => freshEmbeddedDatabase(), options: { embedded: true }, register: test },
  { name: 'pg copy', open: () => freshPgDatabase(), options: { method: 'copy' }, register: pg },
  { name: 'pg insert', open: () => freshPgDatabase(), options: { method: 'insert' }, register: pg },
];

const awkward = [
  'plain',
  'with "double" and \'single\' quotes',
  'back\\slash \\N \\\\ end\\',
  'tab\there',
  'new\nline and\r\ncrlf',
  'unicode é 中文 😀 \u2028',
  'NULL',
  '',
  '{curly,comma}',
  ' leading and trailing ',
];

for (const v of variants) {
  const open = async (t: ExecutionContext): Promise<FreshDatabase> => {
    const fresh = await v.open();
    t.teardown(fresh.drop);
    return fresh;
  };

  v.register(`${v.name}: awkward strings round-trip exactly`, async (t) => {
    const { db } = await open(t);
    const events = awkward.map((s, i) =>
      makeEvent(`k${i} ${s}`, {
        eventType: `type ${s}`,
        source: s,
        metricNames: [s + 'm', 'x'],
        metricValues: [i + 0.5, -1e-7, 1e21],
        dimensionNames: ['model', s],
        dimensionValues: [s, '"'],
        data: { text: s, [s + 'key']: [s, null, true, 1.25], nested: { s } },
      }),
    );
    const result = await db.transaction((c) => storeEvents(c, events, [], v.options));
    t.like(result, { stored: awkward.length, duplicates: 0, rejected: 0 });
    const rows = await storedRows(db);
    const byKey = new Map(rows.map((r) => [r.idempotency_key, r]));
    for (const e of events) {
      const row = byKey.get(e.idempotencyKey);
      t.truthy(row, e.idempotencyKey);
      t.is(row?.event_type, e.eventType);
      t.is(row?.source, e.source);
      t.deepEqual(row?.metric_names, e.metricNames);
      t.deepEqual(row?.metric_values, e.metricValues);
      t.deepEqual(row?.dimension_names, e.dimensionNames);
      t.deepEqual(row?.dimension_values, e.dimensionValues);
      t.deepEqual(row?.data, e.data);
      t.is(row?.ts.toISOString(), '2026-11-28T10:15:00.000Z');
    }
  });

  v.register(`${v.name}: duplicates within and across batches are stored once`, async (t) => {
    const { db } = await open(t);
    const first = [makeEvent('a'), makeEvent('b'), makeEvent('a', { source: 'second copy' })];
    t.like(await db.transaction((c) => storeEvents(c, first, [], v.options)), {
      stored: 2,
      duplicates: 1,
      rejected: 0,
    });
    const second = [makeEvent('b'), makeEvent('c', { timestamp: new Date('2026-11-29T23:59:59.999Z') })];
    t.like(await db.transaction((c) => storeEvents(c, second, [], v.options)), {
      stored: 1,
      duplicates: 1,
      rejected: 0,
    });
    const rows = await storedRows(db);
    t.deepEqual(
      rows.map((r) => r.idempotency_key),
      ['a', 'b', 'c'],
    );
    t.is(rows[0]?.source, 'api-1', 'the first copy in a batch wins');
    t.is(await countOf(db, 'SELECT count(*) AS n FROM event_keys'), 3);
    t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events_20261129'), 1);
  });

  v.register(
    `${v.name}: touched hours get a higher changed_seq; pure duplicates touch nothing`,
    async (t) => {
      const { db } = await open(t);
      await db.transaction((c) =>
        storeEvents(
          c,
          [
            makeEvent('h1', { timestamp: '2026-11-28T10:00:00Z' }),
            makeEvent('h2', { timestamp: '2026-11-28T10:59:59.999Z' }),
            makeEvent('h3', { timestamp: '2026-11-28T11:00:00Z' }),
          ],
          [],
          v.options,
        ),
      );
      const before = await hourWindows(db);
      t.deepEqual([...before.keys()], ['2026-11-28T10:00:00.000Z', '2026-11-28T11:00:00.000Z']);
      await db.transaction((c) =>
        storeEvents(c, [makeEvent('h1', { timestamp: '2026-11-28T10:00:00Z' })], [], v.options),
      );
      t.deepEqual(await hourWindows(db), before, 'a duplicate must not re-open its hour');
      await db.transaction((c) =>
        storeEvents(c, [makeEvent('late', { timestamp: '2026-11-28T10:30:00Z' })], [], v.options),
      );
      const after = await hourWindows(db);
      t.true((after.get('2026-11-28T10:00:00.000Z') ?? 0) > (before.get('2026-11-28T10:00:00.000Z') ?? 0));
      t.is(after.get('2026-11-28T11:00:00.000Z'), before.get('2026-11-28T11:00:00.000Z'));
    },
  );

  v.register(`${v.name}: rejections land once in dead_letters beside stored neighbours`, async (t) => {
    const { db } = await open(t);
    const letter: DeadLetter = {
      origin: 'kafka',
      idempotencyKey: 't:0:5',
      reasonCode: 'EVENT_INVALID_JSON',
      reason: 'not JSON: Unexpected token',
      payload: Buffer.from([0x7b, 0x00, 0xff]),
      topic: 't',
      partition: 0,
      offset: 5,
    };
    const events = [makeEvent('good-1'), makeEvent('nul', { source: 'a\u0000b' }), makeEvent('good-2')];
    const r1 = await db.transaction((c) => storeEvents(c, events, [letter], v.options));
    t.like(r1, { stored: 2, duplicates: 0, rejected: 2 });
    const r2 = await db.transaction((c) => storeEvents(c, [], [letter], v.options));
    t.is(r2.rejected, 1);
    const { rows } = await db.query<{
      idempotency_key: string;
      reason_code: string;
      payload: Buffer;
      kafka_offset: number;
    }>(
      'SELECT idempotency_key, reason_code, payload, kafka_offset FROM dead_letters ORDER BY idempotency_key',
    );
    // the unstorable event is keyed by its bytes, as any pushed bad event is, not by its id
    t.deepEqual(
      rows.map((r) => r.reason_code),
      [UNSTORABLE_CODE, 'EVENT_INVALID_JSON'],
    );
    t.regex(rows[0]!.idempotency_key, /^http:[0-9a-f]{64}$/);
    t.is(rows[1]?.idempotency_key, 't:0:5');
    t.deepEqual(rows[1]?.payload, letter.payload);
    t.is(rows[1]?.kafka_offset, 5);
    t.deepEqual(
      (await storedRows(db)).map((r) => r.idempotency_key),
      ['good-1', 'good-2'],
    );
  });

  v.register(`${v.name}: a lone surrogate in data is a dead letter, a paired one is stored`, async (t) => {
    const { db } = await open(t);
    const events = [
      makeEvent('lone', { data: { s: 'x\ud800y' } }),
      makeEvent('pair', { data: { s: '\ud83d\ude00', t: 'a\\u0000b' } }),
    ];
    const r = await db.transaction((c) => storeEvents(c, events, [], v.options));
    t.like(r, { stored: 1, duplicates: 0, rejected: 1 });
    t.deepEqual((await storedRows(db))[0]?.data, { s: '😀', t: 'a\\u0000b' });
  });

  v.register(
    `${v.name}: an id known with other content is a conflicting duplicate; the first stays`,
    async (t) => {
      const { db } = await open(t);
      const withId = (id: string, data: Record<string, unknown>, extra: Partial<IngestEvent> = {}) =>
        makeEvent(`id:${id}`, { id, data, ...extra });
      await db.transaction((c) => storeEvents(c, [withId('a', { cost_usd: 1 })], [], v.options));
      const r = await db.transaction((c) =>
        storeEvents(
          c,
          [
            withId('a', { cost_usd: 1.0 }), // the same event (1 and 1.0 are one number)
            withId('a', { cost_usd: 2 }), // a repeat in the batch, other content
            withId('b', { cost_usd: 3 }),
            withId('b', { cost_usd: 3 }, { source: 'api-2' }), // its first is this batch's own row
            withId('c', { cost_usd: 4 }, { timestamp: '2026-11-28T10:16:00Z', timestampSource: 'received' }),
          ],
          [],
          v.options,
        ),
      );
      t.like(r, { stored: 2, duplicates: 3, conflictingDuplicates: 2, rejected: 0 });
      t.deepEqual(
        r.conflicts.map((l) => [l.reasonCode, l.idempotencyKey.split(':').slice(0, 2).join(':')]).sort(),
        [
          ['EVENT_CONFLICTING_DUPLICATE', 'conflict:a'],
          ['EVENT_CONFLICTING_DUPLICATE', 'conflict:b'],
        ],
      );
      const kept = await storedRows(db);
      t.deepEqual(
        kept.map((row) => [row.idempotency_key, row.data, row.source]),
        [
          ['id:a', { cost_usd: 1 }, 'api-1'],
          ['id:b', { cost_usd: 3 }, 'api-1'],
          ['id:c', { cost_usd: 4 }, 'api-1'],
        ],
      );
      const { rows } = await db.query<{ payload: Buffer }>(
        'SELECT payload FROM dead_letters ORDER BY idempotency_key',
      );
      t.deepEqual(
        rows
          .map(
            (l) =>
              JSON.parse(l.payload.toString()) as { kept: { data: unknown }; conflicting: { data: unknown } },
          )
          .map((p) => [p.kept.data, p.conflicting.data]),
        [
          [{ cost_usd: 1 }, { cost_usd: 2 }],
          [{ cost_usd: 3 }, { cost_usd: 3 }],
        ],
      );
    },
  );
}

pg('pg: a large batch with known keys falls back from COPY to claiming key by key, exactly', async (t) => {
  const { db, drop } = await freshPgDatabase();
  t.teardown(drop);
  const ids = Array.from({ length: 500 }, (_, i) => `e${i}`);
  const events = (list: string[]) => list.map((id) => makeEvent(`id:${id}`, { id, data: { id } }));
  const first = await db.transaction((c) =>
    storeEvents(c, events(ids.slice(100, 110)), [], { method: 'copy' }),
  );
  t.like(first, { stored: 10 });
  const all = await db.transaction((c) => storeEvents(c, events(ids), [], { method: 'copy' }));
  t.like(all, { stored: 490, duplicates: 10, conflictingDuplicates: 0 });
  t.is(await countOf(db, 'SELECT count(*) AS n FROM event_keys'), 500);
  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), 500);
  const again = await db.transaction((c) => storeEvents(c, events(ids), [], { method: 'copy' }));
  t.like(again, { stored: 0, duplicates: 500 });
});

pg('pg: concurrent stores of one new day create its partition once and all succeed', async (t) => {
  const { db, drop } = await freshPgDatabase({ poolSize: 8 });
  t.teardown(drop);
  const day = '2027-01-15';
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      db.transaction((c) =>
        storeEvents(
          c,
          [
            makeEvent(`c${i}`, { timestamp: `${day}T0${i}:00:00Z` }),
            makeEvent(`d${i}`, { timestamp: `2027-01-1${6 + (i % 2)}T00:00:00Z` }),
          ],
          [],
          { method: i % 2 === 0 ? 'copy' : 'insert' },
        ),
      ),
    ),
  );
  t.is(
    results.reduce((n, r) => n + r.stored, 0),
    16,
  );
  t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events_20270115'), 8);
  t.is(
    await countOf(db, "SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'raw_events'::regclass"),
    3,
  );
});

pg(
  'pg: concurrent stores of overlapping keys in any order store each key once, without deadlock',
  async (t) => {
    const { db, drop } = await freshPgDatabase({ poolSize: 6 });
    t.teardown(drop);
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    const shuffled = (seed: number) =>
      [...keys].sort(
        (a, b) => ((a.charCodeAt(1) * seed + a.length) % 7) - ((b.charCodeAt(1) * seed + b.length) % 7),
      );
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        db.transaction((c) =>
          storeEvents(
            c,
            shuffled(i + 1).map((k) => makeEvent(k, { data: { k, padding: 'x'.repeat(1200) } })),
            [],
            { method: i % 2 === 0 ? 'copy' : 'insert' },
          ),
        ),
      ),
    );
    t.is(
      results.reduce((n, r) => n + r.stored, 0),
      keys.length,
    );
    t.is(
      results.reduce((n, r) => n + r.duplicates, 0),
      keys.length * 5,
    );
    t.is(await countOf(db, 'SELECT count(*) AS n FROM raw_events'), keys.length);
    t.is(await countOf(db, "SELECT count(DISTINCT data->>'k') AS n FROM raw_events"), keys.length);
  },
);
