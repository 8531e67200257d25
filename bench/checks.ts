// The four targets, judged from the measured figures. A miss is reported as MISS, never dropped.
import { ROLLUP_LEVELS } from './aggregate.ts';
import { formatCount, formatMs } from './progress.ts';
import type { Check, SizeResult } from './results.ts';

export const TARGETS = {
  ingestVsCopy: 0.6,
  hourlyVsGroupBy: 0.1,
  /** "≈ 1": the larger size's rollup may take at most this many times the smaller's. */
  rollupGrowth: 1.5,
  peakRssMiB: 256,
  queryVsPsql: 1.5,
  /** A report reads aggregates only: the larger size's report may take at most this many times the smaller's. */
  reportGrowth: 1.2,
  /** Events → hourly aggregates (ingest + hourly job) at least this many times faster than pandas. */
  pandasSpeedup: 1.5,
} as const;

const REPORT_FORMATS = ['json', 'csv', 'pdf', 'docx'] as const;

const mib = (kib: number): number => kib / 1024;

function short(n: number): string {
  return n >= 1e6 && n % 1e5 === 0
    ? `${n / 1e6}M`
    : n >= 1e3 && n % 100 === 0
      ? `${n / 1e3}k`
      : formatCount(n);
}

export function sizeLabel(r: SizeResult): string {
  return short(r.requested);
}

/** The ref --ingest-before named, and its commit unless the ref is that commit's hash. */
export function beforeLabel({ ref, commit }: { ref: string; commit: string }): string {
  return commit.startsWith(ref) ? commit.slice(0, 10) : `${ref} ${commit.slice(0, 10)}`;
}

