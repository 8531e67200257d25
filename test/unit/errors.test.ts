import { readFileSync } from 'node:fs';
import test from 'ava';
import {
  BatchError,
  errorCatalogue,
  errorCodes,
  httpStatusOf,
  isBatchError,
  isRetriable,
} from '../../shared/errors/index.ts';

const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** The rows of the table in docs/errors.md, by code. */
function documentedCodes(): Map<string, { status: number; retriable: boolean }> {
  const rows = new Map<string, { status: number; retriable: boolean }>();
  for (const match of docs.matchAll(/^\| `([A-Z0-9_]+)` \| (\d{3}) \| (yes|no) \|/gm)) {
    rows.set(match[1] ?? '', { status: Number(match[2]), retriable: match[3] === 'yes' });
  }
  return rows;
}

test('every code in the catalogue is documented in docs/errors.md with its status and retriable flag', (t) => {
  const documented = documentedCodes();
  for (const code of errorCodes) {
    const row = documented.get(code);
    t.truthy(row, `${code} has no row in docs/errors.md`);
    t.deepEqual(
      row,
      { status: errorCatalogue[code].status, retriable: errorCatalogue[code].retriable },
      code,
    );
  }
});

test('docs/errors.md documents no code that the catalogue lacks', (t) => {
  const extra = [...documentedCodes().keys()].filter((code) => !Object.hasOwn(errorCatalogue, code));
  t.deepEqual(extra, []);
  t.true(documentedCodes().size >= 18, 'the table parsed (guards against a regex that matches nothing)');
});

test('the catalogue holds the codes other modules rely on, with sane statuses', (t) => {
  for (const code of [
    'CONFIG_INVALID',
    'DB_CONNECT_FAILED',
    'EVENT_TOO_LARGE',
    'JOB_TIMEOUT',
    'FUNCTION_NOT_DEPLOYED',
  ]) {
    t.true(errorCodes.includes(code as never), code);
  }
  for (const code of errorCodes) {
    const { status, description } = errorCatalogue[code];
    t.true(status >= 400 && status <= 599, `${code} status ${status}`);
    t.true(description.length > 10 && !description.includes('\n'), `${code} has a one-line description`);
  }
});

test('BatchError carries code, catalogue retriable flag, status, context and cause', (t) => {
  const cause = new Error('socket closed');
  const error = new BatchError('KAFKA_UNAVAILABLE', 'brokers down', {
    context: { topic: 'hxp.events.raw' },
    cause,
  });
  t.true(error instanceof Error);
  t.is(error.name, 'BatchError');
  t.is(error.code, 'KAFKA_UNAVAILABLE');
  t.true(error.retriable);
  t.is(error.status, 503);
  t.deepEqual(error.context, { topic: 'hxp.events.raw' });
  t.is(error.cause, cause);
  t.true(isBatchError(error, 'KAFKA_UNAVAILABLE'));
  t.false(isBatchError(error, 'S3_UNAVAILABLE'));
  t.deepEqual(JSON.parse(JSON.stringify(error)), {
    name: 'BatchError',
    code: 'KAFKA_UNAVAILABLE',
    message: 'brokers down',
    retriable: true,
    context: { topic: 'hxp.events.raw' },
  });
});

test('BatchError defaults its message to the description and lets one error override retriable', (t) => {
  const error = new BatchError('EVENT_TOO_OLD');
  t.is(error.message, errorCatalogue.EVENT_TOO_OLD.description);
  t.false(error.retriable);
  t.true(new BatchError('EVENT_TOO_OLD', 'x', { retriable: true }).retriable);
  t.false(new BatchError('WINDOW_FAILED', 'x', { retriable: false }).retriable);
});

const withCode = (code: string, message = 'whatever') => Object.assign(new Error(message), { code });

test('isRetriable follows the catalogue for BatchErrors and for bare errors carrying a catalogue code', (t) => {
  t.true(isRetriable(new BatchError('DB_CONNECT_FAILED')));
  t.false(isRetriable(new BatchError('EVENT_SCHEMA')));
  t.true(isRetriable(withCode('S3_UNAVAILABLE')));
  t.false(isRetriable(withCode('REQUEST_INVALID')));
});

test('isRetriable: retriable SQLSTATEs of pg DatabaseError', (t) => {
  for (const code of ['40001', '40P01', '57P01', '08000', '08003', '08006', '08001', '08P01']) {
    t.true(isRetriable(withCode(code)), code);
  }
  for (const code of ['23505', '42P01', '22003', '42601', '28P01', '3D000'])
    t.false(isRetriable(withCode(code)), code);
});

test('isRetriable never reads message text', (t) => {
  t.false(isRetriable(new Error('deadlock detected; ECONNREFUSED; timeout; please retry')));
  t.false(isRetriable(withCode('23505', 'could not serialize access due to concurrent update (40001)')));
  t.true(isRetriable(withCode('40001', 'duplicate key value violates unique constraint')));
});

test('isRetriable honours an explicit retriable flag (kafkajs errors) over the code', (t) => {
  t.true(isRetriable(Object.assign(new Error('x'), { retriable: true })));
  t.false(isRetriable(Object.assign(new Error('x'), { retriable: false, code: '40001' })));
});

test('isRetriable follows cause and AggregateError members; socket codes are retriable', (t) => {
  t.true(isRetriable(new Error('wrapped', { cause: withCode('40P01') })));
  t.false(isRetriable(new Error('wrapped', { cause: withCode('23505') })));
  t.true(isRetriable(new AggregateError([withCode('ECONNREFUSED')], 'connect failed')));
  t.true(isRetriable(withCode('ECONNRESET')));
  t.false(isRetriable(withCode('ENOENT')));
  for (const value of [undefined, null, 'ECONNRESET', 40001, {}]) t.false(isRetriable(value), String(value));
});

test('httpStatusOf maps catalogue codes and falls back to 500', (t) => {
  t.is(httpStatusOf(new BatchError('REQUEST_INVALID')), 400);
  t.is(httpStatusOf(new BatchError('FUNCTION_NOT_DEPLOYED')), 503);
  t.is(httpStatusOf(withCode('23505')), 500);
  t.is(httpStatusOf(new Error('x')), 500);
});
