// Per-test databases, both migrated to the latest schema.
//   const { db, drop } = await freshPgDatabase();   t.teardown(drop);   // real PostgreSQL (serviceTest('postgres'))
//   const { db, drop } = await freshEmbeddedDatabase(); t.teardown(drop); // in-memory PGlite
// drop() closes the pool and removes the database; calling it twice is harmless.
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  dropDatabaseForce,
  loadMigrations,
  migrate,
  openDatabase,
  openEmbeddedDatabase,
  type Database,
} from '../../shared/db/index.ts';

export interface FreshDatabase {
  /** postgres:// URL of the new database (with TEST_DATABASE_URL's credentials); undefined for PGlite. */
  url: string | undefined;
  db: Database;
  drop(): Promise<void>;
}

export interface FreshOptions {
  /** Apply the migrations (default true). */
  migrate?: boolean;
  /** Pool size for the real PostgreSQL (default 5). */
  poolSize?: number;
}

/** The server's URL from TEST_DATABASE_URL; throws with the fix when it is not set. */
export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'TEST_DATABASE_URL is not set; run `bash scripts/services up` and `eval "$(bash scripts/services env)"`, ' +
        "and register the test with serviceTest('postgres')",
    );
  }
  return url;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates `hxp_t_<random>` on TEST_DATABASE_URL's server, opens a pool on it, and migrates it. */
export async function freshPgDatabase(options: FreshOptions = {}): Promise<FreshDatabase & { url: string }> {
  const name = `hxp_t_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const target = new URL(testDatabaseUrl());
  target.pathname = `/${name}`;
  const url = target.toString();
  let db: Database | undefined;
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await db?.close();
    await dropDatabaseForce((sql) => admin((c) => c.query(sql)), name);
  };
  try {
    db = await openDatabase({ url, poolSize: options.poolSize ?? 5 });
    if (options.migrate !== false) await migrate(db);
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
  return { url, db, drop };
}

// A PGlite initdb costs seconds; loading a dumped data folder costs a fraction. The first fresh embedded
// database of a schema version is built once and dumped to the OS temp folder (keyed by the migration
// checksums, so a new or changed migration builds a new one); later ones, in any test process, load it.
const TEMPLATE_PREFIX = 'hxp-pglite-template-';
const templates = new Map<string, Promise<Blob>>();

async function templateKey(migrated: boolean): Promise<string> {
  const migrations = migrated ? await loadMigrations() : [];
  const pglite = await readFile(
    new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url),
    'utf8',
  )
    .then((text) => (JSON.parse(text) as { version?: string }).version)
    .catch(() => 'unknown');
  return createHash('sha256')
    .update([`pglite ${pglite}`, ...migrations.map((m) => `${m.file}:${m.checksum}`)].join('\n'))
    .digest('hex')
    .slice(0, 16);
}

async function embeddedTemplate(migrated: boolean): Promise<Blob> {
  const key = await templateKey(migrated);
  let template = templates.get(key);
  if (!template) {
    template = buildTemplate(key, migrated);
    templates.set(key, template);
    template.catch(() => templates.delete(key));
  }
  return template;
}

async function buildTemplate(key: string, migrated: boolean): Promise<Blob> {
  const file = join(tmpdir(), `${TEMPLATE_PREFIX}${key}.tar`);
  try {
    return new Blob([await readFile(file)]);
  } catch {
    // not built yet
  }
  const db = await openEmbeddedDatabase();
  let dump: Blob;
  try {
    if (migrated) await migrate(db);
    dump = await db.dump();
  } finally {
    await db.close();
  }
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  await rename(partial, file); // atomic: a concurrent reader sees no file or a whole one
  await pruneTemplates().catch(() => undefined);
  return dump;
}

/** Removes templates of other schema versions (each is ~40 MB). */
async function pruneTemplates(): Promise<void> {
  const keep = new Set([await templateKey(true), await templateKey(false)]);
  for (const f of await readdir(tmpdir())) {
    if (!f.startsWith(TEMPLATE_PREFIX) || !f.endsWith('.tar')) continue;
    if (!keep.has(f.slice(TEMPLATE_PREFIX.length, -'.tar'.length)))
      await rm(join(tmpdir(), f), { force: true });
  }
}

/**
 * An in-memory PGlite served over a loopback socket (one connection at a time), migrated unless
 * `migrate: false`. Starts from a cached template, so it takes about a second instead of ten.
 */
export async function freshEmbeddedDatabase(
  options: Pick<FreshOptions, 'migrate'> = {},
): Promise<FreshDatabase> {
  const db = await openEmbeddedDatabase({ loadDataDir: await embeddedTemplate(options.migrate !== false) });
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await db.close();
  };
  return { url: undefined, db, drop };
}
