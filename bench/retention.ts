// The retention benchmark (`npm run bench -- --retention 1M,10M`): one UTC day of N raw events (the demo
// stream, stored as ingest stores them; untimed), archived the way the sweep archives a day — streamed out
// of PostgreSQL into GZIP Parquet parts in a local folder, every part read back and compared, then dropped —
// in a child process of its own, against PostgreSQL's `COPY (SELECT …) TO STDOUT` of the same partition in
// the same order. Targets: archive ≥ 0.5× COPY's rows/s; peak RSS < 256 MiB at every size. Also reported:
// bytes per event in the archive.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Database } from '../shared/db/index.ts';
import { normalizeEvent } from '../shared/events/index.ts';
import { storeEvents } from '../shared/ingest/store.ts';
import type { IngestEvent } from '../shared/ingest/types.ts';
import { RAW_SELECT } from '../shared/retention/raw-source.ts';
import { generateDemoEvents } from '../runtime/demo/generate.ts';
import { loadStack } from '../runtime/stack.ts';
import { bundleChild } from './bundle-child.ts';
import { benchSpan, requestsPerHourFor } from './dataset.ts';
import { formatCount, formatMs, say, step } from './progress.ts';
import {
  RETENTION_RESULT_PREFIX,
  type RetentionChildConfig,
  type RetentionChildResult,
} from './retention-protocol.ts';
import { dropDatabase, freshDatabase } from './services.ts';

const CHILD = fileURLToPath(new URL('./retention-child.ts', import.meta.url));
const STACK_FILE = fileURLToPath(new URL('../stack.yml', import.meta.url));

export const RETENTION_TARGETS = { archiveVsCopy: 0.5, peakRssMiB: 256 } as const;

export interface RetentionMeasurement extends RetentionChildResult {
  requested: number;
  day: string;
  loadMs: number;
  /** The faster of two runs of psql's COPY (SELECT …) TO STDOUT of the partition, output counted and dropped. */
  copyMs: number;
  copyBytes: number;
  /** Highest VmHWM sampled from /proc while the child ran (KiB). */
  vmHwmKiB: number;
}

/** One UTC day of about `events` demo events, stored through the ingest store (COPY path). */
async function loadDay(db: Database, events: number, seed: number): Promise<{ day: string; rows: number }> {
  const span = benchSpan(1);
  const limits = { maxEventBytes: 65_536, maxFields: 256, maxFutureSkewMs: 300_000, rawRetentionDays: 3650 };
  let batch: IngestEvent[] = [];
  let rows = 0;
  const flush = async (): Promise<void> => {
    const events_ = batch;
    batch = [];
    rows += (await db.transaction((tx) => storeEvents(tx, events_, [], { method: 'copy' }))).stored;
  };
  for (const event of generateDemoEvents({
    end: span.end,
    days: 1,
    seed,
    requestsPerHour: requestsPerHourFor(events, span),
  })) {
    const result = normalizeEvent(event, { receivedAt: span.end, limits, dimensionKeys: ['model'] });
    if (result.ok) batch.push(result.event);
    if (batch.length === 10_000) await flush();
  }
  if (batch.length > 0) await flush();
  return { day: span.start.toISOString().slice(0, 10), rows };
}

/** psql's COPY (SELECT …) TO STDOUT of the partition; its output is counted and dropped. */
function psqlCopyOut(url: string, partition: string): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const sql = `COPY (SELECT ${RAW_SELECT} FROM ${partition} ORDER BY ts, idempotency_key) TO STDOUT`;
    const started = performance.now();
    const child = spawn('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let bytes = 0;
    let err = '';
    child.stdout.on('data', (c: Buffer) => (bytes += c.length));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('error', (e) => reject(new Error(`cannot run psql: ${e.message}`)));
    child.once('exit', (code) =>
      code === 0
        ? resolve({ ms: performance.now() - started, bytes })
        : reject(new Error(`psql failed: ${err}`)),
    );
  });
}

