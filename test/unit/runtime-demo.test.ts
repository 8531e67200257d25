import test from 'ava';
import { batches, dailyLoad, generateDemoEvents, lastClosedHourEnd } from '../../runtime/demo/generate.ts';
import { connectorHeaders } from '../../runtime/kafka-bridge.ts';

test('the demo week is deterministic, ends at the last closed hour and looks like the platform', (t) => {
  const now = new Date('2026-11-28T10:37:00Z');
  const events = [...generateDemoEvents({ now, days: 7, seed: 7 })];
  t.deepEqual(events, [...generateDemoEvents({ now, days: 7, seed: 7 })]);
  t.is(lastClosedHourEnd(now).toISOString(), '2026-11-28T10:00:00.000Z');
  const times = events.map((e) => Date.parse(e.timestamp));
  t.true(Math.max(...times) < Date.parse('2026-11-28T10:00:00Z'));
  t.true(Math.min(...times) >= Date.parse('2026-11-21T10:00:00Z'));
  t.is(new Set(events.map((e) => e.id)).size, events.length, 'ids are unique');

  const requests = events.filter((e) => e.event_type === 'llm_request');
  const errorRate = requests.filter((e) => e.data.error === true).length / requests.length;
  t.true(errorRate > 0.005 && errorRate < 0.03, `error rate ${errorRate}`);
  t.true(new Set(requests.map((e) => e.data.model)).size >= 3);
  t.true(new Set(requests.map((e) => e.source)).size >= 2);
  const latencies = requests.map((e) => e.data.latency_ms as number).sort((a, b) => a - b);
  const p50 = latencies[Math.floor(latencies.length / 2)]!;
  const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
  t.true(p99 / p50 > 2.5, 'a long right tail (log-normal)');
  for (const type of ['system_metric', 'user_feedback', 'business_event']) {
    t.true(
      events.some((e) => e.event_type === type),
      type,
    );
  }
  // daily seasonality: more requests in the afternoon than at night
  const byHour = (h: number) => requests.filter((e) => new Date(e.timestamp).getUTCHours() === h).length;
  t.true(byHour(15) > byHour(3) * 2);
  t.true(dailyLoad(new Date('2026-11-28T15:00:00Z')) > dailyLoad(new Date('2026-11-28T03:00:00Z')));
  t.deepEqual([...batches([1, 2, 3, 4, 5], 2)], [[1, 2], [3, 4], [5]]);
});

test('connector headers carry the key as text, or base64 with X-Kafka-Key-Enc when binary', (t) => {
  const base = { offset: '7', timestamp: '1700000000000' };
  const text = connectorHeaders('t1', 2, {
    ...base,
    key: Buffer.from('user-1'),
    headers: { trace: Buffer.from('x') },
  });
  t.like(text, {
    'X-Topic': 't1',
    'X-Kafka-Partition': '2',
    'X-Kafka-Offset': '7',
    'X-Kafka-Key': 'user-1',
    'X-Kafka-trace': 'x',
  });
  t.false('X-Kafka-Key-Enc' in text);
  const binary = connectorHeaders('t1', 0, { ...base, key: Buffer.from([0xc3, 0x28]), headers: {} });
  t.like(binary, { 'X-Kafka-Key': Buffer.from([0xc3, 0x28]).toString('base64'), 'X-Kafka-Key-Enc': 'b64' });
  const noKey = connectorHeaders('t1', 0, { ...base, key: null, headers: {} });
  t.false('X-Kafka-Key' in noKey);
});
