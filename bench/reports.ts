// Measurement 5: monthly_summary in all four formats from the size's aggregates, in a child process run as an
// esbuild bundle with plain node (as the function is deployed): build time, render time per format, peak RSS.
// The report reads only aggregate views, so its time should not grow with the number of raw events.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { loadStack } from '../runtime/stack.ts';
import { copyRuntimeAssets, EXTERNAL_PACKAGES } from '../templates/node20-ts/bundle.ts';
import { CHILD_BANNER } from './bundle-child.ts';
import type { Span } from './dataset.ts';
import { RESULT_PREFIX } from './ingest-protocol.ts';
import type { ReportChildConfig, ReportChildResult } from './report-protocol.ts';

const ENTRY = fileURLToPath(new URL('./report-child.ts', import.meta.url));
const STACK_FILE = fileURLToPath(new URL('../stack.yml', import.meta.url));
const DAY = 86_400_000;

export type ReportMeasurement = ReportChildResult;

/** The report child as one bundle beside its fonts and resvg binding; returns the .mjs path. */
export async function bundleReportChild(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hxp-bench-report-'));
  const outfile = join(dir, 'report-child.mjs');
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    external: EXTERNAL_PACKAGES,
    banner: { js: CHILD_BANNER },
    legalComments: 'none',
    logLevel: 'error',
    metafile: true,
  });
  await copyRuntimeAssets(Object.keys(result.metafile.inputs), dirname(ENTRY), dir);
  return outfile;
}

/** The month holding most of the span's days (its aggregation is final once the rollups ran at span end + 40 days). */
export function benchMonth(span: Span): string {
  const days = new Map<string, number>();
  for (let t = span.start.getTime(); t < span.end.getTime(); t += DAY) {
    const m = new Date(t).toISOString().slice(0, 7);
    days.set(m, (days.get(m) ?? 0) + 1);
  }
  return [...days.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1))[0]![0];
}

export async function measureReports(
  databaseUrl: string,
  span: Span,
  bundle: string,
  repeats = 5,
): Promise<ReportMeasurement> {
  const config: ReportChildConfig = {
    databaseUrl,
    reportType: 'monthly_summary',
    period: benchMonth(span),
    now: new Date(span.end.getTime() + 40 * DAY).toISOString(),
    repeats,
  };
  // the Node options the function is deployed with (stack.yml), so the peak RSS is the deployed one
  const nodeOptions = (
    loadStack(STACK_FILE).functions.find((f) => f.name === 'generate-report')?.environment.NODE_OPTIONS ?? ''
  )
    .split(/\s+/)
    .filter(Boolean);
  const child = spawn(process.execPath, [...nodeOptions, bundle], {
    env: { ...process.env, BENCH_REPORTS: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (code !== 0 || !line)
    throw new Error(`the report child exited with ${code} without a result; its stderr is above`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as ReportMeasurement;
}
