// Every aggregation run ends with one summary line (its run id, result and counts) and its metrics on the
// injected registry: the original's success and completion rates, the duration histogram, runs by result.
import { Registry } from 'prom-client';
import { runAggregation } from '../../shared/jobs/index.ts';
import { bothBackends, deps, storeTestEvents } from './aggregate-fixtures.ts';

const LATER = new Date('2026-12-05T00:00:00Z');
const HOURS = ['2026-11-02T01:10:00Z', '2026-11-02T02:10:00Z', '2026-11-02T03:10:00Z'];

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function recordingLog(): { lines: Line[]; info: LogFn; warn: LogFn; error: LogFn } {
  const lines: Line[] = [];
  const at =
    (level: string): LogFn =>
    (obj, msg) =>
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
type LogFn = (obj: object, msg?: string) => void;

/** A sample's value by its name (a histogram's _count too) and labels; NaN when there is none. */
async function value(metrics: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  for (const m of await metrics.getMetricsAsJSON()) {
    for (const v of m.values as Array<{ metricName?: string; labels: object; value: number }>) {
      const matches = Object.entries(labels).every(
        ([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l,
      );
      if ((v.metricName ?? m.name) === name && matches) return v.value;
    }
  }
  return Number.NaN;
}

bothBackends('a timed-out run reports its completion rate and one warn summary line', async (t, db) => {
  // ten hours: the first batch of HOURS_PER_TRANSACTION (8) is always taken and finishes, two are left
  await storeTestEvents(
    db,
    Array.from({ length: 10 }, (_, h) => ({
      ts: new Date(Date.parse('2026-11-02T00:10:00Z') + h * 3_600_000),
      metrics: { latency_ms: 5 },
    })),
  );
  await db.query(`CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$`);
  await db.query(
    `CREATE TRIGGER test_slow AFTER INSERT ON aggregate_state FOR EACH STATEMENT EXECUTE FUNCTION test_slow()`,
  );
  const metrics = new Registry();
  const log = recordingLog();
  const slow = await runAggregation(deps(db, { timeoutMs: 200, concurrency: 1 }, { metrics, log }), {
    level: 'hour',
    trigger: 'cron',
    now: LATER,
    requestId: 'req-chain-1',
  });
  t.is(slow.status, 'timed_out');
  t.is(slow.windowsDue, 10);
  t.is(slow.windowsDone, 8);
  t.is(await value(metrics, 'batch_processing_completion_rate'), 8 / 10);
  t.is(await value(metrics, 'batch_processing_success_rate'), 1);
  t.is(await value(metrics, 'batch_processing_runs_total', { result: 'timed_out' }), 1);
  t.is(await value(metrics, 'batch_processing_duration_seconds_count'), 1);
  t.is(await value(metrics, 'batch_processing_last_success_timestamp_seconds'), 0, 'no success yet');
  const summaries = log.lines.filter((l) => l.msg === 'run finished');
  t.is(summaries.length, 1, 'one summary line per run');
  t.like(summaries[0], {
    level: 'warn',
    obj: {
      job: 'aggregate-hour',
      runId: slow.runId,
      result: 'timed_out',
      due: 10,
      attempted: 8,
      succeeded: 8,
    },
  });
  const { rows } = await db.query<{ details: { requestId?: string } }>(
    'SELECT details FROM runs WHERE id = $1',
    [slow.runId],
  );
  t.is(rows[0]?.details.requestId, 'req-chain-1', 'the ledger keeps the chain id');

  await db.query('DROP TRIGGER test_slow ON aggregate_state');
  const rest = await runAggregation(deps(db, {}, { metrics, log }), {
    level: 'hour',
    trigger: 'cron',
    now: LATER,
  });
  t.is(rest.status, 'succeeded');
  t.is(await value(metrics, 'batch_processing_completion_rate'), 1);
  t.is(await value(metrics, 'batch_processing_runs_total', { result: 'succeeded' }), 1);
  t.true((await value(metrics, 'batch_processing_last_success_timestamp_seconds')) > 1e9);
});

bothBackends('a failed ingestion step counts as a failed unit; a locked job moves no rate', async (t, db) => {
  await storeTestEvents(db, [{ ts: HOURS[0]!, metrics: { latency_ms: 5 } }]);
  const metrics = new Registry();
  const log = recordingLog();
  const failing = async (): Promise<{ rowsIn: number }> => {
    throw Object.assign(new Error('brokers unreachable'), { code: 'KAFKA_UNAVAILABLE' });
  };
  const partial = await runAggregation(deps(db, {}, { metrics, log }), {
    level: 'hour',
    trigger: 'cron',
    now: LATER,
    beforeAggregate: failing,
  });
  t.is(partial.status, 'partial');
  t.deepEqual(partial.ingestError, { code: 'KAFKA_UNAVAILABLE', message: 'brokers unreachable' });
  // Two units (the pull and one window), one succeeded; both were taken on.
  t.is(await value(metrics, 'batch_processing_success_rate'), 0.5);
  t.is(await value(metrics, 'batch_processing_completion_rate'), 1);

  await db.query(
    `INSERT INTO job_locks (job, locked_by, locked_at) VALUES ('aggregate-hour', 'someone-else', clock_timestamp())
     ON CONFLICT (job) DO UPDATE SET locked_by = EXCLUDED.locked_by, locked_at = EXCLUDED.locked_at`,
  );
  const locked = await runAggregation(deps(db, {}, { metrics, log }), {
    level: 'hour',
    trigger: 'cron',
    now: LATER,
  });
  t.is(locked.status, 'already_running');
  t.is(await value(metrics, 'batch_processing_runs_total', { result: 'already_running' }), 1);
  t.is(await value(metrics, 'batch_processing_success_rate'), 0.5, 'unchanged by a run that did nothing');
  t.is(await value(metrics, 'batch_processing_duration_seconds_count'), 1);
  const summaries = log.lines.filter((l) => l.msg === 'run finished');
  t.deepEqual(
    summaries.map((l) => [l.level, l.obj.result, l.obj.runId]),
    [
      ['warn', 'partial', partial.runId],
      ['info', 'already_running', locked.runId],
    ],
  );
});
