// The demo: a week of synthetic events posted to `ingest` through a gateway, the aggregation chain run
// hour → day → week → month, a capacity analysis of the result, and a short daily table read from
// daily_aggregations.
import { latestCapacityAnalysis } from '../../shared/capacity/index.ts';
import type { Queryable } from '../../shared/db/index.ts';
import { dirtyClosedWindowCounts } from '../../shared/status/index.ts';
import { batches, generateDemoEvents, type DemoOptions } from './generate.ts';

// Events per POST. Functions on the embedded database insert with unnest (the runtime starts them with the
// embedded flag; pglite-socket does not speak COPY), so a batch may pass shared/ingest's COPY threshold.
// Per POST the fixed cost is one request and one transaction: 1,000 events make the demo week ~12 of them.
const DEFAULT_BATCH = 1000;

/** How often a running aggregation step reports its progress (the hourly step of the demo week takes seconds). */
const PROGRESS_EVERY_MS = 2_000;

const LEVEL_OF: Record<string, string> = {
  'aggregate-hourly': 'hour',
  'aggregate-daily': 'day',
  'aggregate-weekly': 'week',
  'aggregate-monthly': 'month',
};

export interface DemoResult {
  events: number;
  stored: number;
  duplicates: number;
  rejected: number;
  aggregations: Array<{ fn: string; status: number; body: unknown }>;
  /** POST /capacity/analysis on analyze-capacity; undefined when the stack has no such function. */
  capacity: { status: number; body: unknown } | undefined;
  table: DailyRow[];
}

export interface DailyRow {
  day: string;
  requests: number;
  latency_avg_ms: number | null;
  latency_p95_ms: number | null;
  error_rate: number | null;
  cost_usd: number | null;
  cpu_avg: number | null;
}