async function vmHwm(pid: number): Promise<number> {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function runChild(
  bundle: string,
  config: RetentionChildConfig,
): Promise<RetentionChildResult & { vmHwmKiB: number }> {
  // the Node options the function is deployed with (stack.yml), so the peak RSS is the deployed one
  const nodeOptions = (
    loadStack(STACK_FILE).functions.find((f) => f.name === 'retention-sweep')?.environment.NODE_OPTIONS ?? ''
  )
    .split(/\s+/)
    .filter(Boolean);
  const child = spawn(process.execPath, [...nodeOptions, bundle], {
    env: { ...process.env, BENCH_RETENTION: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  let hwm = 0;
  const sampler = setInterval(() => {
    if (child.pid !== undefined) void vmHwm(child.pid).then((v) => (hwm = Math.max(hwm, v)));
  }, 250);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  clearInterval(sampler);
  const line = stdout.split('\n').find((l) => l.startsWith(RETENTION_RESULT_PREFIX));
  if (code !== 0 || !line)
    throw new Error(`the retention child exited with ${code} without a result; its stderr is above`);
  return {
    ...(JSON.parse(line.slice(RETENTION_RESULT_PREFIX.length)) as RetentionChildResult),
    vmHwmKiB: hwm,
  };
}

export async function measureRetention(
  serverUrl: string,
  size: number,
  options: { seed: number; keep: boolean; runId: string },
): Promise<RetentionMeasurement> {
  const name = `hxp_bench_retention_${size}`;
  const bench = await freshDatabase(serverUrl, name);
  const archiveDir = await mkdtemp(join(tmpdir(), 'hxp-bench-archive-'));
  const bundle = (await step('bundle the retention child with esbuild', () => bundleChild(CHILD))).value;
  try {
    const { value: loaded, ms: loadMs } = await step(
      `load one day of ~${formatCount(size)} events (untimed)`,
      () => loadDay(bench.db, size, options.seed),
    );
    say(`  ${formatCount(loaded.rows)} rows on ${loaded.day}`);
    const partition = `raw_events_${loaded.day.replaceAll('-', '')}`;
    await step('VACUUM ANALYZE + CHECKPOINT; hours marked aggregated (untimed)', async () => {
      await bench.db.query(`VACUUM ANALYZE ${partition}`);
      await bench.db.query('CHECKPOINT');
      // the drop requires every hour final; aggregating them is not what is measured here
      await bench.db.query(`UPDATE aggregation_windows SET done_seq = changed_seq WHERE level = 'hour'`);
    });
    const copies: { ms: number; bytes: number }[] = [];
    for (const pass of [1, 2]) {
      copies.push(
        (
          await step(`COPY (SELECT …) TO STDOUT of the partition, pass ${pass}`, () =>
            psqlCopyOut(bench.url, partition),
          )
        ).value,
      );
    }
    const copy = copies.reduce((a, b) => (b.ms < a.ms ? b : a));
    const { value: archived } = await step(
      'archive the day in a child process (export, read back, drop)',
      () => runChild(bundle, { databaseUrl: bench.url, day: loaded.day, archiveDir }),
    );
    say(
      `  ${formatCount(archived.rows)} rows in ${archived.parts} parts, ${(archived.bytes / 2 ** 20).toFixed(1)} MiB ` +
        `(${(archived.bytes / archived.rows).toFixed(1)} B/event): export ${formatMs(archived.exportMs)}, ` +
        `read back ${formatMs(archived.verifyMs)}, drop ${formatMs(archived.dropMs)}; COPY ${formatMs(copy.ms)}; ` +
        `peak RSS ${(Math.max(archived.maxRssKiB, archived.vmHwmKiB) / 1024).toFixed(0)} MiB`,
    );
    return {
      ...archived,
      requested: size,
      day: loaded.day,
      loadMs,
      copyMs: copy.ms,
      copyBytes: copy.bytes,
    };
  } finally {
    await rm(archiveDir, { recursive: true, force: true });
    await rm(join(bundle, '..'), { recursive: true, force: true });
    await bench.db.close();
    // a scratch database left behind is harmless and named hxp_bench_*: the result matters more
    if (!options.keep) await dropDatabase(serverUrl, name).catch(() => undefined);
  }
}

export interface RetentionCheck {
  name: string;
  ours: string;
  reference: string;
  ratio: number | null;
  target: string;
  pass: boolean;
}

const label = (n: number): string =>
  n >= 1e6 && n % 1e5 === 0 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);

export function judgeRetention(results: readonly RetentionMeasurement[]): RetentionCheck[] {
  const checks: RetentionCheck[] = [];
  for (const r of results) {
    const archiveRate = r.rows / ((r.exportMs + r.verifyMs) / 1000);
    const copyRate = r.rows / (r.copyMs / 1000);
    const ratio = archiveRate / copyRate;
    checks.push({
      name: `Archive a day (export + read-back) vs COPY (SELECT …) TO STDOUT (${label(r.requested)})`,
      ours: `${formatCount(archiveRate)} rows/s`,
      reference: `${formatCount(copyRate)} rows/s`,
      ratio,
      target: `≥ ${RETENTION_TARGETS.archiveVsCopy}×`,
      pass: ratio >= RETENTION_TARGETS.archiveVsCopy,
    });
  }
  for (const r of results) {
    const peak = Math.max(r.maxRssKiB, r.vmHwmKiB) / 1024;
    checks.push({
      name: `Peak RSS of the archiving process (${label(r.requested)})`,
      ours: `${peak.toFixed(0)} MiB`,
      reference: '—',
      ratio: null,
      target: `< ${RETENTION_TARGETS.peakRssMiB} MiB`,
      pass: peak < RETENTION_TARGETS.peakRssMiB,
    });
  }
  return checks;
}

export function retentionMarkdown(results: readonly RetentionMeasurement[], header: string): string {
  const checks = judgeRetention(results);
  const lines = [
    header,
    '',
    '| measurement | ours | reference | ratio | target | result |',
    '|---|---|---|---|---|---|',
    ...checks.map(
      (c) =>
        `| ${c.name} | ${c.ours} | ${c.reference} | ${c.ratio === null ? '—' : `${c.ratio.toFixed(2)}×`} | ${c.target} | ${c.pass ? 'PASS' : '**MISS**'} |`,
    ),
    '',
    `|  | ${results.map((r) => `${label(r.requested)} (${formatCount(r.rows)} rows)`).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    `| export: COPY out (binary), encode, GZIP, write parts + manifest | ${results.map((r) => `${formatMs(r.exportMs)} (${formatMs(r.exportCpuMs)} CPU)`).join(' | ')} |`,
    `| read back: every part hashed, decoded, compared | ${results.map((r) => `${formatMs(r.verifyMs)} (${formatMs(r.verifyCpuMs)} CPU)`).join(' | ')} |`,
    `| drop: live figures by PostgreSQL, compare, DETACH + DROP | ${results.map((r) => formatMs(r.dropMs)).join(' | ')} |`,
    `| COPY (SELECT …) TO STDOUT, faster of 2 | ${results.map((r) => `${formatMs(r.copyMs)} (${(r.copyBytes / 2 ** 20).toFixed(0)} MiB of text)`).join(' | ')} |`,
    `| archive size | ${results.map((r) => `${(r.bytes / 2 ** 20).toFixed(1)} MiB in ${r.parts} parts, ${(r.bytes / r.rows).toFixed(1)} bytes/event`).join(' | ')} |`,
    `| peak RSS (maxRSS / VmHWM) | ${results.map((r) => `${(r.maxRssKiB / 1024).toFixed(0)} / ${(r.vmHwmKiB / 1024).toFixed(0)} MiB`).join(' | ')} |`,
  ];
  return lines.join('\n');
}
