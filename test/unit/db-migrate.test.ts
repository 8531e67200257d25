// migrate() and loadMigrations() on PGlite with throwaway migration folders.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadMigrations, migrate, type Database } from '../../shared/db/index.ts';
import { BatchError } from '../../shared/errors/index.ts';
import { freshEmbeddedDatabase } from '../helpers/db.ts';

async function folder(
  t: { teardown(fn: () => Promise<void>): void },
  files: Record<string, string>,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hxp-migrations-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(files)) await writeFile(join(dir, name), sql);
  return dir;
}

async function tables(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
  );
  return rows.map((r) => r.name);
}

async function appliedVersions(db: Database): Promise<number[]> {
  const { rows } = await db.query<{ version: number }>(
    'SELECT version FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => r.version);
}

test('loadMigrations orders files by version and checksums their text', async (t) => {
  const dir = await folder(t, {
    '000002_second.sql': 'SELECT 2;',
    '000001_first.sql': 'SELECT 1;',
    'README.md': 'not a migration',
  });
  const migrations = await loadMigrations(dir);
  t.deepEqual(
    migrations.map((m) => [m.version, m.name, m.file]),
    [
      [1, 'first', '000001_first.sql'],
      [2, 'second', '000002_second.sql'],
    ],
  );
  t.regex(migrations[0]?.checksum ?? '', /^[0-9a-f]{64}$/);
  t.not(migrations[0]?.checksum, migrations[1]?.checksum);
});

test('loadMigrations refuses two files with one version, naming both', async (t) => {
  const dir = await folder(t, { '000002_a.sql': 'SELECT 1;', '000002_b.sql': 'SELECT 2;' });
  const err = await t.throwsAsync(loadMigrations(dir), { instanceOf: BatchError });
  t.is(err.code, 'DB_MIGRATION_FAILED');
  t.regex(err.message, /000002_a\.sql and 000002_b\.sql share version 2/);
});

test('loadMigrations refuses a badly named .sql file', async (t) => {
  const dir = await folder(t, { '000001_ok.sql': 'SELECT 1;', '2-Add-Thing.sql': 'SELECT 2;' });
  const err = await t.throwsAsync(loadMigrations(dir), { instanceOf: BatchError });
  t.is(err.code, 'DB_MIGRATION_FAILED');
  t.regex(err.message, /2-Add-Thing\.sql .*NNNNNN_lower_snake_name\.sql/);
});

test('a failing migration rolls back fully, names the file, and stops the ones after it', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase({ migrate: false });
  t.teardown(drop);
  const files = {
    '000001_good.sql': 'CREATE TABLE good (id int);',
    '000002_bad.sql': 'CREATE TABLE half (id int);\nCREATE INDEX half_idx ON half (id);\nSELECT 1 / 0;',
    '000003_after.sql': 'CREATE TABLE after_bad (id int);',
  };
  const dir = await folder(t, files);
  const err = await t.throwsAsync(migrate(db, { migrations: await loadMigrations(dir) }), {
    instanceOf: BatchError,
  });
  t.is(err.code, 'DB_MIGRATION_FAILED');
  t.regex(
    err.message,
    /migration 000002_bad\.sql failed and was rolled back \(SQLSTATE 22012\): division by zero/,
  );
  t.like(err.context, { file: '000002_bad.sql', version: 2, sqlstate: '22012', appliedBefore: [1] });
  t.deepEqual(await tables(db), ['good', 'schema_migrations']);
  t.deepEqual(await appliedVersions(db), [1]);
  const { rows } = await db.query("SELECT 1 FROM pg_class WHERE relname IN ('half', 'half_idx')");
  t.is(rows.length, 0);

  // A migration that never applied may be fixed in place; the run resumes where it stopped.
  await writeFile(join(dir, '000002_bad.sql'), 'CREATE TABLE half (id int);');
  t.deepEqual(await migrate(db, { migrations: await loadMigrations(dir) }), [2, 3]);
  t.deepEqual(await tables(db), ['after_bad', 'good', 'half', 'schema_migrations']);
});

test('an applied migration that was edited is refused before anything else is applied', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase({ migrate: false });
  t.teardown(drop);
  const dir = await folder(t, { '000001_first.sql': 'CREATE TABLE first (id int);' });
  t.deepEqual(await migrate(db, { migrations: await loadMigrations(dir) }), [1]);

  await writeFile(join(dir, '000001_first.sql'), 'CREATE TABLE first (id bigint);');
  await writeFile(join(dir, '000002_second.sql'), 'CREATE TABLE second (id int);');
  const err = await t.throwsAsync(migrate(db, { migrations: await loadMigrations(dir) }), {
    instanceOf: BatchError,
  });
  t.is(err.code, 'DB_MIGRATION_FAILED');
  t.regex(err.message, /migration 000001_first\.sql was edited after it was applied/);
  t.regex(err.message, /add a new migration instead/);
  t.is(err.context.file, '000001_first.sql');
  t.deepEqual(await appliedVersions(db), [1]);
  t.deepEqual(await tables(db), ['first', 'schema_migrations']);
});

test('migrate logs each applied file and returns nothing the second time', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase({ migrate: false });
  t.teardown(drop);
  const dir = await folder(t, {
    '000001_a.sql': 'CREATE TABLE a (id int);',
    '000002_b.sql': 'CREATE TABLE b (id int);',
  });
  const logged: Array<[object, string | undefined]> = [];
  const logger = { info: (obj: object, msg?: string) => void logged.push([obj, msg]) };
  const migrations = await loadMigrations(dir);
  t.deepEqual(await migrate(db, { migrations, logger }), [1, 2]);
  t.deepEqual(
    logged.map(([, msg]) => msg),
    ['applied migration 000001_a.sql', 'applied migration 000002_b.sql'],
  );
  t.like(logged[0]?.[0], { version: 1, file: '000001_a.sql' });
  t.deepEqual(await migrate(db, { migrations, logger }), []);
  t.is(logged.at(-1)?.[1], 'schema is up to date');
  t.deepEqual(await appliedVersions(db), [1, 2]);
});