export function judge(sizes: readonly SizeResult[]): Check[] {
  const checks: Check[] = [];
  for (const r of sizes) {
    const contenders = [
      ...(r.ingestBefore
        ? [
            {
              m: r.ingestBefore,
              label: `, before: ${beforeLabel(r.ingestBefore)}`,
            },
          ]
        : []),
      ...(r.ingest ? [{ m: r.ingest, label: r.ingestBefore ? ', this checkout' : '' }] : []),
    ];
    for (const { m, label } of r.copy ? contenders : []) {
      const ratio = m.eventsPerSec / r.copy!.rowsPerSec;
      checks.push({
        name: `Ingest Kafka → PostgreSQL vs COPY (${sizeLabel(r)}${label})`,
        events: r.events,
        ours: `${formatCount(m.eventsPerSec)} events/s`,
        reference: `${formatCount(r.copy!.rowsPerSec)} rows/s`,
        ratio,
        target: `≥ ${TARGETS.ingestVsCopy}×`,
        pass: ratio >= TARGETS.ingestVsCopy,
      });
    }
  }
  for (const r of sizes) {
    if (r.hourly && r.baseline) {
      const ratio = r.hourly.ms / r.baseline.ms;
      checks.push({
        name: `Hourly aggregation vs one GROUP BY + percentile_cont (${sizeLabel(r)})`,
        events: r.events,
        ours: `${formatMs(r.hourly.ms)} (${r.hourly.windows} hours)`,
        reference: `${formatMs(r.baseline.ms)} (faster of jit on/off)`,
        ratio,
        target: `≤ ${TARGETS.hourlyVsGroupBy}×`,
        pass: ratio <= TARGETS.hourlyVsGroupBy && r.hourly.failed === 0,
      });
    }
  }
  const withRollups = sizes.filter((r) => r.rollups);
  const small = withRollups[0];
  const large = withRollups[withRollups.length - 1];
  if (small?.rollups && large?.rollups && small !== large) {
    for (const level of ROLLUP_LEVELS) {
      const a = small.rollups[level];
      const b = large.rollups[level];
      const ratio = b.ms / a.ms;
      checks.push({
        name: `${level[0]?.toUpperCase()}${level.slice(1)} rollup, ${sizeLabel(large)} vs ${sizeLabel(small)} events`,
        events: large.events,
        ours: `${formatMs(b.ms)} (${b.windows} windows)`,
        reference: `${formatMs(a.ms)} (${a.windows} windows)`,
        ratio,
        target: `≈ 1 (≤ ${TARGETS.rollupGrowth}×)`,
        pass: ratio <= TARGETS.rollupGrowth && a.windows === b.windows && a.failed + b.failed === 0,
      });
    }
  }
  const withReports = sizes.filter((r) => r.reports);
  const smallR = withReports[0];
  const largeR = withReports[withReports.length - 1];
  if (smallR?.reports && largeR?.reports && smallR !== largeR) {
    // each format's time as a generation spends it: the shared document build plus its render
    for (const format of REPORT_FORMATS) {
      const a = smallR.reports.buildMs + (smallR.reports.formats[format]?.ms ?? NaN);
      const b = largeR.reports.buildMs + (largeR.reports.formats[format]?.ms ?? NaN);
      const ratio = b / a;
      checks.push({
        name: `monthly_summary ${format.toUpperCase()}, ${sizeLabel(largeR)} vs ${sizeLabel(smallR)} events`,
        events: largeR.events,
        ours: formatMs(b),
        reference: formatMs(a),
        ratio,
        target: `≤ ${TARGETS.reportGrowth}×`,
        pass: ratio <= TARGETS.reportGrowth,
      });
    }
  }
  const rssCheck = (r: SizeResult, what: string, kib: number): Check => {
    const peak = mib(kib);
    return {
      name: `Peak RSS of the ${what} (${sizeLabel(r)})`,
      events: r.events,
      ours: `${peak.toFixed(0)} MiB`,
      reference: '—',
      ratio: null,
      target: `< ${TARGETS.peakRssMiB} MiB`,
      pass: peak < TARGETS.peakRssMiB,
    };
  };
  for (const r of sizes) if (r.reports) checks.push(rssCheck(r, 'report process', r.reports.maxRssKiB));
  for (const r of sizes) {
    if (r.query) {
      const ratio = r.query.jsonMs / r.query.psqlMs;
      checks.push({
        name: `GET /aggregates, a month of hourly rows per model, vs the same SELECT in psql (${sizeLabel(r)})`,
        events: r.events,
        ours: `${formatMs(r.query.jsonMs)} (${formatCount(r.query.rows)} rows)`,
        reference: `${formatMs(r.query.psqlMs)}`,
        ratio,
        target: `≤ ${TARGETS.queryVsPsql}×`,
        pass: ratio <= TARGETS.queryVsPsql,
      });
    }
  }
  for (const r of sizes) {
    if (r.ingest)
      checks.push(rssCheck(r, 'ingesting process', Math.max(r.ingest.maxRssKiB, r.ingest.vmHwmKiB)));
  }
  for (const r of sizes) {
    if (!r.pandas || !r.ingest || !r.hourly) continue;
    const ours = r.ingest.busyMs + r.hourly.ms;
    const ratio = ours / r.pandas.ms;
    const c = r.pandas.check;
    checks.push({
      name: `Events → hourly aggregates (ingest + hourly job) vs pandas from NDJSON (${sizeLabel(r)})`,
      events: r.events,
      ours: `${formatMs(ours)}, peak RSS ${mib(Math.max(r.ingest.maxRssKiB, r.ingest.vmHwmKiB)).toFixed(0)} MiB`,
      reference: `${formatMs(r.pandas.ms)}, peak RSS ${mib(r.pandas.peakRssKiB).toFixed(0)} MiB (pandas ${r.pandas.version})`,
      ratio,
      target: `≤ ${(1 / TARGETS.pandasSpeedup).toFixed(2)}× (${TARGETS.pandasSpeedup}× faster)`,
      pass: ratio <= 1 / TARGETS.pandasSpeedup && r.hourly.failed === 0,
    });
    checks.push({
      name: `Hourly series equal to pandas' (${sizeLabel(r)})`,
      events: r.events,
      ours: `${formatCount(c.ourRows)} rows; ${c.sampled - c.missing} sampled rows found`,
      reference: `${formatCount(c.pandasRows)} rows; ${c.mismatchCount} disagreements`,
      ratio: null,
      target: 'same rows; counts exact, p50/p95/p99 ≤ 1 % of exact',
      pass: c.mismatchCount === 0,
    });
  }
  for (const r of sizes) {
    for (const run of r.scaleOut?.runs ?? []) {
      const one = r.scaleOut!.runs.find((x) => x.consumers === 1);
      checks.push({
        name: `Ingest by ${run.consumers} process(es) of one group, ${r.scaleOut!.partitions} partitions (${sizeLabel(r)})`,
        events: r.events,
        ours: `${formatCount(run.eventsPerSec)} events/s${run.efficiency === null ? '' : `, efficiency ${(run.efficiency * 100).toFixed(0)} %`}`,
        reference: one ? `${formatCount(one.eventsPerSec)} events/s by 1` : '—',
        ratio: one ? run.eventsPerSec / one.eventsPerSec : null,
        target: 'every event stored once',
        pass: run.stored === r.scaleOut!.events,
      });
    }
  }
  return checks;
}
