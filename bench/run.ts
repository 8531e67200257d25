// `npm run bench [-- flags]`: the ingestion/aggregation benchmark against the real PostgreSQL and Kafka.
// For each size, on one generated data set: produce to a fresh topic (untimed), ingest with pullFromKafka
// in a child process, COPY the same rows as the ceiling, the hourly aggregation against one GROUP BY with
// exact percentiles, and the day/week/month rollups. Then the ratios against their targets, written to
// bench/results/ and printed as markdown (and into README.md with --readme). See bench/cli.ts for flags.
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Kafka } from 'kafkajs';
import { createKafka } from '../shared/kafka/index.ts';
import { measureBaseline, measureHourly, measureRollups, settleRawEvents } from './aggregate.ts';
import { judge } from './checks.ts';
import { parseArgs, type BenchArgs, type Step } from './cli.ts';
import {
  judgeRetention,
  measureRetention,
  retentionMarkdown,
  type RetentionMeasurement,
} from './retention.ts';
import { bundleIngestChild, bundleIngestChildAt, type RefBundle } from './bundle-child.ts';
import { measureCopyCeiling } from './copy-ceiling.ts';
import { bundleReportChild, measureReports } from './reports.ts';
import { benchEvents, benchSpan, type Span } from './dataset.ts';
import { explainHourly } from './explain.ts';
import { runForecastBench } from './forecast/run.ts';
import { measureIngest } from './ingest.ts';
import { runLoadBench } from './load.ts';
import { measurePandas, pandasWontFit } from './pandas-peer.ts';
import { demoPriceTable } from '../runtime/demo/generate.ts';
import { measureScaleOut } from './scale-out.ts';
import { DEFAULT_DIMENSION_KEYS } from '../shared/events/index.ts';
import { describeMachine, type Machine } from './machine.ts';
import { produceEvents } from './produce.ts';
import { measureQuery } from './query.ts';
import { formatCount, say, step } from './progress.ts';
import {
  markdown,
  profileTable,
  RETENTION_README_END,
  RETENTION_README_START,
  rewriteReadme,
  rewriteReadmeSection,
  writeResults,
  writeRetentionResults,
} from './report.ts';
import { profiledDatabase } from './statement-profile.ts';
import type { BenchResults, SizeResult } from './results.ts';
import {
  createTopic,
  deleteLeftoverTopics,
  deleteTopic,
  dropDatabase,
  freshDatabase,
  serviceUrls,
  type ServiceUrls,
} from './services.ts';

interface SizeContext {
  args: BenchArgs;
  urls: ServiceUrls;
  kafka: Kafka;
  span: Span;
  runId: string;
  /** The esbuild bundle of the ingest child; undefined runs it through tsx. */
  childBundle: string | undefined;
  /** With --ingest-before: that commit's ingest child, bundled. */
  beforeBundle: RefBundle | undefined;
  /** The esbuild bundle of the report child (with its fonts and resvg binding), when the reports step runs. */
  reportBundle: string | undefined;
  onMachine: (m: Machine) => void;
  /** Writes the results so far (a run stopped midway still leaves its finished steps on disk). */
  checkpoint: (current: SizeResult) => Promise<void>;
}

/**
 * The same topic drained by another commit's ingest child into a database of its own (dropped afterwards),
 * before ours, so that both face the same data and machine and the one COPY ceiling judges both.
 */
