// The /reports API's request parsers (shared/reports/api/requests.ts): each bad input is REQUEST_INVALID
// naming the field. Regression cases from probing the running API.
import test, { type ExecutionContext } from 'ava';
import { isBatchError } from '../../shared/errors/index.ts';
import {
  DeliverBody,
  invalid,
  parseGenerateBody,
  parseListQuery,
} from '../../shared/reports/api/requests.ts';

function refusal(t: ExecutionContext, run: () => unknown, label: string) {
  const err = t.throws(run, undefined, label);
  t.true(isBatchError(err, 'REQUEST_INVALID'), label);
  return err as Error & { context: { field?: string } };
}

// GET /reports/list?from=2026-11-30&to=2026-11-01 and ?from=2026-02-30 answered 200 with an empty list.
test('list: a day off the calendar, or from not before to, is refused naming the field', (t) => {
  for (const [query, field] of [
    [{ from: '2026-02-30' }, 'from'],
    [{ to: '2026-04-31T10:00:00Z' }, 'to'],
    [{ from: '2026-11-30', to: '2026-11-01' }, 'to'],
    [{ from: '2026-11-01', to: '2026-11-01' }, 'to'],
  ] as const) {
    const err = refusal(t, () => parseListQuery(query), JSON.stringify(query));
    t.is(err.context.field, field, JSON.stringify(query));
    t.regex(err.message, new RegExp(`"${field}"`), JSON.stringify(query));
  }
  t.like(parseListQuery({ from: '2024-02-29', to: '2024-03-01T00:00:00Z' }), { from: '2024-02-29' });
});

test('list: an unknown parameter is refused naming it and the ones it takes; an empty one is no parameter', (t) => {
  const err = refusal(t, () => parseListQuery({ kind: 'pdf', limit: '2' }), 'kind');
  t.is(err.context.field, 'kind');
  t.is(
    err.message,
    'unknown query parameter(s) kind; allowed: type, format, status, from, to, limit, cursor',
  );
  t.like(parseListQuery({ kind: '', limit: '2' }), { limit: 2 });
});

// POST /reports/1/deliver {"bogus":1} said "allowed: report_type, format, formats, period, …" — the fields of
// POST /reports/generate, none of which deliver takes.
test('deliver: an unknown field lists the fields deliver takes', (t) => {
  const raw = { bogus: 1 };
  const parsed = DeliverBody.safeParse(raw);
  t.false(parsed.success);
  const err = invalid('body', parsed.error!, raw, Object.keys(DeliverBody.shape));
  t.regex(err.message, /unknown field\(s\) "bogus"; allowed: recipients$/);
});

// {"report_type":"daily_summary","recipients":["a@b.c\u0000"]} was accepted (202) and then failed in the
// background storing the delivery: PostgreSQL text cannot hold NUL.
test('recipients: an address holding a control character is refused up front', (t) => {
  for (const address of ['a@b.c\u0000', 'a\u0000b@c.d', 'Ann\r\nBcc: x@y.z <a@b.c>', 'Ann\u0000 <a@b.c>']) {
    const err = refusal(
      t,
      () => parseGenerateBody({ report_type: 'daily_summary', recipients: [address] }),
      JSON.stringify(address),
    );
    t.is(err.context.field, 'recipients.0');
  }
  t.deepEqual(
    parseGenerateBody({ report_type: 'daily_summary', recipients: ['Ann Lee <ann@example.com>'] }).recipients,
    ['Ann Lee <ann@example.com>'],
  );
});
