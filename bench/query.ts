// The read-side measurement: GET /aggregates for a month of hourly rows of one metric over all models,
// answered by the status function as deployed (its esbuild bundle run with plain node, on the bench
// database), against the same SELECT through psql. Time is the median of 5 runs after one warm-up
// (every page followed); peak RSS is the function's VmHWM after the runs and psql's maxRSS (/usr/bin/time).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { bundleFunction } from '../templates/node20-ts/bundle.ts';
import type { Span } from './dataset.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 5;
const MONTH_MS = 30 * 86_400_000;

export interface QueryMeasurement {
  query: string;
  rows: number;
  pages: number;
  /** Median over RUNS of the whole JSON answer (every page), and of the CSV answer. */
  jsonMs: number;
  csvMs: number;
  jsonSamples: number[];
  psqlMs: number;
  psqlSamples: number[];
  psqlRows: number;
  functionRssKiB: number;
  psqlRssKiB: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function startFunction(
  dir: string,
  databaseUrl: string,
): Promise<{ port: number; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, [join(dir, 'index.js')], {
    cwd: dir,
    // info: the template's `listening` line is logged at info.
    env: {
      ...process.env,
      PORT: '0',
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'info',
      HXP_FUNCTION_NAME: 'status',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Request lines at info are not wanted on the terminal: read and drop everything after `listening`.
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the status function did not start within 30 s'));
    }, 30_000);
    child.once('exit', (code) =>
      reject(new Error(`the status function exited with ${code} before listening`)),
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && typeof entry.port === 'number') {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve({ port: entry.port, pid: child.pid ?? 0, stop: () => child.kill('SIGTERM') });
        }
      } catch {
        // not a log line
      }
    });
  });
}

async function vmHwmKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
}

/** Every page of the answer; the rows and pages it took. */
async function fetchAll(
  base: string,
  query: URLSearchParams,
  csv: boolean,
): Promise<{ rows: number; pages: number }> {
  let rows = 0;
  let pages = 0;
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams(query);
    if (cursor) params.set('cursor', cursor);
    if (csv) params.set('format', 'csv');
    const res = await fetch(`${base}/aggregates?${params}`);
    if (res.status !== 200) throw new Error(`GET /aggregates answered ${res.status}: ${await res.text()}`);
    pages += 1;
    if (csv) {
      rows += (await res.text()).split('\n').filter((l) => l !== '').length - 1;
      cursor = res.headers.get('x-next-cursor');
    } else {
      const body = (await res.json()) as { row_count: number; next_cursor: string | null };
      rows += body.row_count;
      cursor = body.next_cursor;
    }
  } while (cursor);
  return { rows, pages };
}

function psql(url: string, sql: string): Promise<{ ms: number; rssKiB: number; out: string }> {
  const started = performance.now();
  const child = spawn(
    '/usr/bin/time',
    ['-f', 'maxrss=%M', 'psql', url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`psql exited with ${code}: ${err}`));
      else resolve({ ms, rssKiB: Number(/maxrss=(\d+)/.exec(err)?.[1] ?? 0), out });
    });
  });
}

export async function measureQuery(databaseUrl: string, span: Span): Promise<QueryMeasurement> {
  const from = span.start.toISOString();
  const to = new Date(span.start.getTime() + MONTH_MS).toISOString();
  const query = new URLSearchParams({
    level: 'hour',
    event_type: 'llm_request',
    metric: 'latency_ms',
    dimension: 'model',
    from,
    to,
    limit: '10000',
  });
  const sql =
    `SELECT "timestamp", event_type, metric, dimension, dimension_value, count, sum, min, max, avg, stddev, p50, p95, p99 ` +
    `FROM hourly_aggregations WHERE event_type = 'llm_request' AND metric = 'latency_ms' AND dimension = 'model' ` +
    `AND "timestamp" >= '${from}' AND "timestamp" < '${to}' ORDER BY "timestamp", dimension_value`;
  const dir = await mkdtemp(join(tmpdir(), 'hxp-bench-status-'));
  try {
    await bundleFunction({
      handlerPath: join(ROOT, 'functions', 'status', 'handler.ts'),
      outDir: dir,
      functionName: 'status',
      migrationsDir: join(ROOT, 'shared', 'db', 'migrations'),
    });
    const fn = await startFunction(dir, databaseUrl);
    try {
      const base = `http://127.0.0.1:${fn.port}`;
      const first = await fetchAll(base, query, false);
      const jsonSamples: number[] = [];
      const csvSamples: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        let started = performance.now();
        await fetchAll(base, query, false);
        jsonSamples.push(performance.now() - started);
        started = performance.now();
        const csv = await fetchAll(base, query, true);
        csvSamples.push(performance.now() - started);
        if (csv.rows !== first.rows) throw new Error(`CSV gave ${csv.rows} rows, JSON ${first.rows}`);
      }
      const functionRssKiB = await vmHwmKiB(fn.pid);
      await psql(databaseUrl, sql); // warm-up: the same pages in shared buffers for both
      const psqlSamples: number[] = [];
      let psqlRssKiB = 0;
      let psqlRows = 0;
      for (let i = 0; i < RUNS; i++) {
        const run = await psql(databaseUrl, sql);
        psqlSamples.push(run.ms);
        psqlRssKiB = Math.max(psqlRssKiB, run.rssKiB);
        psqlRows = Number(/\((\d+) rows?\)/.exec(run.out)?.[1] ?? -1);
      }
      if (psqlRows !== first.rows) throw new Error(`psql returned ${psqlRows} rows, the API ${first.rows}`);
      return {
        query: `/aggregates?${query}`,
        rows: first.rows,
        pages: first.pages,
        jsonMs: median(jsonSamples),
        csvMs: median(csvSamples),
        jsonSamples,
        psqlMs: median(psqlSamples),
        psqlSamples,
        psqlRows,
        functionRssKiB,
        psqlRssKiB,
      };
    } finally {
      fn.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