async function ingestBefore(
  ctx: SizeContext,
  before: RefBundle,
  name: string,
  topic: string,
): Promise<NonNullable<SizeResult['ingestBefore']>> {
  const dbName = `${name}_before`;
  const { value: bench } = await step(`create database ${dbName}`, () =>
    freshDatabase(ctx.urls.databaseUrl, dbName),
  );
  await bench.db.close();
  try {
    const { value: m } = await step(`ingest before: ${before.ref} (${before.commit.slice(0, 10)})`, () =>
      measureIngest(
        {
          databaseUrl: bench.url,
          brokers: ctx.urls.brokers,
          topic,
          groupId: `hxp-bench-before-${name}-${ctx.runId}`,
          idleMs: 1500,
          maxDurationMs: 3_600_000,
        },
        before.bundle,
      ),
    );
    say(
      `  before: stored ${formatCount(m.stored)} of ${formatCount(m.recordsIn)} records in ${(m.busyMs / 1000).toFixed(2)} s: ` +
        `${formatCount(m.eventsPerSec)} events/s, CPU ${(m.cpuMs / 1000).toFixed(2)} s in Node + ${(m.backendCpuMs / 1000).toFixed(2)} s in PostgreSQL, ` +
        `peak RSS ${(m.maxRssKiB / 1024).toFixed(0)} MiB`,
    );
    return { ...m, ref: before.ref, commit: before.commit };
  } finally {
    // A scratch database left behind costs disk, not a result; the measurement is already made.
    if (!ctx.args.keep) await dropDatabase(ctx.urls.databaseUrl, dbName).catch(() => undefined);
  }
}

