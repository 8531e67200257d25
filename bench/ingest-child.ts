// The ingesting process of the benchmark: drains one topic into PostgreSQL with pullFromKafka and prints
// one `BENCH_RESULT {json}` line with its timings and peak RSS. Run by ingest.ts in a child process so its
// memory is measured alone; runnable by hand with BENCH_INGEST='{"databaseUrl":…,"brokers":[…],"topic":…,"groupId":…}'.
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { openDatabase } from '../shared/db/index.ts';
import { pullFromKafka } from '../shared/ingest/index.ts';
import { createKafka } from '../shared/kafka/index.ts';
import { buildPriceTable } from '../shared/pricing/index.ts';
import { demoPriceTable } from '../runtime/demo/generate.ts';
import {
  GO_LINE,
  READY_LINE,
  RESULT_PREFIX,
  type IngestChildConfig,
  type IngestChildResult,
} from './ingest-protocol.ts';

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_INGEST ?? 'null') as IngestChildConfig | null;
  if (!config) throw new Error('BENCH_INGEST is not set; this process is started by bench/ingest.ts');
  const db = await openDatabase({ url: config.databaseUrl, poolSize: 3 });
  const kafka = createKafka({ brokers: config.brokers, clientId: 'hxp-bench-ingest', logLevel: 'error' });
  // Ingest as `npm run demo` configures it: with the demo's price table, so the requests of the source that
  // reports no cost (a third of them) have their cost inferred on the way in.
  const priced = buildPriceTable(demoPriceTable(), 'UTC');
  if (!priced.ok) throw new Error(priced.problems.join('; '));
  if (config.startGate) {
    await db.query('SELECT 1');
    process.stdout.write(`${READY_LINE}\n`);
    for await (const line of createInterface({ input: process.stdin })) if (line === GO_LINE) break;
  }
  let commits = 0;
  let firstCommit = 0;
  let lastCommit = 0;
  const started = performance.now();
  const ticker = setInterval(() => {
    db.query<{ n: string | null }>(
      'SELECT sum(next_offset)::text AS n FROM kafka_offsets WHERE consumer_group = $1',
      [config.groupId],
    )
      .then(({ rows }) => {
        const n = Number(rows[0]?.n ?? 0);
        const s = (performance.now() - started) / 1000;
        const rss = Math.round(process.memoryUsage.rss() / 2 ** 20);
        process.stderr.write(
          `  ingest: ${n.toLocaleString('en-US')} records committed, ${Math.round(n / s).toLocaleString('en-US')}/s, rss ${rss} MiB\n`,
        );
      })
      // A progress line is a courtesy: a query lost to the busy database just skips one.
      .catch(() => undefined);
  }, 5000);
  try {
    const result = await pullFromKafka(
      { db, kafka },
      {
        topics: [config.topic],
        groupId: config.groupId,
        idleMs: config.idleMs,
        maxDurationMs: config.maxDurationMs,
        maxWaitTimeMs: 100,
        fromBeginning: true,
        prices: priced.table,
        hooks: {
          afterCommit: () => {
            commits += 1;
            lastCommit = performance.now();
            if (firstCommit === 0) firstCommit = lastCommit;
          },
        },
      },
    );
    const wallMs = performance.now() - started;
    const out: IngestChildResult = {
      recordsIn: result.recordsIn,
      stored: result.stored,
      duplicates: result.duplicates,
      rejected: result.rejected,
      lag: result.lag,
      stoppedBy: result.stoppedBy,
      busyMs: lastCommit - started,
      wallMs,
      firstCommitMs: firstCommit - started,
      commits,
      maxRssKiB: process.resourceUsage().maxRSS,
      cpuMs: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1000,
      startedAtMs: performance.timeOrigin + started,
      lastCommitAtMs: performance.timeOrigin + lastCommit,
    };
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(out)}\n`);
  } finally {
    clearInterval(ticker);
    await db.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
