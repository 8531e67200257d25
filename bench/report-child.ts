// The report process of the benchmark: builds one report document (monthly_summary by default) from the
// aggregate views and renders it to every format, `repeats` times, and prints one `BENCH_RESULT {json}` line
// with the fastest time of the build and of each format (on a shared machine the least disturbed pass is
// the best estimate of the work itself; every sample is kept) and the process's peak RSS. Run by bench/reports.ts as
// an esbuild bundle with plain node (as deployed); runnable by hand with BENCH_REPORTS='{"databaseUrl":…}'.
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../shared/db/index.ts';
import { parseConfig } from '../shared/config/index.ts';
import { buildReportDocument } from '../shared/reports/builders/document.ts';
import { reportSettingsFrom } from '../shared/reports/generate.ts';
import { parsePeriod } from '../shared/reports/period.ts';
import { renderReport } from '../shared/reports/render/index.ts';
import { loadTemplate } from '../shared/reports/templates.ts';
import { REPORT_FORMATS, PERIOD_LEVEL } from '../shared/reports/types.ts';
import { RESULT_PREFIX } from './ingest-protocol.ts';
import type { ReportChildConfig, ReportChildResult } from './report-protocol.ts';

const fastest = (xs: number[]): number => Math.min(...xs);

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_REPORTS ?? 'null') as ReportChildConfig | null;
  if (!config) throw new Error('BENCH_REPORTS is not set; this process is started by bench/reports.ts');
  const db = await openDatabase({ url: config.databaseUrl, poolSize: 4 });
  const settings = reportSettingsFrom(parseConfig({}));
  const period = parsePeriod(config.period, PERIOD_LEVEL[config.reportType], settings.calendar);
  const template = loadTemplate(config.reportType, undefined);
  const build: number[] = [];
  const formats: ReportChildResult['formats'] = {};
  try {
    for (let rep = 0; rep < config.repeats; rep++) {
      const t0 = performance.now();
      const { document } = await buildReportDocument(
        {
          db,
          calendar: settings.calendar,
          businessIntelligence: settings.businessIntelligence,
          storeLocation: 'bench',
        },
        { type: config.reportType, period, template, now: new Date(config.now) },
      );
      build.push(performance.now() - t0);
      process.stderr.write(
        `  report: pass ${rep + 1} build ${build.at(-1)!.toFixed(0)} ms, rss ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB\n`,
      );
      for (const format of REPORT_FORMATS) {
        const t1 = performance.now();
        const bytes = (await renderReport(document, format)).length;
        const entry = (formats[format] ??= { samples: [], ms: 0, bytes });
        entry.samples.push(performance.now() - t1);
        const rss = (process.memoryUsage.rss() / 2 ** 20).toFixed(0);
        process.stderr.write(
          `  report: pass ${rep + 1} ${format} ${entry.samples.at(-1)!.toFixed(0)} ms, rss ${rss} MiB\n`,
        );
      }
    }
  } finally {
    await db.close();
  }
  for (const entry of Object.values(formats)) entry.ms = fastest(entry.samples);
  const result: ReportChildResult = {
    reportType: config.reportType,
    period: period.label,
    buildMs: fastest(build),
    buildSamples: build,
    formats,
    maxRssKiB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
