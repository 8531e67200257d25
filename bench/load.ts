// `npm run bench -- --load`: the push path under load and over time, on real PostgreSQL, and the Kafka pull
// path beside it in the same run (issue 15). The local runtime (gateway + every function of stack.yml) runs
// on a fresh database; autocannon posts unique events to /function/ingest at N connections, first 20-event
// bodies, then 500-event bodies; each phase checks that every acknowledged event is stored exactly once
// (count = distinct keys). Then as many events as the 500-event phase stored go through Kafka into
// pullFromKafka (bench/ingest.ts), and the push/pull ratio is judged against its 0.5× target. `--soak S`
// runs the 20-event load for S seconds instead (after a 30 s warm-up) and reports each function process's
// RSS at its start and end.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { startRuntime, type Runtime } from '../runtime/runtime.ts';
import { createKafka } from '../shared/kafka/index.ts';
import { benchEvents, benchSpan } from './dataset.ts';
import { measureIngest } from './ingest.ts';
import { produceEvents } from './produce.ts';
import { formatCount, say, step } from './progress.ts';
import { createTopic, deleteTopic, dropDatabase, freshDatabase, serviceUrls } from './services.ts';

export interface LoadArgs {
  /** Seconds per push phase (60 by default). */
  duration: number;
  connections: number;
  /** Events per body, one phase each. */
  bodies: number[];
  /** Seconds of the soak run; undefined = the load phases. */
  soak: number | undefined;
  keep: boolean;
}

/** Seconds of load before a soak's RSS at start is read. */
const SOAK_WARMUP_S = 30;

const USAGE = `usage: npm run bench -- --load [--duration 60] [--connections 32] [--bodies 20,500] [--soak [600]] [--keep]`;

