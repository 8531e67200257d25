// A Kafka batch prepared in slices (prepareKafkaBatch) is the batch prepared in one piece, and the
// event loop runs between its slices — so the answers of the transactions in flight are taken meanwhile.
import test from 'ava';
import { prepareKafkaBatch } from '../../shared/ingest/prepare-kafka-batch.ts';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const settings = { now: () => NOW };

function batch(n: number) {
  const messages = Array.from({ length: n }, (_, i) => {
    // Every 7th record is not plain (whitespace) and every 11th is refused (no event_type): all three paths.
    const event =
      i % 11 === 0
        ? { id: `e${i}`, timestamp: new Date(NOW - i * 1000).toISOString(), data: {} }
        : {
            event_type: 'llm_request',
            id: `e${i % 500}`,
            timestamp: new Date(NOW - i * 1000).toISOString(),
            source: 'api',
            data: { tokens: i, model: 'm' },
          };
    const text = i % 7 === 0 ? JSON.stringify(event, null, 1) : JSON.stringify(event);
    return { offset: String(i), timestamp: String(NOW), value: Buffer.from(text) };
  });
  return { topic: 't', partition: 0, messages };
}

test('the yielding preparation gives what the one-piece preparation gives', async (t) => {
  const input = batch(1500);
  const whole = await prepareKafkaBatch(input, settings, 'copy', Number.POSITIVE_INFINITY);
  const sliced = await prepareKafkaBatch(input, settings, 'copy');
  t.deepEqual(sliced.prepared.rows.all(), whole.prepared.rows.all());
  t.deepEqual(sliced.prepared.repeats, whole.prepared.repeats);
  t.deepEqual(sliced.letters, whole.letters);
  t.deepEqual(sliced.prepared.copyRows?.chunks(), whole.prepared.copyRows?.chunks());
  t.deepEqual(sliced.prepared.keyClaims?.stream(), whole.prepared.keyClaims?.stream());
  t.true(whole.prepared.repeats.length > 0 && whole.letters.length > 0);
});

test('other work runs between the slices of a large batch', async (t) => {
  let turns = 0;
  let counting = true;
  const count = (): void => {
    if (!counting) return;
    turns += 1;
    setImmediate(count);
  };
  setImmediate(count);
  await prepareKafkaBatch(batch(2000), settings, 'copy');
  counting = false;
  // 2000 records are 8 slices: the counter got a turn between each two.
  t.true(turns >= 7, `${turns} turns`);
});

test('an event PostgreSQL cannot store is dead-lettered as the record it came as, not its data alone', async (t) => {
  // A NUL fits JSON ("\u0000") but no text or jsonb column: the event passes the contract and is refused
  // when its row is made. Its letter keeps the whole record (type, source, timestamp), as a replay needs.
  const text =
    '{"event_type":"llm_request","timestamp":"2026-12-01T11:00:00.000Z","source":"a\\u0000b","data":{"tokens":3}}';
  const prepared = await prepareKafkaBatch(
    {
      topic: 't',
      partition: 2,
      messages: [{ offset: '9', timestamp: String(NOW), value: Buffer.from(text) }],
    },
    settings,
    'copy',
  );
  t.is(prepared.prepared.rows.all().length, 0);
  const [letter] = prepared.prepared.unstorable;
  t.is(letter?.reasonCode, 'INGEST_UNSTORABLE_TEXT');
  t.is(letter?.payload.toString(), text);
  t.like(letter, { topic: 't', partition: 2, offset: '9' });
});