async function post(
  url: string,
  body: string,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

/**
 * Daily summary rows from the data contract's view (SQL owned here: read-only, demo only). A day bucket starts
 * at local midnight of the configured zone, so it is named by its date there (in UTC, Asia/Kolkata's
 * 2026-11-30 starts on 2026-11-29).
 */
export async function dailySummary(db: Queryable, timeZone = 'UTC'): Promise<DailyRow[]> {
  const { rows } = await db.query<DailyRow>(
    `SELECT to_char("timestamp" AT TIME ZONE $1::text, 'YYYY-MM-DD') AS day,
            max(count) FILTER (WHERE event_type = 'llm_request' AND metric = 'latency_ms')::int AS requests,
            round(max(avg) FILTER (WHERE event_type = 'llm_request' AND metric = 'latency_ms')::numeric, 1)::float8 AS latency_avg_ms,
            round(max(p95) FILTER (WHERE event_type = 'llm_request' AND metric = 'latency_ms')::numeric, 1)::float8 AS latency_p95_ms,
            round(max(avg) FILTER (WHERE event_type = 'llm_request' AND metric = 'error')::numeric, 4)::float8 AS error_rate,
            round(max(sum) FILTER (WHERE event_type = 'llm_request' AND metric = 'cost_usd')::numeric, 4)::float8 AS cost_usd,
            round(max(avg) FILTER (WHERE event_type = 'system_metric' AND metric = 'cpu_usage')::numeric, 1)::float8 AS cpu_avg
       FROM daily_aggregations
      WHERE dimension = 'all'
      GROUP BY 1
      ORDER BY 1`,
    [timeZone],
  );
  return rows;
}

export function formatTable(rows: DailyRow[]): string {
  const head = ['day', 'requests', 'latency avg ms', 'latency p95 ms', 'error rate', 'cost usd', 'cpu avg %'];
  const cells = rows.map((r) => [
    r.day,
    String(r.requests ?? ''),
    String(r.latency_avg_ms ?? ''),
    String(r.latency_p95_ms ?? ''),
    r.error_rate === null ? '' : `${(r.error_rate * 100).toFixed(2)}%`,
    String(r.cost_usd ?? ''),
    String(r.cpu_avg ?? ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string =>
    c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** One line per fleet series of the newest capacity analysis: its first recommendation (or why none). */
export async function capacitySummary(db: Queryable): Promise<string[]> {
  const answer = await latestCapacityAnalysis(db, { series: 'fleet', points: false });
  return (answer?.analyses ?? []).map(
    (a) => a.recommendations[0]?.text ?? `${a.resource}: ${a.reason ?? 'no recommendation'}`,
  );
}

/**
 * Awaits `work`, calling `tick` every `everyMs` meanwhile (one at a time; a failed tick is only a
 * missed progress line).
 */
async function whileWaiting<T>(work: Promise<T>, everyMs: number, tick: () => Promise<void>): Promise<T> {
  let done = false;
  const ticking = (async () => {
    for (;;) {
      // The work's own failure is the caller's to see (it awaits `work`); here it only ends a wait.
      await Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(r, everyMs))]);
      if (done) return;
      // A progress line that could not be made is skipped; the next tick tries again.
      await tick().catch(() => undefined);
    }
  })();
  try {
    return await work;
  } finally {
    done = true;
    await ticking;
  }
}

export async function runDemo(
  gatewayUrl: string,
  db: Queryable,
  options: DemoOptions & {
    batchSize?: number;
    onProgress?: (msg: string) => void;
    /** How often a running aggregation step says how many of its windows are done (default 2 s). */
    progressEveryMs?: number;
    /** The configured time zone (time.zone), for which rollup windows have closed; UTC by default. */
    timeZone?: string;
  } = {},
): Promise<DemoResult> {
  const base = gatewayUrl.replace(/\/$/, '');
  const say = options.onProgress ?? (() => undefined);
  const result: DemoResult = {
    events: 0,
    stored: 0,
    duplicates: 0,
    rejected: 0,
    aggregations: [],
    capacity: undefined,
    table: [],
  };
  // The API token, when one is configured, guards ingest and the capacity analysis alike.
  const token = process.env.BATCH_PROCESSING_API_TOKEN;
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  for (const batch of batches(generateDemoEvents(options), options.batchSize ?? DEFAULT_BATCH)) {
    const answer = await post(`${base}/function/ingest`, JSON.stringify(batch), 'application/json', auth);
    if (answer.status >= 300) {
      throw new Error(`ingest answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
    }
    const counts = answer.body as { stored?: number; duplicates?: number; rejected?: number };
    result.events += batch.length;
    result.stored += counts.stored ?? 0;
    result.duplicates += counts.duplicates ?? 0;
    result.rejected += counts.rejected ?? 0;
    say(
      `ingested ${result.events} events (${result.stored} new, ${result.duplicates} duplicates, ${result.rejected} rejected)`,
    );
  }
  for (const fn of ['aggregate-hourly', 'aggregate-daily', 'aggregate-weekly', 'aggregate-monthly']) {
    const started = Date.now();
    const level = LEVEL_OF[fn]!;
    const dirty = async (): Promise<number> =>
      (await dirtyClosedWindowCounts(db, options.timeZone ?? 'UTC', new Date())).find(
        (c) => c.level === level,
      )?.dirty ?? 0;
    const due = await dirty();
    const every = options.progressEveryMs ?? PROGRESS_EVERY_MS;
    const answer = await whileWaiting(post(`${base}/function/${fn}`, '', 'text/plain'), every, async () => {
      const left = await dirty();
      say(
        `${fn}: ${due - left} of ${due} ${level} windows done (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
    });
    result.aggregations.push({ fn, ...answer });
    say(`${fn}: HTTP ${answer.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (answer.status >= 300)
      throw new Error(`${fn} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  }
  const started = Date.now();
  const capacity = await post(`${base}/function/analyze-capacity/capacity/analysis`, '', 'text/plain', auth);
  if (capacity.status !== 404) {
    result.capacity = capacity;
    const c = capacity.body as { analyses?: number; alerts?: number };
    say(
      `analyze-capacity: HTTP ${capacity.status} in ${((Date.now() - started) / 1000).toFixed(1)} s` +
        (capacity.status === 200
          ? ` (${c.analyses} series analysed, ${c.alerts} alerts)`
          : `: ${JSON.stringify(capacity.body).slice(0, 200)}`),
    );
  }
  result.table = await dailySummary(db, options.timeZone);
  return result;
}
