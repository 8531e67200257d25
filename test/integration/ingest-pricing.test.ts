// Cost from the price table at ingest, end to end: pushed llm_requests without cost_usd get it from the
// price valid at their time (a price change mid-day splits the day's cost), reported costs are kept,
// unknown models are counted in the answer and stored without cost; the aggregates and the daily usage
// then show reported and inferred cost apart. Real PostgreSQL and PGlite; the pull path with real Kafka.
import type { Database } from '../../shared/db/index.ts';
import { ingestPayload, pullFromKafka, type PushDeps } from '../../shared/ingest/index.ts';
import { buildPriceTable } from '../../shared/pricing/index.ts';
import {
  answerAggregates,
  answerDailyUsage,
  type AggregatesPage,
  type DailyUsage,
} from '../../shared/query/index.ts';
import { createTopics, produceValues, testKafka, uniqueSuffix } from '../fixtures/ingest-kafka.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';
import { bothBackends, deps as jobDeps, runAllLevels } from './aggregate-fixtures.ts';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const built = buildPriceTable(
  [
    { model: 'llama-3-70b', input_usd_per_1k: 0.001, output_usd_per_1k: 0.002 },
    // The price halves at noon on the 28th (UTC): events before keep the old price.
    {
      model: 'llama-3-70b',
      input_usd_per_1k: 0.0005,
      output_usd_per_1k: 0.001,
      valid_from: '2026-11-28T12:00:00Z',
    },
  ],
  'UTC',
);
if (!built.ok) throw new Error(built.problems.join('; '));
const prices = built.table;

const request = (id: string, timestamp: string, data: Record<string, unknown>) => ({
  event_type: 'llm_request',
  timestamp,
  source: 'api-1',
  id,
  data: { latency_ms: 100, ...data },
});

async function push(db: Database, events: object[]) {
  const deps: PushDeps = { db, now: () => NOW, prices };
  return ingestPayload(deps, { body: events.map((e) => JSON.stringify(e)).join('\n'), headers: {} });
}

bothBackends(
  'inferred cost: the price valid at the event, reported cost kept, unknown model counted',
  async (t, db) => {
    const answer = await push(db, [
      // morning, old price: 1000 in × 0.001 + 500 out × 0.002 = 0.002
      request('a', '2026-11-28T09:00:00Z', { model: 'llama-3-70b', tokens_in: 1000, tokens_out: 500 }),
      // afternoon, new price: 0.0005 + 0.0005 = 0.001
      request('b', '2026-11-28T15:00:00Z', { model: 'llama-3-70b', tokens_in: 1000, tokens_out: 500 }),
      // reported: kept as is
      request('c', '2026-11-28T16:00:00Z', {
        model: 'llama-3-70b',
        tokens_in: 1000,
        tokens_out: 500,
        cost_usd: 0.25,
      }),
      // no price: stored without cost, counted
      request('d', '2026-11-28T17:00:00Z', { model: 'mystery-7b', tokens_in: 10, tokens_out: 5 }),
    ]);
    t.like(answer, { stored: 4, duplicates: 0, rejected: 0, costInferred: 2, unpriced: 1 });

    const { rows } = await db.query<{
      key: string;
      metric_names: string[];
      metric_values: number[];
      data: object;
    }>(
      `SELECT idempotency_key AS key, metric_names, metric_values, data FROM raw_events ORDER BY idempotency_key`,
    );
    const metrics = Object.fromEntries(
      rows.map((r) => [r.key, Object.fromEntries(r.metric_names.map((n, i) => [n, r.metric_values[i]]))]),
    );
    t.like(metrics['id:a'], { cost_usd: 0.002, cost_inferred: 1, cost_usd_inferred: 0.002 });
    t.like(metrics['id:b'], { cost_usd: 0.001, cost_inferred: 1, cost_usd_inferred: 0.001 });
    t.deepEqual(Object.keys(metrics['id:c']!).sort(), ['cost_usd', 'latency_ms', 'tokens_in', 'tokens_out']);
    t.is(metrics['id:c']?.cost_usd, 0.25);
    t.is(metrics['id:d']?.cost_usd, undefined);
    // The event keeps its data as received: the inference is in the metrics only.
    t.false('cost_usd' in (rows.find((r) => r.key === 'id:a')!.data as Record<string, unknown>));

    // The same events again are duplicates: nothing stored twice, the inference counted per body.
    t.like(
      await push(db, [
        request('a', '2026-11-28T09:00:00Z', { model: 'llama-3-70b', tokens_in: 1000, tokens_out: 500 }),
      ]),
      {
        stored: 0,
        duplicates: 1,
      },
    );

    await runAllLevels(jobDeps(db), new Date(NOW));
    const ctx = { db, timeZone: 'UTC', now: () => new Date(NOW) };
    const usage = (
      await answerDailyUsage(ctx, { query: { from: '2026-11-28', to: '2026-11-29' }, headers: {} })
    ).body as DailyUsage;
    const day = usage.days[0]!;
    t.is(day.requests, 4);
    t.is(day.inferred_requests, 2);
    t.true(Math.abs(day.cost_usd - 0.253) < 1e-12, String(day.cost_usd));
    t.true(Math.abs(day.cost_inferred_usd - 0.003) < 1e-12, String(day.cost_inferred_usd));
    t.true(Math.abs(day.cost_reported_usd - 0.25) < 1e-12, String(day.cost_reported_usd));
    const llama = day.models.find((m) => m.model === 'llama-3-70b')!;
    t.is(llama.inferred_requests, 2);
    t.is(day.models.find((m) => m.model === 'mystery-7b')?.cost_usd, 0);

    // The aggregates carry the split too: cost_usd_inferred per hour, next to cost_usd.
    const hours = (
      await answerAggregates(ctx, {
        query: { level: 'hour', metric: 'cost_usd,cost_usd_inferred', fields: 'sum', from: '2026-11-28' },
        headers: {},
      })
    ).body as AggregatesPage;
    t.deepEqual(
      hours.rows.map((r) => [r.timestamp.slice(11, 13), r.metric, r.sum]),
      [
        ['09', 'cost_usd', 0.002],
        ['09', 'cost_usd_inferred', 0.002],
        ['15', 'cost_usd', 0.001],
        ['15', 'cost_usd_inferred', 0.001],
        ['16', 'cost_usd', 0.25],
      ],
    );
  },
);

