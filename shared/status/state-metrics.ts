// GET /metrics of the status function: the state-derived metrics of the catalogue (shared/metrics), read
// fresh from the database — and Kafka's watermarks when brokers are configured — on every scrape, into a
// registry made for that scrape. Every replica answers the same, and a job process that is gone loses
// nothing: its last state is in the tables. The local runtime's /metrics appends this text to its own.
import { recordRetentionState } from '../retention/metrics.ts';
import type { RetentionPolicy } from '../retention/policy.ts';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { Queryable } from '../db/index.ts';
import { DEAD_LETTER_REASONS, partitionLags, type LagOffsets, type PartitionLag } from '../ingest/index.ts';
import { AGGREGATION_PERIODS, METRICS, gaugeOf } from '../metrics/index.ts';
import { PERIOD_LEVEL, type AggregationStatusReport, type Period } from './aggregation-status.ts';
import { capacityGaugeRows } from '../capacity/store-sql.ts';
import { setCapacityGauges } from '../capacity/metrics.ts';
import { deadLetterCounts, dirtyClosedWindowCounts, latestReportOutcomes } from './sql.ts';

/**
 * Where the lag of the raw topics is measured: against the offsets of the path that stores them
 * (kafka.consumption): the pull consumer group's, stored in PostgreSQL, or under push the connector group's,
 * committed in Kafka (the pull path's table has no rows then, and every retained record would look behind).
 */
export interface KafkaLagSource {
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  /** 'stored' (default): kafka_offsets in PostgreSQL; 'committed': the group's offsets in Kafka. */
  offsets?: LagOffsets | undefined;
  /** A scrape does not wait longer than this for Kafka (default 3 s). */
  timeoutMs?: number;
}

export interface StateMetricsInput {
  db: Queryable;
  report: AggregationStatusReport;
  timeZone: string;
  now: Date;
  kafkaLag?: KafkaLagSource | undefined;
  /** Storage usage, last sweep and failed units of the retention sweep (shared/retention). */
  retention?: RetentionPolicy | undefined;
}

const STATES = ['completed', 'running', 'failed', 'scheduled'] as const;
const PERIOD_STATUS_METRIC: Record<Period, keyof typeof METRICS> = {
  hourly: 'hourlyStatus',
  daily: 'dailyStatus',
  weekly: 'weeklyStatus',
  monthly: 'monthlyStatus',
};

/** The original's status value: 1 healthy (completed or running), 0 failed, -1 never run. */
export function periodStatusValue(status: AggregationStatusReport['periods'][Period]['status']): number {
  if (status === 'failed') return 0;
  if (status === 'scheduled') return -1;
  return 1;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function aggregationGauges(registry: Registry, input: StateMetricsInput, dirty: Map<string, number>): void {
  const state = gaugeOf(METRICS.aggregationState, registry);
  const freshness = gaugeOf(METRICS.freshness, registry);
  const lag = gaugeOf(METRICS.aggregationLag, registry);
  const dirtyWindows = gaugeOf(METRICS.dirtyWindows, registry);
  const failing = gaugeOf(METRICS.failingWindows, registry);
  const nextRun = gaugeOf(METRICS.nextRun, registry);
  for (const period of AGGREGATION_PERIODS) {
    const p = input.report.periods[period];
    gaugeOf(METRICS[PERIOD_STATUS_METRIC[period]], registry).set(periodStatusValue(p.status));
    for (const s of STATES) state.set({ period, state: s }, p.status === s ? 1 : 0);
    if (p.freshnessSeconds !== null) freshness.set({ period }, p.freshnessSeconds);
    // Always set: a period that never completed a bucket has no freshness, and its lag is then the only
    // sign that closed windows wait (a fresh deployment whose cron never fires).
    lag.set({ period }, p.lagSeconds);
    dirtyWindows.set({ period }, dirty.get(PERIOD_LEVEL[period]) ?? 0);
    failing.set({ period }, p.failingWindows);
    nextRun.set({ period }, Date.parse(p.nextRun) / 1000);
  }
}

/** The raw topics' lag per partition, or undefined when Kafka did not answer within the source's timeout. */
export async function readPartitionLags(
  db: Queryable,
  source: KafkaLagSource,
): Promise<PartitionLag[] | undefined> {
  try {
    return await withTimeout(
      partitionLags({ db, kafka: source.kafka }, source.groupId, source.topics, source.offsets),
      source.timeoutMs ?? 3_000,
      'reading Kafka watermarks',
    );
  } catch {
    return undefined;
  }
}

async function kafkaLagGauges(registry: Registry, db: Queryable, source: KafkaLagSource): Promise<void> {
  const lags = await readPartitionLags(db, source);
  // A Kafka outage must not take the other metrics down: the lag series go missing and this says why.
  gaugeOf(METRICS.kafkaLagUp, registry).set(lags ? 1 : 0);
  const lag = gaugeOf(METRICS.kafkaLag, registry);
  for (const p of lags ?? []) lag.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
}

export async function stateMetrics(input: StateMetricsInput): Promise<{ contentType: string; text: string }> {
  const registry = new Registry();
  const { db } = input;
  const [dirty, letters, reports, capacity] = await Promise.all([
    dirtyClosedWindowCounts(db, input.timeZone, input.now),
    deadLetterCounts(db),
    latestReportOutcomes(db),
    capacityGaugeRows(db),
    input.kafkaLag ? kafkaLagGauges(registry, db, input.kafkaLag) : undefined,
    input.retention ? recordRetentionState(registry, db, input.retention) : undefined,
  ]);
  aggregationGauges(registry, input, new Map(dirty.map((d) => [d.level, d.dirty])));
  const deadLetters = gaugeOf(METRICS.deadLetters, registry);
  // Every reason has a series, 0 when none waits: the registry is new on each scrape, and a reason without
  // a series an hour ago would hide its rise from zero from DeadLettersGrowing.
  for (const reason of DEAD_LETTER_REASONS) deadLetters.set({ reason }, 0);
  for (const l of letters) deadLetters.set({ reason: l.reason }, l.count);
  const reportStatus = gaugeOf(METRICS.reportGenerationStatus, registry);
  for (const r of reports)
    reportStatus.set({ report_type: r.report_type, format: r.format }, r.stored ? 1 : 0);
  setCapacityGauges(registry, capacity);
  return { contentType: registry.contentType, text: await registry.metrics() };
}
