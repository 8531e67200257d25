// The database layer on a real PostgreSQL: migrations (repeat, concurrent pools and processes, refusals),
// transactions, concurrent partition creation, connect errors.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadMigrations, migrate, openDatabase, type Database } from '../../shared/db/index.ts';
import { BatchError } from '../../shared/errors/index.ts';
import { freshPgDatabase, testDatabaseUrl } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';

const test = serviceTest('postgres');
const run = promisify(execFile);
const DB_MODULE = fileURLToPath(new URL('../../shared/db/index.ts', import.meta.url));

async function relations(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT relname || ':' || relkind::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE nspname = 'public' ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

async function appliedVersions(db: Database): Promise<number[]> {
  const { rows } = await db.query<{ version: number }>(
    'SELECT version FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => r.version);
}

async function allVersions(): Promise<number[]> {
  return (await loadMigrations()).map((m) => m.version);
}

test('freshPgDatabase creates a migrated hxp_t_ database and drop() removes it', async (t) => {
  const fresh = await freshPgDatabase();
  t.teardown(fresh.drop);
  const name = new URL(fresh.url).pathname.slice(1);
  t.regex(name, /^hxp_t_[0-9a-f]{12}$/);
  t.deepEqual(await appliedVersions(fresh.db), await allVersions());
  const { rows } = await fresh.db.query<{ db: string }>('SELECT current_database() AS db');
  t.is(rows[0]?.db, name);
  await fresh.drop();
  await fresh.drop(); // harmless twice
  const admin = await openDatabase({ url: testDatabaseUrl(), poolSize: 1 });
  t.teardown(() => admin.close());
  const left = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  t.is(left.rows.length, 0);
});

test('migrating twice is a no-op with the same table set', async (t) => {
  const { db, drop } = await freshPgDatabase({ migrate: false });
  t.teardown(drop);
  t.deepEqual(await migrate(db), await allVersions());
  const before = await relations(db);
  t.true(before.includes('raw_events:p'));
  t.true(before.includes('hourly_aggregations:v'));
  t.deepEqual(await migrate(db), []);
  t.deepEqual(await relations(db), before);
});

test('two pools migrating at once apply each version once, without error', async (t) => {
  const { url, drop } = await freshPgDatabase({ migrate: false });
  t.teardown(drop);
  const a = await openDatabase({ url, poolSize: 2 });
  const b = await openDatabase({ url, poolSize: 2 });
  t.teardown(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const [fromA, fromB] = await Promise.all([migrate(a), migrate(b)]);
  t.deepEqual(
    [...fromA, ...fromB].sort((x, y) => x - y),
    await allVersions(),
  );
  t.deepEqual(await appliedVersions(a), await allVersions());
});

test('two processes migrating at once apply each version once, without error', async (t) => {
  const { url, drop } = await freshPgDatabase({ migrate: false });
  t.teardown(drop);
  const script = `
    const { openDatabase, migrate } = await import(process.argv[1]);
    const db = await openDatabase({ url: process.argv[2], poolSize: 1 });
    try { console.log(JSON.stringify(await migrate(db))); } finally { await db.close(); }`;
  const child = () =>
    run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, DB_MODULE, url], {
      timeout: 90_000,
    });
  const outputs = await Promise.all([child(), child()]);
  const applied = outputs.flatMap((o) => JSON.parse(o.stdout.trim()) as number[]).sort((x, y) => x - y);
  t.deepEqual(applied, await allVersions());
  const db = await openDatabase({ url, poolSize: 1 });
  t.teardown(() => db.close());
  t.deepEqual(await appliedVersions(db), await allVersions());
});

test('an edited migration is refused and a failing one leaves no trace', async (t) => {
  const { db, drop } = await freshPgDatabase({ migrate: false });
  t.teardown(drop);
  const dir = await mkdtemp(join(tmpdir(), 'hxp-migrations-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, '000001_first.sql'), 'CREATE TABLE first (id int);');
  t.deepEqual(await migrate(db, { migrations: await loadMigrations(dir) }), [1]);

  await writeFile(
    join(dir, '000002_bad.sql'),
    'CREATE TABLE half (id int);\nINSERT INTO nowhere VALUES (1);',
  );
  const failed = await t.throwsAsync(migrate(db, { migrations: await loadMigrations(dir) }), {
    instanceOf: BatchError,
  });
  t.is(failed.code, 'DB_MIGRATION_FAILED');
  t.regex(failed.message, /000002_bad\.sql failed and was rolled back \(SQLSTATE 42P01\)/);
  t.is((await db.query("SELECT to_regclass('half') AS r")).rows[0]?.r, null);
  t.deepEqual(await appliedVersions(db), [1]);

  await writeFile(join(dir, '000001_first.sql'), 'CREATE TABLE first (id int); -- edited');
  const edited = await t.throwsAsync(migrate(db, { migrations: await loadMigrations(dir) }), {
    instanceOf: BatchError,
  });
  t.is(edited.code, 'DB_MIGRATION_FAILED');
  t.regex(edited.message, /000001_first\.sql was edited after it was applied/);
  t.deepEqual(await appliedVersions(db), [1]);
});

test('transaction commits on success and rolls back on error', async (t) => {
  const { db, drop } = await freshPgDatabase({ migrate: false });
  t.teardown(drop);
  t.false(db.embedded);
  await db.query('CREATE TABLE items (name text PRIMARY KEY)');
  t.is(
    await db.transaction(async (c) => {
      await c.query("INSERT INTO items VALUES ('kept')");
      return 'done';
    }),
    'done',
  );
  await t.throwsAsync(
    db.transaction(async (c) => {
      await c.query("INSERT INTO items VALUES ('dropped')");
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  const { rows } = await db.query<{ name: string }>('SELECT name FROM items ORDER BY name');
  t.deepEqual(
    rows.map((r) => r.name),
    ['kept'],
  );
  // On a real server a nested db.query runs on another connection (outside the transaction).
  const seen = await db.transaction(async (c) => {
    await c.query("INSERT INTO items VALUES ('uncommitted')");
    return (await db.query('SELECT count(*)::int AS n FROM items')).rows[0]?.n;
  });
  t.is(seen, 1);
});

test('ensure_raw_partition from several connections at once creates the day once', async (t) => {
  const { url, drop } = await freshPgDatabase({ poolSize: 1 });
  t.teardown(drop);
  const connections = 6;
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  t.teardown(() => Promise.all(clients.map((c) => c.end())).then(() => undefined));
  for (const day of ['2026-11-28', '2026-11-29', '2026-11-30']) {
    const part = `raw_events_${day.replaceAll('-', '')}`;
    const results = await Promise.allSettled(
      clients.map(async (c, i) => {
        await c.query('BEGIN');
        try {
          // Look the table up first, as a writer that checked before calling would.
          await c.query('SELECT to_regclass($1)', [part]);
          const { rows } = await c.query<{ p: string }>('SELECT ensure_raw_partition($1::date) AS p', [day]);
          await c.query('SELECT pg_sleep($1)', [0.01 * (i % 3)]); // hold the lock a little
          await c.query(
            `INSERT INTO raw_events (ts, event_type, source, idempotency_key, metric_names, metric_values,
                                     dimension_names, dimension_values, data)
             VALUES ($1::date + interval '1 hour', 'test', 'conn', $2, '{}', '{}', '{}', '{}', '{}')`,
            [day, `${day}:${i}`],
          );
          await c.query('COMMIT');
          return rows[0]?.p;
        } catch (err) {
          await c.query('ROLLBACK');
          throw err;
        }
      }),
    );
    const failures = results.filter((r) => r.status === 'rejected');
    t.deepEqual(failures, [], `day ${day}`);
    t.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)),
      Array.from({ length: connections }, () => part),
    );
  }
  const check = await openDatabase({ url, poolSize: 1 });
  t.teardown(() => check.close());
  const parts = await check.query<{ name: string }>(
    "SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'raw_events'::regclass ORDER BY 1",
  );
  t.deepEqual(
    parts.rows.map((r) => r.name),
    ['raw_events_20261128', 'raw_events_20261129', 'raw_events_20261130'],
  );
  const counted = await check.query<{ n: number }>('SELECT count(*)::int AS n FROM raw_events');
  t.is(counted.rows[0]?.n, connections * 3);
});

test('a wrong password fails at once with the server named and the password hidden', async (t) => {
  const url = new URL(testDatabaseUrl());
  const password = 'not-the-Right-pw-4711';
  url.password = password;
  const err = await t.throwsAsync(
    openDatabase({ url: url.toString(), connectRetry: { attempts: 5, initialDelayMs: 1000 } }),
    { instanceOf: BatchError },
  );
  t.is(err.code, 'DB_CONNECT_FAILED');
  t.false(err.retriable);
  t.is(err.context.attempts, 1);
  t.is(err.context.causeCode, '28P01');
  t.true(err.message.includes(`${url.hostname}:${url.port || 5432}`));
  t.false(err.message.includes(password));
});

test('a missing database fails at once naming it', async (t) => {
  const url = new URL(testDatabaseUrl());
  url.pathname = '/hxp_t_does_not_exist';
  const err = await t.throwsAsync(openDatabase({ url: url.toString(), connectRetry: { attempts: 5 } }), {
    instanceOf: BatchError,
  });
  t.is(err.context.causeCode, '3D000');
  t.is(err.context.attempts, 1);
  t.regex(err.message, /database "hxp_t_does_not_exist".*does not exist/);
});
