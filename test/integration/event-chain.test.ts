// One request followed across functions: the aggregation run started by request "chain-…" publishes
// aggregation.completed carrying its run id and that request id (body and Kafka header request-id); the
// report catch-up the event starts records it as its cause, and publishes report.generated with the same
// request id.
import test from 'ava';
import { ingestPayload } from '../../shared/ingest/index.ts';
import {
  DEFAULT_JOB_OPTIONS,
  runAggregation,
  type AggregationCompletedEvent,
} from '../../shared/jobs/index.ts';
import { FIXTURE_NOW, loadReportFixture } from '../fixtures/report-data.ts';
import { reportHarness } from '../fixtures/report-deps.ts';
import { freshEmbeddedDatabase } from '../helpers/db.ts';

interface Published {
  topic: string;
  value: Record<string, unknown>;
  headers: Record<string, string> | undefined;
}

test('the request id and the run id travel with hxp.batch.events from aggregation to report', async (t) => {
  const { db, drop } = await freshEmbeddedDatabase();
  t.teardown(drop);
  await loadReportFixture(db);
  // A late event re-opens an hour of the (aggregated) fixture: the next hourly run has a window to do.
  await ingestPayload(
    { db, now: () => FIXTURE_NOW.getTime() },
    {
      body: JSON.stringify({
        event_type: 'llm_request',
        timestamp: '2026-11-28T22:10:00Z',
        data: { latency_ms: 9 },
      }),
      headers: {},
    },
  );
  const published: Published[] = [];
  const publish = async (topic: string, _key: string, value: object, headers?: Record<string, string>) =>
    void published.push({ topic, value: value as Record<string, unknown>, headers });

  const hour = await runAggregation(
    { db, options: { ...DEFAULT_JOB_OPTIONS }, publish },
    { level: 'hour', trigger: 'http', now: FIXTURE_NOW, requestId: 'chain-7f3a' },
  );
  t.is(hour.status, 'succeeded');
  const completed = published.find((p) => p.value.type === 'aggregation.completed');
  t.truthy(completed);
  t.like(completed?.value, { runId: hour.runId, requestId: 'chain-7f3a' });
  t.deepEqual(completed?.headers, { 'request-id': 'chain-7f3a' });
  for (const level of ['day', 'week', 'month'] as const) {
    await runAggregation(
      { db, options: { ...DEFAULT_JOB_OPTIONS } },
      { level, trigger: 'manual', now: FIXTURE_NOW },
    );
  }

  // The Kafka connector delivers the day's completion to generate-report; its catch-up records the cause.
  const h = reportHarness(db, { env: { BATCH_PROCESSING_REPORT_FORMATS: 'json' }, now: FIXTURE_NOW });
  t.teardown(() => h.cleanup());
  h.deps.publish = publish;
  h.deps.requestId = 'chain-7f3a';
  const dayEvent: AggregationCompletedEvent = {
    type: 'aggregation.completed',
    level: 'day',
    bucket: '2026-11-28T00:00:00.000Z',
    rows: 1,
    runId: hour.runId,
    requestId: 'chain-7f3a',
    at: FIXTURE_NOW.toISOString(),
  };
  const answer = await h.call('POST', '/', {
    headers: {
      'x-topic': 'hxp.batch.events',
      'x-kafka-partition': '0',
      'x-kafka-offset': '3',
      'x-kafka-request-id': 'chain-7f3a',
    },
    body: JSON.stringify(dayEvent),
  });
  const catchUpRun = (answer.body as { runId: number }).runId;
  const { rows } = await db.query<{ details: { cause?: unknown } }>(
    'SELECT details FROM runs WHERE id = $1',
    [catchUpRun],
  );
  t.deepEqual(rows[0]?.details.cause, {
    type: 'aggregation.completed',
    runId: hour.runId,
    requestId: 'chain-7f3a',
  });
  const generated = published.find((p) => p.value.type === 'report.generated');
  t.like(generated?.value, { requestId: 'chain-7f3a' });
  t.deepEqual(generated?.headers, { 'request-id': 'chain-7f3a' });
});