async function benchSize(size: number, ctx: SizeContext): Promise<SizeResult> {
  const started = performance.now();
  const { args, urls, kafka, span } = ctx;
  const name = `hxp_bench_${size}`;
  const topic = `hxp-bench-${size}-${ctx.runId}`;
  const result: SizeResult = {
    requested: size,
    events: 0,
    span: { start: span.start.toISOString(), end: span.end.toISOString(), days: args.days },
    database: name,
    topic,
    partitions: args.partitions,
    totalMs: 0,
  };
  say(`=== ${formatCount(size)} events: database ${name}, topic ${topic} (${args.partitions} partitions)`);
  const { value: bench } = await step('create database and topic', async () => {
    const b = await freshDatabase(urls.databaseUrl, name);
    await createTopic(kafka, topic, args.partitions);
    return b;
  });
  try {
    ctx.onMachine(await describeMachine(bench.db));
    const { value: produced } = await step('generate and produce events to Kafka (untimed setup)', () =>
      produceEvents(kafka, benchEvents(size, span, args.seed), { topic, partitions: args.partitions }),
    );
    result.produce = produced;
    result.events = produced.events;
    say(
      `  ${formatCount(produced.events)} events, ${(produced.bytes / 2 ** 20).toFixed(0)} MiB, ${JSON.stringify(produced.byType)}`,
    );

    if (ctx.beforeBundle) result.ingestBefore = await ingestBefore(ctx, ctx.beforeBundle, name, topic);

    const { value: ingest } = await step('ingest: pullFromKafka in a child process', () =>
      measureIngest(
        {
          databaseUrl: bench.url,
          brokers: urls.brokers,
          topic,
          groupId: `hxp-bench-${size}-${ctx.runId}`,
          idleMs: 1500,
          maxDurationMs: 3_600_000,
        },
        ctx.childBundle,
      ),
    );
    result.ingest = ingest;
    await ctx.checkpoint(result);
    say(
      `  stored ${formatCount(ingest.stored)} of ${formatCount(ingest.recordsIn)} records (${ingest.rejected} rejected, ` +
        `${ingest.duplicates} duplicates, lag ${ingest.lag}) in ${(ingest.busyMs / 1000).toFixed(2)} s: ` +
        `${formatCount(ingest.eventsPerSec)} events/s, CPU ${(ingest.cpuMs / 1000).toFixed(2)} s in Node + ` +
        `${(ingest.backendCpuMs / 1000).toFixed(2)} s in PostgreSQL, peak RSS ${(ingest.maxRssKiB / 1024).toFixed(0)} MiB`,
    );
    if (ingest.stored !== produced.events) {
      say(
        `  WARNING: produced ${produced.events} events but stored ${ingest.stored}; the comparisons below use what was stored`,
      );
    }

    if (args.steps.includes('copy')) {
      const { value: copy } = await step('COPY ceiling: psql \\copy of the same rows', () =>
        measureCopyCeiling(bench.db, bench.url, `${size}-${ctx.runId}`),
      );
      result.copy = copy;
      await ctx.checkpoint(result);
      say(
        `  ${formatCount(copy.rows)} rows in ${(copy.ms / 1000).toFixed(2)} s: ${formatCount(copy.rowsPerSec)} rows/s, ` +
          `${(copy.backendCpuMs / 1000).toFixed(2)} s CPU in PostgreSQL`,
      );
    }

    const wantsReports = args.steps.includes('reports');
    const wantsPandas = args.peers.includes('pandas');
    if (
      wantsPandas ||
      ['hourly', 'rollups', 'reports', 'query'].some((s) => args.steps.includes(s as Step))
    ) {
      await step('VACUUM ANALYZE + CHECKPOINT (untimed, settles both contenders)', () =>
        settleRawEvents(bench.db),
      );
      const { rows } = await bench.db.query<{ n: number }>('SELECT count(*)::int AS n FROM raw_events');
      result.rawRows = rows[0]?.n ?? 0;
      // With --explain the timed run also records the time of every statement it sends (negligible overhead).
      const profile = args.explain ? profiledDatabase(bench.db) : undefined;
      const zoned = args.timeZone === 'UTC' ? '' : `, time.zone ${args.timeZone}`;
      const { value: hourly } = await step(
        `hourly aggregation: runAggregation({level: "hour"})${zoned}`,
        () => measureHourly(profile?.db ?? bench.db, args.timeZone),
      );
      if (profile) {
        result.hourlyProfile = profile.stats().slice(0, 15);
        console.log(
          `\n--- statements of the hourly run, by total time ---\n${profileTable(result.hourlyProfile)}\n`,
        );
      }
      result.hourly = hourly;
      say(
        `  ${hourly.windows} hours (${hourly.failed} failed, ${hourly.status}), ${formatCount(hourly.rowsOut)} series rows`,
      );
      if (args.steps.includes('hourly')) {
        const { value: baseline } = await step(
          'baseline: one GROUP BY with percentile_cont (jit on, then off)',
          () => measureBaseline(bench.db, span, true),
        );
        result.baseline = baseline;
        await ctx.checkpoint(result);
        say(
          `  ${formatCount(baseline.rows)} rows; series: ${baseline.matched} matched, ${baseline.onlyHourly} only hourly, ` +
            `${baseline.onlyBaseline} only baseline; max quantile error ${baseline.maxQuantileRelError === null ? '— (no series of ≥ 100 values)' : `${(baseline.maxQuantileRelError * 100).toFixed(2)} %`}`,
        );
        if (args.explain) {
          try {
            const { value: plans } = await step('EXPLAIN ANALYZE of both', () =>
              explainHourly(bench.db, span),
            );
            result.explain = plans;
            console.log(
              `\n--- EXPLAIN plain GROUP BY ---\n${plans.baseline}\n\n--- EXPLAIN hourly window ${plans.hourBucket} ---\n${plans.hour}\n` +
                (plans.day ? `\n--- EXPLAIN day rollup window ${plans.dayBucket} ---\n${plans.day}\n` : ''),
            );
          } catch (err) {
            say(
              `  EXPLAIN failed (the measurements stand): ${err instanceof Error ? err.message : String(err)}`,
            );
          }
        }
      }
      const pandasSkip = wantsPandas ? pandasWontFit(result.events) : undefined;
      if (pandasSkip) {
        result.pandasSkipped = pandasSkip;
        say(`  pandas peer skipped: ${pandasSkip}`);
      } else if (wantsPandas) {
        const { value: pandas } = await step(
          'pandas peer: the same hourly series from the same events as NDJSON (then checked against ours)',
          () =>
            measurePandas(
              bench.db,
              benchEvents(size, span, args.seed),
              DEFAULT_DIMENSION_KEYS,
              demoPriceTable(),
              say,
            ),
        );
        result.pandas = pandas;
        await ctx.checkpoint(result);
        const c = pandas.check;
        say(
          `  pandas ${pandas.version}: ${formatCount(pandas.events)} events, ${formatCount(c.pandasRows)} series rows in ${(pandas.ms / 1000).toFixed(2)} s ` +
            `(reading ${(pandas.readMs / 1000).toFixed(2)} s), peak RSS ${(pandas.peakRssKiB / 1024).toFixed(0)} MiB; ours: ` +
            `${formatCount(c.ourRows)} rows; ${c.sampled} sampled rows compared, ${c.mismatchCount} disagreements` +
            `${c.maxQuantileRelError === null ? '' : `, max p50/p95/p99 difference ${(c.maxQuantileRelError * 100).toFixed(2)} %`}` +
            c.mismatches.map((m) => `\n    ${m}`).join(''),
        );
      }
      if (args.steps.includes('rollups') || wantsReports) {
        const { value: rollups } = await step(`rollups: day, week, month (3 passes${zoned})`, () =>
          measureRollups(bench.db, span, args.timeZone),
        );
        result.rollups = rollups;
        await ctx.checkpoint(result);
        for (const [level, m] of Object.entries(rollups)) {
          say(
            `  ${level}: ${m.windows} windows, median ${m.ms.toFixed(0)} ms of ${m.samples.map((x) => x.toFixed(0)).join(', ')} (${m.failed} failed, ${m.status})`,
          );
        }
      }
      if (args.steps.includes('query')) {
        const { value: query } = await step('read side: GET /aggregates vs psql', () =>
          measureQuery(bench.url, span),
        );
        result.query = query;
        await ctx.checkpoint(result);
        say(
          `  ${query.rows} rows in ${query.pages} page(s): JSON ${query.jsonMs.toFixed(1)} ms, CSV ${query.csvMs.toFixed(1)} ms, ` +
            `psql ${query.psqlMs.toFixed(1)} ms; peak RSS function ${(query.functionRssKiB / 1024).toFixed(0)} MiB, psql ${(query.psqlRssKiB / 1024).toFixed(0)} MiB`,
        );
      }
      if (wantsReports && ctx.reportBundle) {
        const { value: reports } = await step(
          'reports: monthly_summary in every format (5 passes, child process)',
          () => measureReports(bench.url, span, ctx.reportBundle!),
        );
        result.reports = reports;
        await ctx.checkpoint(result);
        say(
          `  ${reports.period}: build ${reports.buildMs.toFixed(0)} ms; ` +
            Object.entries(reports.formats)
              .map(([f, m]) => `${f} ${m.ms.toFixed(0)} ms`)
              .join(', ') +
            `; peak RSS ${(reports.maxRssKiB / 1024).toFixed(0)} MiB`,
        );
      }
    }
    if (args.scaleOut.length > 0) {
      result.scaleOut = await measureScaleOut(benchEvents(size, span, args.seed), args.scaleOut, {
        kafka,
        databaseUrl: urls.databaseUrl,
        brokers: urls.brokers,
        tag: `${size}-${ctx.runId}`,
        childBundle: ctx.childBundle,
      });
      await ctx.checkpoint(result);
    }
  } finally {
    await bench.db.close();
    if (!args.keep) {
      await step('drop database and topic', async () => {
        await dropDatabase(urls.databaseUrl, name);
        await deleteTopic(kafka, topic);
      })
        // step() already printed the failure; the next size still runs in its own database and topic.
        .catch(() => undefined);
    } else {
      say(`kept database ${name} and topic ${topic} (--keep)`);
    }
  }
  result.totalMs = performance.now() - started;
  return result;
}

