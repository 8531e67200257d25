// Regression: the INGEST_UNSTORABLE_TEXT reason said only "event holds a NUL character or an unpaired UTF-16
// surrogate", while docs/events.md promises a reason that names the field and shows the value.
import test from 'ava';
import { unstorableReason } from '../../shared/ingest/storable.ts';

function event(fields: { source?: string; id?: string; data?: unknown }) {
  return {
    eventType: 'llm_request',
    source: fields.source ?? 'api-1',
    id: fields.id,
    idempotencyKey: fields.id === undefined ? 'hash:abc' : `id:${fields.id}`,
    metricNames: [],
    dimensionNames: [],
    dimensionValues: [],
    data: fields.data ?? {},
  };
}

const reasonOf = (e: ReturnType<typeof event>) => unstorableReason(e, JSON.stringify(e.data)) ?? '';

test('a storable event has no reason', (t) => {
  t.is(unstorableReason(event({ data: { prompt: 'ok 😀' } }), '{"prompt":"ok 😀"}'), undefined);
});

test('the reason names the field and shows the value, escaped', (t) => {
  const nul = reasonOf(event({ data: { model: 'x', messages: [{ text: 'a\u0000b' }] } }));
  t.regex(nul, /event field "data\.messages\[0\]\.text" holds a NUL character/);
  t.true(nul.includes('"a\\u0000b"'), nul);
  t.false(nul.includes('\u0000'));
  t.regex(nul, /remove it at the producer/);

  const source = reasonOf(event({ source: 'a\u0000' }));
  t.regex(source, /event field "source" holds a NUL character/);

  const id = reasonOf(event({ id: 'x\ud800y' }));
  t.regex(id, /event field "id" holds an unpaired UTF-16 surrogate/);
  t.true(id.includes('"x\\ud800y"'), id);

  const key = reasonOf(event({ data: { 'bad\u0000key': 1 } }));
  t.regex(key, /the name of event field "data\.bad\\u0000key" holds a NUL character/);
});