export function parseLoadArgs(argv: readonly string[]): LoadArgs {
  const args: LoadArgs = { duration: 60, connections: 32, bodies: [20, 500], soak: undefined, keep: false };
  const positive = (flag: string, text: string | undefined): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`${flag}: "${text}" is not a positive integer\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--load') continue;
    if (flag === '--keep') args.keep = true;
    else if (flag === '--duration') args.duration = positive(flag, argv[++i]);
    else if (flag === '--connections') args.connections = positive(flag, argv[++i]);
    else if (flag === '--bodies') args.bodies = (argv[++i] ?? '').split(',').map((b) => positive(flag, b));
    else if (flag === '--soak') {
      const next = argv[i + 1];
      args.soak = next !== undefined && /^\d+$/.test(next) ? positive(flag, argv[++i]) : 600;
    } else throw new Error(`unknown flag "${flag}"\n${USAGE}`);
  }
  return args;
}

export interface PushPhase {
  eventsPerBody: number;
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** Events in 2xx answers (stored or duplicates). */
  acknowledged: number;
  /** Rows of this phase in raw_events, and distinct keys among them. */
  stored: number;
  distinct: number;
  exactlyOnce: boolean;
}

/** One body of `n` unique events: ids `<phase>-<request>-<i>`, timestamps in the last hour. */
function body(phase: string, request: number, n: number): string {
  const at = new Date(Date.now() - 60_000 - (request % 3000) * 1000).toISOString();
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    parts.push(
      `{"event_type":"llm_request","id":"${phase}-${request}-${i}","timestamp":"${at}","source":"api-${i % 4}",` +
        `"data":{"model":"llama-3-70b","latency_ms":${200 + ((request * 31 + i) % 900)},"tokens_in":350,` +
        `"tokens_out":120,"cost_usd":0.0042,"error":false}}`,
    );
  }
  return `[${parts.join(',')}]`;
}

async function pushPhase(
  rt: Runtime,
  eventsPerBody: number,
  seconds: number,
  connections: number,
): Promise<PushPhase> {
  const phase = `load${eventsPerBody}x${randomBytes(3).toString('hex')}`;
  let next = 0;
  let acknowledged = 0;
  const result = await autocannon({
    url: `${rt.gatewayUrl}/function/ingest`,
    connections,
    duration: seconds,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request, context) => {
          context.events = eventsPerBody;
          return { ...request, body: body(phase, next++, eventsPerBody) };
        },
        onResponse: (status, _body, context) => {
          if (status >= 200 && status < 300) acknowledged += context.events as number;
        },
      },
    ],
  });
  const { rows } = await rt.db.query<{ stored: string; distinct: string }>(
    `SELECT count(*) AS stored, count(DISTINCT idempotency_key) AS distinct FROM raw_events
      WHERE idempotency_key LIKE $1`,
    [`id:${phase}-%`],
  );
  const stored = Number(rows[0]!.stored);
  const distinct = Number(rows[0]!.distinct);
  return {
    eventsPerBody,
    connections,
    seconds: result.duration,
    requests: result.requests.total,
    requestsPerSec: result.requests.average,
    eventsPerSec: acknowledged / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    acknowledged,
    stored,
    distinct,
    // Every acknowledged event is there, none twice; a request cut at the end may have stored unacknowledged.
    exactlyOnce: stored === distinct && stored >= acknowledged && stored <= next * eventsPerBody,
  };
}

async function rssOf(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
}

async function rssByFunction(rt: Runtime): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const fn of rt.supervisor.all()) out[fn.spec.name] = await rssOf(fn.pid);
  return out;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

function phaseTable(phases: PushPhase[]): string {
  const lines = [
    '| body | connections | s | requests/s | events/s | p50 ms | p99 ms | errors | non-2xx | acknowledged | stored | exactly once |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const p of phases) {
    lines.push(
      `| ${p.eventsPerBody} events | ${p.connections} | ${p.seconds.toFixed(0)} | ${p.requestsPerSec.toFixed(0)} | ` +
        `${formatCount(p.eventsPerSec)} | ${p.p50Ms} | ${p.p99Ms} | ${p.errors} | ${p.non2xx} | ` +
        `${formatCount(p.acknowledged)} | ${formatCount(p.stored)} | ${p.exactlyOnce ? 'yes' : '**NO**'} |`,
    );
  }
  return lines.join('\n');
}

export async function runLoadBench(argv: readonly string[]): Promise<void> {
  const args = parseLoadArgs(argv);
  const urls = serviceUrls();
  const runId = Date.now().toString(36);
  const name = `hxp_bench_load_${runId}`;
  const startedAt = new Date().toISOString();
  const { value: bench } = await step(`create database ${name}`, () => freshDatabase(urls.databaseUrl, name));
  let rt: Runtime | undefined;
  const results: Record<string, unknown> = { startedAt, command: `npm run bench -- ${argv.join(' ')}`, args };
  try {
    rt = (
      await step('start the local runtime (gateway + stack.yml functions) on it', () =>
        startRuntime({
          gatewayPort: 0,
          apiPort: 0,
          cronTimers: false,
          env: { ...process.env, DATABASE_URL: bench.url, KAFKA_BOOTSTRAP_SERVERS: '', LOG_LEVEL: 'warn' },
          log: {
            info: () => undefined,
            warn: (o, m) => say(`runtime: ${m} ${JSON.stringify(o)}`),
            error: (o, m) => say(`runtime: ${m} ${JSON.stringify(o)}`),
          },
          output: () => undefined,
        }),
      )
    ).value;
    const runtime = rt;
    if (args.soak !== undefined) {
      // RSS at start is taken after a warm-up under the same load: the first requests grow the heap, JIT
      // code and connection pool to their working size once, which is not the growth a soak looks for.
      await step(`soak warm-up: 20-event bodies, ${args.connections} connections, ${SOAK_WARMUP_S} s`, () =>
        pushPhase(runtime, 20, SOAK_WARMUP_S, args.connections),
      );
      const before = await rssByFunction(runtime);
      const { value: phase } = await step(
        `soak: 20-event bodies, ${args.connections} connections, ${args.soak} s`,
        () => pushPhase(runtime, 20, args.soak!, args.connections),
      );
      const after = await rssByFunction(runtime);
      const rss = Object.keys(before).map((fn) => ({
        fn,
        startMiB: Number(mib(before[fn]!)),
        endMiB: Number(mib(after[fn]!)),
        growth: after[fn]! / before[fn]! - 1,
      }));
      Object.assign(results, { soak: phase, rss });
      console.log(`\n${phaseTable([phase])}\n`);
      console.log('| function | RSS at start | RSS at end | growth (target < 10 %) |\n|---|---|---|---|');
      for (const r of rss) {
        console.log(
          `| ${r.fn} | ${r.startMiB} MiB | ${r.endMiB} MiB | ${(r.growth * 100).toFixed(1)} %${r.growth < 0.1 ? '' : ' **MISS**'} |`,
        );
      }
    } else {
      const phases: PushPhase[] = [];
      for (const size of args.bodies) {
        const { value } = await step(
          `push: ${size}-event bodies, ${args.connections} connections, ${args.duration} s`,
          () => pushPhase(runtime, size, args.duration, args.connections),
        );
        phases.push(value);
        say(
          `  ${formatCount(value.eventsPerSec)} events/s, p99 ${value.p99Ms} ms, exactly once: ${value.exactlyOnce}`,
        );
      }
      await rt.stop();
      rt = undefined;
      const largest = phases[phases.length - 1]!;
      const pullEvents = Math.max(10_000, largest.stored);
      const kafka = createKafka({ brokers: urls.brokers, clientId: 'hxp-bench-load', logLevel: 'error' });
      const topic = `hxp-bench-load-${runId}`;
      await createTopic(kafka, topic, 4);
      try {
        await step(`produce ${formatCount(pullEvents)} events for the pull path (untimed)`, () =>
          produceEvents(kafka, benchEvents(pullEvents, benchSpan(2), 42), { topic, partitions: 4 }),
        );
        const { value: pull } = await step('pull: pullFromKafka in a child process', () =>
          measureIngest({
            databaseUrl: bench.url,
            brokers: urls.brokers,
            topic,
            groupId: `hxp-bench-load-${runId}`,
            idleMs: 1500,
            maxDurationMs: 3_600_000,
          }),
        );
        const ratio = largest.eventsPerSec / pull.eventsPerSec;
        Object.assign(results, {
          phases,
          pull: { events: pull.stored, eventsPerSec: pull.eventsPerSec },
          ratio,
        });
        console.log(`\n${phaseTable(phases)}\n`);
        console.log(
          `Kafka pull (same run, same database): ${formatCount(pull.stored)} events at ${formatCount(pull.eventsPerSec)} events/s.\n` +
            `push (${largest.eventsPerBody}-event bodies) / pull = ${ratio.toFixed(2)}× (target ≥ 0.5×): ${ratio >= 0.5 ? 'PASS' : '**MISS**'}`,
        );
      } finally {
        // Cleanup only: a topic left behind costs disk, not a result; the figures above are already printed.
        if (!args.keep) await deleteTopic(kafka, topic).catch(() => undefined);
      }
    }
  } finally {
    await rt?.stop();
    await bench.db.close();
    // Cleanup only: a database left behind is dropped by the next run of the same name (freshDatabase).
    if (!args.keep) await dropDatabase(urls.databaseUrl, name).catch(() => undefined);
  }
  results.finishedAt = new Date().toISOString();
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const file = new URL(`load-${args.soak === undefined ? 'latest' : 'soak-latest'}.json`, dir);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  say(`results: ${file.pathname} (${(performance.now() / 1000).toFixed(0)} s since start)`);
}