/** `--retention`: the retention benchmark alone (PostgreSQL only). */
async function retentionMain(args: BenchArgs, sizes: readonly number[]): Promise<void> {
  const serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    throw new Error(
      'the retention benchmark needs PostgreSQL: run `bash scripts/services up` and `eval "$(bash scripts/services env)"`',
    );
  }
  const startedAt = new Date().toISOString();
  const runId = Date.now().toString(36);
  const results: RetentionMeasurement[] = [];
  say(`retention benchmark: days of ${sizes.map(formatCount).join(', ')} raw events`);
  for (const size of sizes) {
    say(`=== one day of ${formatCount(size)} events`);
    results.push(await measureRetention(serverUrl, size, { seed: args.seed, keep: args.keep, runId }));
  }
  const bench = await freshDatabase(serverUrl, `hxp_bench_machine_${runId}`);
  const machine = await describeMachine(bench.db).finally(() => bench.db.close());
  // a scratch database left behind is harmless and named hxp_bench_*: the run goes on
  await dropDatabase(serverUrl, `hxp_bench_machine_${runId}`).catch(() => undefined);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  const header =
    `Measured ${startedAt.slice(0, 16).replace('T', ' ')} UTC on ${machine.nproc} vCPU (${machine.cpuModel}), ` +
    `${machine.memoryGiB} GiB RAM; Node ${machine.node}, PostgreSQL ${machine.postgres}, shared with other work. ` +
    `Command: \`${command}\`. One UTC day of synthetic LLM-platform events (runtime/demo, seeded) per size.`;
  const text = retentionMarkdown(results, header);
  const files = await writeRetentionResults({
    startedAt,
    command,
    machine,
    results,
    checks: judgeRetention(results),
  });
  console.log(`\n${text}\n`);
  say(`results: ${files.latest} and ${files.dated}`);
  if (args.readme) {
    await rewriteReadmeSection(RETENTION_README_START, RETENTION_README_END, text);
    say('README.md retention benchmark section rewritten');
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--forecast')) {
    await runForecastBench(process.argv.slice(2));
    return;
  }
  if (process.argv.includes('--load')) {
    await runLoadBench(process.argv.slice(2));
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  if (args.retention) return retentionMain(args, args.retention);
  const urls = serviceUrls();
  const startedAt = new Date().toISOString();
  const span = benchSpan(args.days);
  const kafka = createKafka({ brokers: urls.brokers, clientId: 'hxp-bench', logLevel: 'error' });
  let machine: Machine | undefined;
  say(
    `benchmark: sizes ${args.sizes.map(formatCount).join(', ')}; span ${span.start.toISOString()} → ${span.end.toISOString()}; ` +
      `steps ${args.steps.join(', ')}`,
  );
  const leftovers = await deleteLeftoverTopics(kafka).catch((err: unknown) => {
    say(`could not look for topics left by earlier runs: ${(err as Error).message}`);
    return [];
  });
  if (leftovers.length > 0)
    say(`deleted ${leftovers.length} topic(s) left by runs that did not finish: ${leftovers.join(', ')}`);
  const childBundle = args.childTsx
    ? undefined
    : (await step('bundle the ingest child with esbuild', bundleIngestChild)).value;
  const beforeBundle = args.ingestBefore
    ? (
        await step(`bundle ${args.ingestBefore}'s ingest child (git archive + esbuild)`, () =>
          bundleIngestChildAt(args.ingestBefore!),
        )
      ).value
    : undefined;
  const reportBundle = args.steps.includes('reports')
    ? (await step('bundle the report child with esbuild', bundleReportChild)).value
    : undefined;
  const sizes: SizeResult[] = [];
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const collect = (all: SizeResult[], complete: boolean): BenchResults | undefined =>
    machine && {
      startedAt,
      finishedAt: new Date().toISOString(),
      complete,
      command,
      machine,
      ingestChild: childBundle ? 'esbuild bundle, plain node' : 'tsx',
      sizes: all,
      checks: judge(all),
    };
  const ctx: SizeContext = {
    args,
    urls,
    kafka,
    span,
    runId: Date.now().toString(36),
    childBundle,
    beforeBundle,
    reportBundle,
    onMachine: (m) => (machine ??= m),
    checkpoint: async (current) => {
      const partial = collect([...sizes, current], false);
      if (partial) await writeResults(partial);
    },
  };
  try {
    for (const size of args.sizes) sizes.push(await benchSize(size, ctx));
  } finally {
    if (childBundle) await rm(dirname(childBundle), { recursive: true, force: true });
    if (beforeBundle) await rm(dirname(beforeBundle.bundle), { recursive: true, force: true });
    if (reportBundle) await rm(dirname(reportBundle), { recursive: true, force: true });
  }
  const results = collect(sizes, true);
  if (!results) throw new Error('no size ran');
  const files = await writeResults(results);
  console.log(`\n${markdown(results)}\n`);
  say(`results: ${files.latest} and ${files.dated}`);
  if (args.readme) {
    await rewriteReadme(results);
    say('README.md performance section rewritten');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
