// Writing a run out: bench/results/latest.json plus a dated copy, markdown tables for the terminal and
// the README section between <!-- bench:start --> and <!-- bench:end -->.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeLabel, sizeLabel } from './checks.ts';
import { formatCount, formatMs } from './progress.ts';
import type { IngestMeasurement } from './ingest.ts';
import type { BenchResults, SizeResult } from './results.ts';
import type { StatementStat } from './statement-profile.ts';
import { DEFAULT_WINDOW_CONCURRENCY } from '../shared/jobs/index.ts';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const README_START = '<!-- bench:start -->';
export const README_END = '<!-- bench:end -->';
export const RETENTION_README_START = '<!-- bench-retention:start -->';
export const RETENTION_README_END = '<!-- bench-retention:end -->';

export async function writeResults(results: BenchResults): Promise<{ latest: string; dated: string }> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = JSON.stringify(results, null, 2) + '\n';
  const latest = `${RESULTS_DIR}latest.json`;
  const dated = `${RESULTS_DIR}${results.startedAt.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z')}.json`;
  await writeFile(latest, json);
  await writeFile(dated, json);
  return { latest, dated };
}

/** bench/results/retention-latest.json plus a dated copy. */
export async function writeRetentionResults(
  results: { startedAt: string } & Record<string, unknown>,
): Promise<{ latest: string; dated: string }> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = JSON.stringify(results, null, 2) + '\n';
  const latest = `${RESULTS_DIR}retention-latest.json`;
  const dated = `${RESULTS_DIR}retention-${results.startedAt.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z')}.json`;
  await writeFile(latest, json);
  await writeFile(dated, json);
  return { latest, dated };
}

const verdict = (pass: boolean | null): string => (pass === null ? 'n/a' : pass ? 'PASS' : '**MISS**');

export function checksTable(results: BenchResults): string {
  const lines = ['| measurement | ours | reference | ratio | target | result |', '|---|---|---|---|---|---|'];
  for (const c of results.checks) {
    const ratio = c.ratio === null ? '—' : `${c.ratio.toFixed(2)}×`;
    lines.push(`| ${c.name} | ${c.ours} | ${c.reference} | ${ratio} | ${c.target} | ${verdict(c.pass)} |`);
  }
  return lines.join('\n');
}

const cell = (v: string | undefined): string => v ?? '—';

/** Microseconds per event of a total in milliseconds. */
const perEvent = (ms: number, events: number): string => ((ms * 1000) / events).toFixed(1);

/** An ingest run's time, rate and CPU per event: in Node, and in PostgreSQL when it was measured. */
function ingestFigures(m: IngestMeasurement): string {
  const cpu =
    `CPU per event ${perEvent(m.cpuMs, m.stored)} µs in Node` +
    (m.backendCpuMs ? ` + ${perEvent(m.backendCpuMs, m.stored)} µs in PostgreSQL` : '');
  return `${formatMs(m.busyMs)} (${formatCount(m.eventsPerSec)} events/s, ${m.commits} transactions, ${cpu})`;
}

