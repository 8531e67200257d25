// Measurement 1b, the ceiling of ingest: PostgreSQL's own COPY of exactly the rows the ingester stored.
// The raw_events rows are written to a file (untimed), then `psql \copy` loads that file into a table of
// raw_events' shape — same columns, same daily partitions, same ts index — and only that load is timed.
import { spawn } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Database } from '../shared/db/index.ts';
import { statCpuMs } from './backend-cpu.ts';

const COLUMNS =
  'ts, event_type, source, idempotency_key, metric_names, metric_values, dimension_names, dimension_values, data, ingested_at';
const TARGET = 'bench_copy_target';

export interface CopyMeasurement {
  rows: number;
  fileBytes: number;
  ms: number;
  rowsPerSec: number;
  /** CPU time of the COPY's PostgreSQL backend (from /proc; 0 when PostgreSQL runs elsewhere). */
  backendCpuMs: number;
}

/** Runs `script` (SQL and psql meta-commands, one per line) with psql; resolves to its stdout. */
function psql(url: string, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(script + '\n');
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('error', (e) =>
      reject(
        new Error(
          `cannot run psql (${e.message}); install the PostgreSQL client (apt-get install postgresql-client)`,
        ),
      ),
    );
    child.once('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`psql ${JSON.stringify(script)} failed (${code}): ${err.trim()}`)),
    );
  });
}

/** A partitioned table shaped like raw_events, with a copy of each of its daily partitions. */
async function createTarget(db: Database): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${TARGET}`);
  await db.query(
    `CREATE TABLE ${TARGET} (LIKE raw_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (ts)`,
  );
  await db.query(`CREATE INDEX ${TARGET}_ts_idx ON ${TARGET} (ts)`);
  const { rows } = await db.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'raw_events'::regclass ORDER BY 1`,
  );
  for (const { name, bound } of rows) {
    await db.query(`CREATE TABLE bench_copy_${name} PARTITION OF ${TARGET} ${bound}`);
  }
}

export async function measureCopyCeiling(
  db: Database,
  databaseUrl: string,
  label: string,
): Promise<CopyMeasurement> {
  const file = join(tmpdir(), `hxp-bench-${label}-${process.pid}.copy`);
  try {
    await psql(databaseUrl, `\\copy (SELECT ${COLUMNS} FROM raw_events) TO '${file}'`);
    const fileBytes = (await stat(file)).size;
    await createTarget(db);
    const started = performance.now();
    // …and then the CPU time its backend spent, read by the backend's own session before it ends
    const out = await psql(
      databaseUrl,
      [
        `\\copy ${TARGET} (${COLUMNS}) FROM '${file}'`,
        'SELECT pg_backend_pid() AS bench_backend \\gset',
        '\\setenv BENCH_BACKEND :bench_backend',
        '\\! cat /proc/$BENCH_BACKEND/stat 2>/dev/null || true',
      ].join('\n'),
    );
    const ms = performance.now() - started;
    const backendCpuMs = out.includes(')') ? statCpuMs(out) : 0;
    const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${TARGET}`);
    const n = Number(rows[0]?.n ?? 0);
    return { rows: n, fileBytes, ms, rowsPerSec: n / (ms / 1000), backendCpuMs };
  } finally {
    await rm(file, { force: true });
    // The scratch table lives in the benchmark's own database, which is dropped after the run anyway.
    await db.query(`DROP TABLE IF EXISTS ${TARGET}`).catch(() => undefined);
  }
}
