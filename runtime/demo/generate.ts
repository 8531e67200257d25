// Synthetic LLM-platform events for the demo and the benchmark: a deterministic stream (seeded PRNG)
// with daily seasonality, log-normal latencies and token counts, per-model prices, ~1.5 % errors,
// host metrics (cpu/memory/gpu, and disk filling up at a steady rate per host) every five minutes, user
// feedback and business events. Every event has
// a stable `id`, so posting the same demo twice stores it once.

import { prng } from './prng.ts';

export interface DemoEvent {
  event_type: 'llm_request' | 'system_metric' | 'user_feedback' | 'business_event';
  timestamp: string;
  source: string;
  id: string;
  data: Record<string, number | string | boolean>;
}

export interface DemoOptions {
  /** Exclusive end (default: the last closed hour of `now`). */
  end?: Date;
  now?: Date;
  /** Length of the stream in days (default 7). */
  days?: number;
  /** Mean llm_request events per hour at the daily peak (default 60). */
  requestsPerHour?: number;
  seed?: number;
}

export const DEMO_MODELS = [
  { model: 'llama-3-70b', share: 0.35, latencyMs: 900, pricePer1k: 0.0009 },
  { model: 'llama-3-8b', share: 0.3, latencyMs: 250, pricePer1k: 0.0002 },
  { model: 'mixtral-8x7b', share: 0.2, latencyMs: 500, pricePer1k: 0.0006 },
  { model: 'qwen-2.5-32b', share: 0.15, latencyMs: 650, pricePer1k: 0.0007 },
] as const;
export const DEMO_API_SOURCES = ['api-1', 'api-2', 'api-3'] as const;
/** A client that reports tokens but no cost_usd: its cost comes from the price table (docs/pricing.md). */
export const DEMO_UNMETERED_SOURCE = 'api-3';

/** The demo models' prices as a price table (pricing.models): what `npm run demo` configures. */
export function demoPriceTable(): Array<{
  model: string;
  input_usd_per_1k: number;
  output_usd_per_1k: number;
}> {
  return DEMO_MODELS.map((m) => ({
    model: m.model,
    input_usd_per_1k: m.pricePer1k,
    output_usd_per_1k: m.pricePer1k,
  }));
}

/**
 * The environment `npm run demo` starts its functions with: the demo models' prices
 * (BATCH_PROCESSING_PRICING), unless a price table is configured already — then `env` as it is.
 */
export function withDemoPricing(
  env: NodeJS.ProcessEnv,
  configured: { models: readonly unknown[]; file?: string | undefined },
): { env: NodeJS.ProcessEnv; priced: boolean } {
  if (configured.models.length > 0 || configured.file !== undefined) return { env, priced: false };
  return { env: { ...env, BATCH_PROCESSING_PRICING: JSON.stringify(demoPriceTable()) }, priced: true };
}
export const DEMO_HOSTS = ['gpu-node-1', 'gpu-node-2'] as const;
/** Disk use per host at the start of the stream and its growth per day (gpu-node-2 fills towards 80 %). */
export const DEMO_DISKS: Record<(typeof DEMO_HOSTS)[number], { start: number; perDay: number }> = {
  'gpu-node-1': { start: 48, perDay: 0.8 },
  'gpu-node-2': { start: 66, perDay: 1.2 },
};

const HOUR = 3_600_000;

/** Start of the current UTC hour, i.e. the end of the last closed one. */
export function lastClosedHourEnd(now = new Date()): Date {
  return new Date(Math.floor(now.getTime() / HOUR) * HOUR);
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const logNormal = (rand: () => number, median: number, sigma: number): number =>
  median * Math.exp(sigma * normal(rand));

function poisson(rand: () => number, mean: number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rand)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k += 1;
    p *= rand();
  }
  return k;
}