export function figuresTable(sizes: readonly SizeResult[]): string {
  const header = ['', ...sizes.map((s) => `${sizeLabel(s)} (${formatCount(s.events)} events)`)];
  const rows: [string, (s: SizeResult) => string | undefined][] = [
    [
      'produce to Kafka (untimed setup)',
      (s) =>
        s.produce &&
        `${formatMs(s.produce.ms)} (${formatCount(s.produce.events / (s.produce.ms / 1000))}/s, ${(s.produce.bytes / 2 ** 20).toFixed(0)} MiB)`,
    ],
    ['ingest: pullFromKafka until the last commit', (s) => s.ingest && ingestFigures(s.ingest)],
    [
      'ingest before (--ingest-before, its own database, same topic, run first)',
      (s) => s.ingestBefore && `${beforeLabel(s.ingestBefore)}: ${ingestFigures(s.ingestBefore)}`,
    ],
    [
      'COPY of the same rows (psql \\copy)',
      (s) =>
        s.copy &&
        `${formatMs(s.copy.ms)} (${formatCount(s.copy.rowsPerSec)} rows/s, ${(s.copy.fileBytes / 2 ** 20).toFixed(0)} MiB file` +
          `${s.copy.backendCpuMs ? `; ${perEvent(s.copy.backendCpuMs, s.copy.rows)} µs of PostgreSQL CPU per row` : ''})`,
    ],
    [
      'ingest peak RSS (maxRSS / VmHWM)',
      (s) =>
        s.ingest &&
        `${(s.ingest.maxRssKiB / 1024).toFixed(0)} / ${(s.ingest.vmHwmKiB / 1024).toFixed(0)} MiB`,
    ],
    [
      'hourly aggregation (runAggregation hour)',
      (s) =>
        s.hourly &&
        `${formatMs(s.hourly.ms)} (${s.hourly.windows} hours, ${formatCount(s.hourly.rowsOut)} series rows; ${formatMs(s.hourly.windowMs)} summed over the windows, ${DEFAULT_WINDOW_CONCURRENCY} at a time)`,
    ],
    [
      'one GROUP BY with percentile_cont (jit on / off)',
      (s) =>
        s.baseline &&
        `${formatMs(s.baseline.msJitOn)} / ${formatMs(s.baseline.msJitOff)} (${formatCount(s.baseline.rows)} rows)`,
    ],
    [
      'series matched / unmatched; max p50/p95/p99 error vs exact percentile_cont (series ≥ 100 values)',
      (s) =>
        s.baseline &&
        `${s.baseline.matched} matched, ${s.baseline.onlyHourly + s.baseline.onlyBaseline} unmatched / ${s.baseline.maxQuantileRelError === null ? '—' : `${(s.baseline.maxQuantileRelError * 100).toFixed(2)} %`}`,
    ],
    [
      'pandas peer: read NDJSON + hourly series (reading alone); peak RSS',
      (s) =>
        s.pandasSkipped ??
        (s.pandas &&
          `${formatMs(s.pandas.ms)} (${formatMs(s.pandas.readMs)}; ${(s.pandas.ndjsonBytes / 2 ** 20).toFixed(0)} MiB NDJSON); ${(s.pandas.peakRssKiB / 1024).toFixed(0)} MiB`),
    ],
    [
      'day rollup (median of 3)',
      (s) => s.rollups && `${formatMs(s.rollups.day.ms)} (${s.rollups.day.windows} windows)`,
    ],
    [
      'week rollup (median of 3)',
      (s) => s.rollups && `${formatMs(s.rollups.week.ms)} (${s.rollups.week.windows} windows)`,
    ],
    [
      'month rollup (median of 3)',
      (s) => s.rollups && `${formatMs(s.rollups.month.ms)} (${s.rollups.month.windows} windows)`,
    ],
    [
      'GET /aggregates month of hourly rows per model: JSON / CSV / psql (median of 5); peak RSS function / psql',
      (s) =>
        s.query &&
        `${formatMs(s.query.jsonMs)} / ${formatMs(s.query.csvMs)} / ${formatMs(s.query.psqlMs)} (${formatCount(s.query.rows)} rows); ${(s.query.functionRssKiB / 1024).toFixed(0)} / ${(s.query.psqlRssKiB / 1024).toFixed(0)} MiB`,
    ],
    [
      'monthly_summary: document build from the views (fastest of 5)',
      (s) => s.reports && `${formatMs(s.reports.buildMs)} (${s.reports.period})`,
    ],
    [
      'monthly_summary render JSON / CSV / PDF / DOCX (fastest of 5)',
      (s) =>
        s.reports &&
        (['json', 'csv', 'pdf', 'docx'] as const)
          .map((f) => {
            const m = s.reports!.formats[f];
            return m ? `${formatMs(m.ms)} (${(m.bytes / 1024).toFixed(0)} KiB)` : '—';
          })
          .join(' / '),
    ],
    [
      'report process peak RSS (maxRSS)',
      (s) => s.reports && `${(s.reports.maxRssKiB / 1024).toFixed(0)} MiB`,
    ],
    ['whole size, setup included', (s) => formatMs(s.totalMs)],
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const [name, get] of rows) {
    const cells = sizes.map(get);
    // a step no size ran (e.g. --ingest-before not given) leaves no row of dashes
    if (cells.every((c) => c === undefined)) continue;
    lines.push(`| ${name} | ${cells.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

export function profileTable(stats: readonly StatementStat[]): string {
  const lines = ['| statement | calls | total | per call |', '|---|---|---|---|'];
  for (const s of stats) {
    lines.push(
      `| \`${s.statement.replace(/\|/g, '\\|')}\` | ${s.calls} | ${formatMs(s.ms)} | ${(s.ms / s.calls).toFixed(2)} ms |`,
    );
  }
  return lines.join('\n');
}

export function machineLine(results: BenchResults): string {
  const m = results.machine;
  return `${m.nproc} vCPU (${m.cpuModel}), ${m.memoryGiB} GiB RAM; Node ${m.node}, PostgreSQL ${m.postgres}, Kafka ${m.kafka}`;
}

export function markdown(results: BenchResults): string {
  const span = results.sizes[0]?.span;
  return [
    `Measured ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC on ${machineLine(results)}, ` +
      `shared with other work. Command: \`${results.command}\`. Every size is ${span?.days ?? '?'} days of synthetic ` +
      `LLM-platform events (runtime/demo, seeded), its own database and ${results.sizes[0]?.partitions ?? '?'}-partition topic.`,
    '',
    checksTable(results),
    '',
    figuresTable(results.sizes),
  ].join('\n');
}

export async function rewriteReadme(results: BenchResults): Promise<void> {
  await rewriteReadmeSection(README_START, README_END, markdown(results));
}

/** Replaces the README's text between the two markers (kept) with `body`. */
export async function rewriteReadmeSection(startMark: string, endMark: string, body: string): Promise<void> {
  const text = await readFile(README, 'utf8');
  const start = text.indexOf(startMark);
  const end = text.indexOf(endMark);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${startMark} … ${endMark} section; add it under "## Performance"`);
  }
  await writeFile(
    README,
    text.slice(0, start) + `${startMark}\n${body}\n${endMark}` + text.slice(end + endMark.length),
  );
}
