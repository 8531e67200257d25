// The embedded PGlite: one connection, queued callers, nested-call detection, persistence.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadMigrations, migrate, openDatabase } from '../../shared/db/index.ts';
import { BatchError } from '../../shared/errors/index.ts';
import { LOCK_FILE } from '../../shared/db/data-dir-lock.ts';
import { freshEmbeddedDatabase } from '../helpers/db.ts';

test('a failed query keeps the one connection: the next query runs (regression: it was refused)', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase({ migrate: false });
  t.teardown(drop);
  const division = await t.throwsAsync(db.query('SELECT 1/0'));
  t.is((division as { code?: string }).code, '22012');
  t.deepEqual((await db.query<{ x: number }>('SELECT 1 AS x')).rows, [{ x: 1 }]);
  await t.throwsAsync(db.query('SELECT $1::int', ['not a number']));
  t.deepEqual((await db.query<{ x: number }>('SELECT 2 AS x')).rows, [{ x: 2 }]);
});

test('transaction commits on success and rolls back on error', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase({ migrate: false });
  t.teardown(drop);
  t.true(db.embedded);
  await db.query('CREATE TABLE items (name text PRIMARY KEY)');
  const value = await db.transaction(async (c) => {
    await c.query("INSERT INTO items VALUES ('kept')");
    return 42;
  });
  t.is(value, 42);
  await t.throwsAsync(
    db.transaction(async (c) => {
      await c.query("INSERT INTO items VALUES ('dropped')");
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  // A failing statement inside the transaction rolls back the earlier ones too.
  await t.throwsAsync(
    db.transaction(async (c) => {
      await c.query("INSERT INTO items VALUES ('also dropped')");
      await c.query("INSERT INTO items VALUES ('kept')");
    }),
    { message: /duplicate key/ },
  );
  const { rows } = await db.query<{ name: string }>('SELECT name FROM items ORDER BY name');
  t.deepEqual(
    rows.map((r) => r.name),
    ['kept'],
  );
});

test('concurrent callers are served one at a time: no lost updates, no interleaved transactions', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase({ migrate: false });
  t.teardown(drop);
  await db.query('CREATE TABLE counter (n integer NOT NULL)');
  await db.query('INSERT INTO counter VALUES (0)');
  const callers = 20;
  await Promise.all(
    Array.from({ length: callers }, async (_, i) => {
      // Read-modify-write with a pause: interleaving inside one session would lose updates.
      await db.transaction(async (c) => {
        const { rows } = await c.query<{ n: number }>('SELECT n FROM counter');
        await c.query('SELECT pg_sleep(0.002)');
        await c.query('UPDATE counter SET n = $1', [(rows[0]?.n ?? 0) + 1]);
      });
      // Plain queries queue between the transactions.
      await db.query('SELECT $1::int AS i', [i]);
    }),
  );
  const { rows } = await db.query<{ n: number }>('SELECT n FROM counter');
  t.is(rows[0]?.n, callers);
});

test('a db call nested inside withClient/transaction fails at once instead of deadlocking', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase({ migrate: false });
  t.teardown(drop);
  await db.query('CREATE TABLE t (x int)');
  const nestedQuery = await t.throwsAsync(
    db.withClient(() => db.query('SELECT 1')),
    { instanceOf: BatchError },
  );
  t.is(nestedQuery.code, 'DB_EMBEDDED_NESTED_CONNECTION');
  t.regex(nestedQuery.message, /db\.query\(\).*use|client passed to your callback/);

  const nestedTx = await t.throwsAsync(
    db.transaction(async (c) => {
      await c.query('INSERT INTO t VALUES (1)');
      await db.transaction(async () => undefined);
    }),
    { instanceOf: BatchError },
  );
  t.is(nestedTx.code, 'DB_EMBEDDED_NESTED_CONNECTION');
  t.is(nestedTx.context.call, 'withClient');
  // The outer transaction rolled back and the connection is free again.
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
  t.is(rows[0]?.n, 0);
  // Work started after the callback finished is not nested.
  let later: Promise<unknown> | undefined;
  await db.withClient(async () => {
    later = new Promise((resolve) => setTimeout(resolve, 5)).then(() => db.query('SELECT 1 AS one'));
  });
  t.like(await later, { rows: [{ one: 1 }] });
});

test('migrations on PGlite: twice in a row is a no-op with the same table set', async (t) => {
  const db = await openDatabase({});
  t.teardown(() => db.close());
  const infos: string[] = [];
  const logger = { info: (_o: object, msg?: string) => void infos.push(msg ?? '') };
  const first = await migrate(db, { logger });
  t.deepEqual(
    first,
    (await loadMigrations()).map((m) => m.version),
  );
  t.true(infos.some((m) => m.includes('000001_initial.sql')));
  const relations = async () =>
    (
      await db.query<{ name: string }>(
        `SELECT relname || ':' || relkind::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE nspname = 'public' ORDER BY 1`,
      )
    ).rows.map((r) => r.name);
  const before = await relations();
  t.true(before.includes('raw_events:p'));
  t.true(before.includes('daily_aggregations:v'));
  t.deepEqual(await migrate(db, { logger }), []);
  t.deepEqual(await relations(), before);
  t.is(infos.at(-1), 'schema is up to date');
});

test('ensure_raw_partition on PGlite creates the day once', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  const calls = await Promise.all(
    [1, 2, 3].map(() => db.query<{ p: string }>("SELECT ensure_raw_partition('2026-11-28') AS p")),
  );
  t.deepEqual(
    calls.map((r) => r.rows[0]?.p),
    ['raw_events_20261128', 'raw_events_20261128', 'raw_events_20261128'],
  );
  const { rows } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'raw_events'::regclass",
  );
  t.is(rows[0]?.n, 1);
});

test('a data folder keeps the embedded database across restarts and is locked while open', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hxp-pglite-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'nested', 'pglite');
  const versions = (await loadMigrations()).map((m) => m.version);
  const first = await openDatabase({ embeddedDataDir: dataDir });
  t.teardown(() => first.close());
  t.deepEqual(await migrate(first), versions);
  await first.query("INSERT INTO runs (job, trigger, status) VALUES ('persist', 'test', 'succeeded')");
  // PGlite does not guard its folder; a second opener would corrupt it, so it is refused.
  const refused = await t.throwsAsync(openDatabase({ embeddedDataDir: dataDir }), { instanceOf: BatchError });
  t.is(refused.code, 'DB_CONNECT_FAILED');
  t.regex(
    refused.message,
    new RegExp(`folder ${dataDir.replaceAll('/', '\\/')} is in use by process ${process.pid}`),
  );
  await first.close();
  // A lock left behind by a process that is gone is taken over.
  const gone = spawnSync(process.execPath, ['-e', '0']).pid;
  await writeFile(join(dataDir, LOCK_FILE), String(gone));

  const second = await openDatabase({ embeddedDataDir: dataDir });
  t.teardown(() => second.close());
  t.deepEqual(await migrate(second), []);
  const { rows } = await second.query<{ job: string }>('SELECT job FROM runs');
  t.deepEqual(rows, [{ job: 'persist' }]);
});