serviceTest('postgres', 'kafka')(
  'pull from Kafka infers the same costs, on the plain fast path and the general path alike',
  async (t) => {
    const suffix = uniqueSuffix();
    const topic = `hxp.test.pricing.${suffix}`;
    const groupId = `hxp-test-pricing-${suffix}`;
    const kafka = testKafka();
    await createTopics(t, kafka, [topic], 1, [groupId]);
    const fresh = await freshPgDatabase();
    t.teardown(fresh.drop);
    const llama = { model: 'llama-3-70b', tokens_in: 1000, tokens_out: 500 };
    await produceValues(
      kafka,
      topic,
      [
        // compact JSON of known fields: the fast path cuts the row from the text
        JSON.stringify(request('k1', '2026-11-28T09:00:00Z', llama)),
        // indented JSON is not plain: the general path decides
        JSON.stringify(request('k2', '2026-11-28T15:00:00Z', llama), null, 2),
        JSON.stringify(request('k3', '2026-11-28T16:00:00Z', { ...llama, cost_usd: 0.25 })),
        JSON.stringify(request('k4', '2026-11-28T17:00:00Z', { model: 'mystery-7b', tokens_in: 10 })),
      ],
      1,
    );
    const result = await pullFromKafka(
      { db: fresh.db, kafka },
      { groupId, topics: [topic], idleMs: 1500, maxWaitTimeMs: 200, now: () => NOW, prices },
    );
    t.like(result, { recordsIn: 4, stored: 4, rejected: 0, costInferred: 2, unpriced: 1 });
    const { rows } = await fresh.db.query<{ id: string; cost: number | null; inferred: number | null }>(
      `SELECT metric_values[array_position(metric_names, 'cost_usd')] AS cost,
              metric_values[array_position(metric_names, 'cost_usd_inferred')] AS inferred,
              to_char(ts AT TIME ZONE 'UTC', 'HH24') AS id
         FROM raw_events ORDER BY ts`,
    );
    t.deepEqual(
      rows.map((r) => [r.id, r.cost, r.inferred]),
      [
        ['09', 0.002, 0.002], // old price
        ['15', 0.001, 0.001], // new price, general path
        ['16', 0.25, null], // reported
        ['17', null, null], // unpriced
      ],
    );
  },
);