/** 0.25 at night (UTC) up to 1 in the afternoon. */
export function dailyLoad(at: Date): number {
  const h = at.getUTCHours() + at.getUTCMinutes() / 60;
  return 0.625 - 0.375 * Math.cos(((h - 3) / 24) * 2 * Math.PI);
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

function pickModel(rand: () => number): (typeof DEMO_MODELS)[number] {
  let r = rand();
  for (const m of DEMO_MODELS) {
    if (r < m.share) return m;
    r -= m.share;
  }
  return DEMO_MODELS[0];
}

export function* generateDemoEvents(options: DemoOptions = {}): Generator<DemoEvent> {
  const end = options.end ?? lastClosedHourEnd(options.now);
  const days = options.days ?? 7;
  const perHour = options.requestsPerHour ?? 60;
  const seed = options.seed ?? 42;
  const rand = prng(seed);
  const start = new Date(end.getTime() - days * 24 * HOUR);
  let n = 0;
  const id = (): string => `demo-${seed}-${start.toISOString().slice(0, 13)}-${(n += 1)}`;
  for (let hour = start.getTime(); hour < end.getTime(); hour += HOUR) {
    const load = dailyLoad(new Date(hour + HOUR / 2));
    const events: DemoEvent[] = [];
    const at = (): string => new Date(hour + Math.floor(rand() * HOUR)).toISOString();
    for (let i = poisson(rand, perHour * load); i > 0; i -= 1) {
      const m = pickModel(rand);
      const error = rand() < 0.015;
      const tokensIn = Math.max(1, Math.round(logNormal(rand, 350, 0.6)));
      const tokensOut = error ? 0 : Math.max(1, Math.round(logNormal(rand, 140, 0.7)));
      const latency = logNormal(rand, m.latencyMs * (0.8 + 0.4 * load) * (error ? 2 : 1), 0.45);
      const timestamp = at();
      const source = DEMO_API_SOURCES[Math.floor(rand() * DEMO_API_SOURCES.length)]!;
      const cost = round(((tokensIn + tokensOut) / 1000) * m.pricePer1k, 6);
      events.push({
        event_type: 'llm_request',
        timestamp,
        source,
        id: id(),
        data: {
          model: m.model,
          latency_ms: round(latency, 1),
          tokens_in: tokensIn,
          tokens_out: tokensOut,
          ...(source === DEMO_UNMETERED_SOURCE ? {} : { cost_usd: cost }),
          error,
        },
      });
      if (rand() < 0.05) {
        events.push({
          event_type: 'user_feedback',
          timestamp: at(),
          source: 'web-ui',
          id: id(),
          data: {
            model: m.model,
            rating: Math.min(5, Math.max(1, Math.round(4.1 + normal(rand) * 0.9 - (error ? 2 : 0)))),
          },
        });
      }
    }
    for (const host of DEMO_HOSTS) {
      for (let minute = 0; minute < 60; minute += 5) {
        const t = new Date(hour + minute * 60_000);
        const l = dailyLoad(t);
        const clamp = (v: number): number => round(Math.min(100, Math.max(0, v)), 1);
        events.push({
          event_type: 'system_metric',
          timestamp: t.toISOString(),
          source: host,
          id: id(),
          data: {
            cpu_usage: clamp(20 + 60 * l + normal(rand) * 5),
            memory_usage: clamp(55 + 25 * l + normal(rand) * 3),
            gpu_usage: clamp(10 + 85 * l + normal(rand) * 6),
            // no draw from rand: the other values of the stream stay what they were before disks were added
            disk_usage: clamp(
              DEMO_DISKS[host].start +
                (DEMO_DISKS[host].perDay * (t.getTime() - start.getTime())) / (24 * HOUR) +
                0.2 * Math.sin(t.getTime() / 3_600_000),
            ),
          },
        });
      }
    }
    for (let i = poisson(rand, 3 * load); i > 0; i -= 1) {
      const kind = rand() < 0.7 ? 'subscription_renewal' : 'new_subscription';
      events.push({
        event_type: 'business_event',
        timestamp: at(),
        source: 'billing',
        id: id(),
        data: { kind, value_usd: round(logNormal(rand, kind === 'new_subscription' ? 99 : 49, 0.5), 2) },
      });
    }
    events.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
    yield* events;
  }
}

/** Groups an event stream into arrays of at most `size` (one ingest request each). */
export function* batches<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
