import test from 'ava';
import { conflictId, conflictLetter, differingFields } from '../../shared/ingest/conflicts.ts';
import { contentText } from '../../shared/ingest/prepare-rows.ts';

const kept = {
  event_type: 'llm_request',
  timestamp: '2026-11-28T10:15:00+00:00',
  source: 'api-1',
  data: { model: 'llama-3-70b', cost_usd: 1, tags: ['a', 'b'], extra: null },
};

const content = (
  overrides: Partial<{ event_type: string; source: string; ts: string | null; data: object }>,
) => {
  const c = {
    event_type: 'llm_request',
    source: 'api-1',
    ts: '2026-11-28T10:15:00.000Z',
    data: kept.data,
    ...overrides,
  };
  return contentText(c.event_type, c.source, c.ts, JSON.stringify(c.data));
};

test('differingFields names the top-level fields and data keys that differ', (t) => {
  const parse = (text: string) => JSON.parse(text) as Parameters<typeof differingFields>[1];
  t.deepEqual(differingFields(kept, parse(content({}))), []);
  t.deepEqual(
    differingFields(kept, parse(content({ ts: null }))),
    [],
    'no timestamp of its own: not compared',
  );
  t.deepEqual(
    differingFields(
      kept,
      parse(
        content({
          source: 'api-2',
          ts: '2026-11-28T10:16:00Z',
          data: { model: 'llama-3-70b', cost_usd: 2, tags: ['b', 'a'], more: 1 },
        }),
      ),
    ),
    ['source', 'timestamp', 'data.cost_usd', 'data.extra', 'data.more', 'data.tags'],
  );
});

test('a conflict letter holds both events, names the differences and is keyed by id and content', (t) => {
  const refused = content({ data: { ...kept.data, cost_usd: 5 } });
  const letter = conflictLetter(
    'kafka',
    { id: 'req 7', kafka: { topic: 'raw', partition: 1, offset: '42' }, content: refused },
    kept,
  );
  t.like(letter, {
    origin: 'kafka',
    reasonCode: 'EVENT_CONFLICTING_DUPLICATE',
    topic: 'raw',
    partition: 1,
    offset: '42',
  });
  t.regex(
    letter.reason,
    /event id "req 7" was stored before with other content \(differs in data\.cost_usd\)/,
  );
  t.is(conflictId(letter.idempotencyKey), 'req 7');
  const payload = JSON.parse(letter.payload.toString()) as {
    kept: { id: string };
    conflicting: Record<string, unknown>;
  };
  t.is(payload.kept.id, 'req 7');
  t.deepEqual(payload.conflicting, {
    event_type: 'llm_request',
    timestamp: '2026-11-28T10:15:00.000Z',
    source: 'api-1',
    id: 'req 7',
    data: { ...kept.data, cost_usd: 5 },
  });
  const again = conflictLetter('http', { id: 'req 7', kafka: undefined, content: refused }, kept);
  t.is(again.idempotencyKey, letter.idempotencyKey, 'the same conflicting event lands one letter');
  const other = conflictLetter(
    'http',
    { id: 'req 7', kafka: undefined, content: content({ source: 'x' }) },
    kept,
  );
  t.not(other.idempotencyKey, letter.idempotencyKey);
  t.is(conflictId('conflict:a:b:c:0123'), 'a:b:c', 'ids may hold colons');
});
