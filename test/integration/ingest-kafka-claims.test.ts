// Kafka records claimed as offset ranges (kafka_record_claims): what counts as known, how runs are stored,
// concurrent claimers of one partition, and migration 000004 moving old Kafka keys out of event_keys.
import test, { type ExecutionContext } from 'ava';
import type { Database } from '../../shared/db/index.ts';
import { loadMigrations, migrate } from '../../shared/db/index.ts';
import { claimKafkaOffsets } from '../../shared/ingest/kafka-claims-sql.ts';
import { freshEmbeddedDatabase, freshPgDatabase, type FreshDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';

const pg = serviceTest('postgres');
const backends: { name: string; open: () => Promise<FreshDatabase>; register: typeof test }[] = [
  { name: 'pglite', open: () => freshEmbeddedDatabase(), register: test },
  { name: 'pg', open: () => freshPgDatabase(), register: pg as typeof test },
];

const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => String(from + i));

async function open(t: ExecutionContext, backend: () => Promise<FreshDatabase>): Promise<Database> {
  const fresh = await backend();
  t.teardown(() => fresh.drop());
  return fresh.db;
}

async function claim(db: Database, topic: string, partition: number, offsets: string[]): Promise<string[]> {
  const known = await db.transaction((c) => claimKafkaOffsets(c, topic, partition, offsets));
  return [...known].sort((a, b) => Number(a) - Number(b));
}

async function ranges(db: Database): Promise<[string, number, number, number][]> {
  const { rows } = await db.query<{
    topic: string;
    partition: number;
    first_offset: string;
    end_offset: string;
  }>('SELECT topic, partition, first_offset, end_offset FROM kafka_record_claims ORDER BY 1, 2, 3');
  return rows.map((r) => [r.topic, r.partition, Number(r.first_offset), Number(r.end_offset)]);
}

for (const backend of backends) {
  backend.register(
    `${backend.name}: a batch is one range; an overlapping batch gets back only the known offsets`,
    async (t) => {
      const db = await open(t, backend.open);
      t.deepEqual(await claim(db, 'raw', 0, range(0, 10)), []);
      t.deepEqual(await claim(db, 'raw', 0, range(5, 15)), range(5, 10));
      t.deepEqual(
        await claim(db, 'raw', 0, range(0, 15)),
        range(0, 15),
        'everything is known the third time',
      );
      t.deepEqual(await ranges(db), [
        ['raw', 0, 0, 10],
        ['raw', 0, 10, 15],
      ]);
    },
  );

  backend.register(
    `${backend.name}: offsets left out of a batch stay unclaimed; partitions and topics are apart`,
    async (t) => {
      const db = await open(t, backend.open);
      t.deepEqual(await claim(db, 'raw', 0, ['0', '1', '2', '4', '5', '9']), []);
      t.deepEqual(await ranges(db), [
        ['raw', 0, 0, 3],
        ['raw', 0, 4, 6],
        ['raw', 0, 9, 10],
      ]);
      t.deepEqual(await claim(db, 'raw', 0, ['3', '6', '7', '8']), [], 'the gaps were never claimed');
      t.deepEqual(await claim(db, 'raw', 1, range(0, 10)), [], 'another partition');
      t.deepEqual(await claim(db, 'raw.b', 0, range(0, 10)), [], 'another topic');
      t.deepEqual(await claim(db, 'raw', 0, range(0, 10)), range(0, 10));
      t.deepEqual(await claim(db, 'raw', 0, ['9223372036854775806']), [], 'the largest offsets fit');
    },
  );

  backend.register(`${backend.name}: a rolled-back claim claims nothing`, async (t) => {
    const db = await open(t, backend.open);
    await t.throwsAsync(
      db.transaction(async (c) => {
        await claimKafkaOffsets(c, 'raw', 0, range(0, 5));
        throw new Error('crash before commit');
      }),
      { message: 'crash before commit' },
    );
    t.deepEqual(await claim(db, 'raw', 0, range(0, 5)), []);
  });
}

pg(
  'pg: concurrent claimers of one partition wait for each other and split the offsets exactly',
  async (t) => {
    const fresh = await freshPgDatabase({ poolSize: 4 });
    t.teardown(() => fresh.drop());
    const { db } = fresh;
    let releaseFirst: () => void = () => undefined;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstClaimed: () => void = () => undefined;
    const firstHasClaimed = new Promise<void>((resolve) => (firstClaimed = resolve));
    const first = db.transaction(async (c) => {
      const known = await claimKafkaOffsets(c, 'raw', 0, range(0, 100));
      firstClaimed();
      await firstMayCommit;
      return known;
    });
    await firstHasClaimed;
    let secondDone = false;
    const second = db
      .transaction((c) => claimKafkaOffsets(c, 'raw', 0, range(50, 150)))
      .finally(() => (secondDone = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.false(secondDone, 'the second claimer waits for the first to commit');
    releaseFirst();
    t.deepEqual([...(await first)], []);
    t.deepEqual(
      [...(await second)].sort((a, b) => Number(a) - Number(b)),
      range(50, 100),
    );
    const { rows } = await db.query<{ n: string }>(
      'SELECT sum(end_offset - first_offset)::text AS n FROM kafka_record_claims',
    );
    t.is(rows[0]?.n, '150');
  },
);

test('pglite: migration 000004 moves Kafka keys from event_keys into one-offset claims', async (t) => {
  const fresh = await freshEmbeddedDatabase({ migrate: false });
  t.teardown(() => fresh.drop());
  const { db } = fresh;
  const all = await loadMigrations();
  await migrate(db, { migrations: all.filter((m) => m.version < 4) });
  await db.query(
    `INSERT INTO event_keys (idempotency_key, ts) VALUES
       ('hxp.raw-events:3:41', now()), ('hxp.raw-events:3:42', now()), ('other_topic:0:0', now()),
       ('id:7:8', now()), ('id:order-1', now()), ('sha256:0123abcd', now()), ('not:a:key:at:all', now())`,
  );
  await migrate(db, { migrations: all });
  const { rows } = await db.query<{ idempotency_key: string }>(
    'SELECT idempotency_key FROM event_keys ORDER BY 1',
  );
  t.deepEqual(
    rows.map((r) => r.idempotency_key),
    ['id:7:8', 'id:order-1', 'not:a:key:at:all', 'sha256:0123abcd'],
  );
  t.deepEqual(await ranges(db), [
    ['hxp.raw-events', 3, 41, 42],
    ['hxp.raw-events', 3, 42, 43],
    ['other_topic', 0, 0, 1],
  ]);
  t.deepEqual(await claim(db, 'hxp.raw-events', 3, range(40, 44)), ['41', '42']);
});
