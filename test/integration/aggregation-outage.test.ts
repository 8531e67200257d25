// PostgreSQL (a private cluster, test/helpers/private-postgres.ts) shut down immediately and restarted in the
// middle of an hourly aggregation run: the run fails with a retriable error, the next runs catch up once the lost
// run's lease expires, and every stored hour equals the sums over the raw events.
import type { ExecutionContext } from 'ava';
import { openDatabase } from '../../shared/db/index.ts';
import { runAggregation, type AggregationSummary } from '../../shared/jobs/index.ts';
import { deps, rng, storeTestEvents, type TestEvent } from './aggregate-fixtures.ts';
import { privateDatabase } from '../helpers/private-postgres.ts';
import { serviceTest } from '../helpers/services.ts';

const pgTest = serviceTest('postgres');
const START = Date.parse('2026-11-20T00:00:00Z');
const HOURS = 72;

pgTest.serial(
  'PostgreSQL restarted during an aggregation run: the run fails cleanly, the next ones catch up, the aggregates are exact',
  async (t: ExecutionContext) => {
    t.timeout(300_000);
    const { pg, db } = await privateDatabase(t);
    const random = rng(15);
    const events: TestEvent[] = [];
    for (let h = 0; h < HOURS; h++) {
      for (let i = 0; i < 40; i++) {
        events.push({
          ts: new Date(START + h * 3_600_000 + Math.floor(random() * 3_600_000)),
          metrics: {
            latency_ms: Math.round(50 + random() * 900),
            cost_usd: Math.round(random() * 1e4) / 1e6,
          },
          dims: { model: random() < 0.5 ? 'a' : 'b' },
        });
      }
    }
    t.is(await storeTestEvents(db, events), events.length);
    const now = new Date(START + (HOURS + 2) * 3_600_000);
    // No wait before a failed window is retried, and a lease short enough to outlive a lost lock holder.
    const jobDeps = deps(db, { retryDelayMs: 0, lockLeaseMs: 5_000 });

    // The outage starts once the first hour windows are done, mid-run.
    const watcher = await openDatabase({ url: pg.url, poolSize: 1 });
    const outage = (async () => {
      for (;;) {
        const { rows } = await watcher
          .query<{ n: number }>(
            "SELECT count(*)::int AS n FROM aggregation_windows WHERE level = 'hour' AND done_seq IS NOT NULL",
          )
          .catch(() => ({ rows: [{ n: 0 }] }));
        if ((rows[0]?.n ?? 0) > 3) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await watcher.close();
      await pg.stop('immediate');
      await new Promise((r) => setTimeout(r, 1500));
      await pg.start();
    })();
    const runs: string[] = [];
    let last: AggregationSummary | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      try {
        last = await runAggregation(jobDeps, { level: 'hour', trigger: 'manual', now });
        runs.push(
          `${last.status}: ${last.windowsDone}/${last.windowsDue} done, ${last.windowsFailed} failed`,
        );
        if (last.status === 'succeeded' && last.windowsDue === 0) break;
        // already_running: the lost run's lease has not expired yet.
        await new Promise((r) => setTimeout(r, 1000));
      } catch (err) {
        runs.push(`threw ${(err as { code?: string }).code}: ${(err as Error).message.slice(0, 120)}`);
        await outage;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await outage;
    t.log(runs.join('\n'));
    t.like(last, { status: 'succeeded', windowsDue: 0 }, 'a run finds nothing left to do');
    const { rows: diff } = await db.query<{ n: number }>(
      `WITH exact AS (
       SELECT date_trunc('hour', ts, 'UTC') AS bucket, event_type, m.name AS metric, count(*)::float8 AS count, sum(m.value) AS sum
         FROM raw_events, unnest(metric_names, metric_values) AS m(name, value) GROUP BY 1, 2, 3
     ), stored AS (
       SELECT "timestamp" AS bucket, event_type, metric, count::float8 AS count, sum FROM hourly_aggregations WHERE dimension = 'all'
     )
     SELECT count(*)::int AS n FROM exact e FULL JOIN stored s USING (bucket, event_type, metric)
      WHERE s.count IS DISTINCT FROM e.count OR abs(s.sum - e.sum) > 1e-9 * greatest(abs(e.sum), 1) OR s.sum IS NULL OR e.sum IS NULL`,
    );
    t.is(diff[0]!.n, 0, 'every hour, event type and metric equals the sums over the raw events');
    const { rows: hours } = await db.query<{ n: number }>(
      `SELECT count(DISTINCT "timestamp")::int AS n FROM hourly_aggregations`,
    );
    t.is(hours[0]!.n, HOURS);
  },
);
