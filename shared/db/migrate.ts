import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchError } from '../errors/index.ts';
import { errorCode } from './errors.ts';
import { inTransaction, markUnusable } from './transaction.ts';
import type { Database, DbLogger } from './types.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// One lock id for every migrator of this schema, so two processes starting at once apply each file once.
const MIGRATION_LOCK = 0x6878_7001;
const FILE_NAME = /^(\d{6})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  /** The file name, e.g. 000001_initial.sql. */
  file: string;
  sql: string;
  checksum: string;
}

export interface MigrateOptions {
  /** Defaults to the files of MIGRATIONS_DIR. */
  migrations?: Migration[];
  /** Told about every migration applied (info). */
  logger?: DbLogger;
}

function migrationError(message: string, context: Record<string, unknown>, cause?: unknown): BatchError {
  return new BatchError('DB_MIGRATION_FAILED', message, { context, cause });
}

/** Reads `NNNNNN_name.sql` files in version order; refuses stray .sql names and two files with one number. */
export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const byVersion = new Map<number, string>();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match) {
      throw migrationError(
        `migration file ${file} in ${dir} is not named NNNNNN_lower_snake_name.sql (e.g. 000002_add_reports_index.sql); rename it`,
        { file, dir },
      );
    }
    const version = Number(match[1]);
    const other = byVersion.get(version);
    if (other !== undefined) {
      throw migrationError(
        `migration files ${other} and ${file} share version ${version}; renumber the newer one to the next free number`,
        { file, other, version },
      );
    }
    byVersion.set(version, file);
    const sql = await readFile(join(dir, file), 'utf8');
    migrations.push({
      version,
      name: match[2] ?? '',
      file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  return migrations;
}

/**
 * Applies the migrations not yet recorded in schema_migrations, in version order, each in its own
 * transaction, under a session advisory lock (so concurrent migrators apply each file once). Returns the
 * versions applied; running it again returns []. Throws BatchError DB_MIGRATION_FAILED when a migration
 * fails (it is rolled back, the earlier ones stay) or when an applied file was edited since.
 */
export async function migrate(db: Database, options: MigrateOptions = {}): Promise<number[]> {
  const all = options.migrations ?? (await loadMigrations());
  const { logger } = options;
  return db.withClient(async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM schema_migrations',
      );
      const applied = new Map(rows.map((r) => [r.version, r.checksum]));
      for (const m of all) {
        const seen = applied.get(m.version);
        if (seen !== undefined && seen !== m.checksum) {
          throw migrationError(
            `migration ${m.file} was edited after it was applied (checksum ${seen.slice(0, 12)}… applied, ` +
              `${m.checksum.slice(0, 12)}… on disk); restore the file and add a new migration instead`,
            { file: m.file, version: m.version, applied: seen, onDisk: m.checksum },
          );
        }
      }
      const done: number[] = [];
      for (const m of all) {
        if (applied.has(m.version)) continue;
        const started = Date.now();
        try {
          await inTransaction(client, async (tx) => {
            await tx.query(m.sql);
            await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
              m.version,
              m.name,
              m.checksum,
            ]);
          });
        } catch (err) {
          const code = errorCode(err);
          const detail = err instanceof Error ? err.message : String(err);
          throw migrationError(
            `migration ${m.file} failed and was rolled back${code ? ` (SQLSTATE ${code})` : ''}: ${detail}`,
            { file: m.file, version: m.version, sqlstate: code, appliedBefore: done },
            err,
          );
        }
        logger?.info(
          { version: m.version, file: m.file, ms: Date.now() - started },
          `applied migration ${m.file}`,
        );
        done.push(m.version);
      }
      if (done.length === 0) logger?.info({ latest: all.at(-1)?.version ?? null }, 'schema is up to date');
      return done;
    } finally {
      // The migration's own error (if any) is the one to report; a lock that could not be released must
      // not travel on with the connection, so the connection is dropped (which releases it).
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => markUnusable(client));
    }
  });
}
