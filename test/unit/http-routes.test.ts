import test from 'ava';
import { BatchError } from '../../shared/errors/index.ts';
import { badTargetMessage, matchRoute, requestTarget, type Route } from '../../shared/http/index.ts';

const routes: Route<string>[] = [
  { method: 'GET', pattern: '/reports/list', handler: 'list' },
  { method: 'POST', pattern: '/reports/generate', handler: 'generate' },
  { method: 'GET', pattern: '/reports/:id/download', handler: 'download' },
  { method: 'POST', pattern: '/reports/:id/deliver', handler: 'deliver' },
  { method: 'POST', pattern: '/', handler: 'trigger' },
];

test('literal and parameter segments match; trailing slashes and queries are ignored', (t) => {
  t.is(matchRoute(routes, 'GET', '/reports/list/?x=1').route.handler, 'list');
  const download = matchRoute(routes, 'GET', '/reports/a%20b/download');
  t.is(download.route.handler, 'download');
  t.deepEqual(download.params, { id: 'a b' });
  t.is(matchRoute(routes, 'HEAD', '/reports/7/download').route.handler, 'download');
  t.is(matchRoute(routes, 'post', '/').route.handler, 'trigger');
});

test('a known path with another method is 405 naming the allowed methods', (t) => {
  const err = t.throws(() => matchRoute(routes, 'GET', '/reports/generate'), { instanceOf: BatchError });
  t.is(err.code, 'METHOD_NOT_ALLOWED');
  t.is(err.status, 405);
  t.regex(err.message, /GET \/reports\/generate: use POST/);
});

test('an unknown path is 404 listing the routes; a malformed escape is 400', (t) => {
  const err = t.throws(() => matchRoute(routes, 'GET', '/reports/1/2/3'), { instanceOf: BatchError });
  t.is(err.code, 'NOT_FOUND');
  t.regex(err.message, /routes: GET \/reports\/list, POST \/reports\/generate/);
  const bad = t.throws(() => matchRoute(routes, 'GET', '/reports/%E0%A4%A/download'), {
    instanceOf: BatchError,
  });
  t.is(bad.code, 'REQUEST_INVALID');
});

test('requestTarget: a target that starts with // is a path, never a host; what cannot be a URL is undefined', (t) => {
  t.is(requestTarget('//evil:99999/x?y=1')?.pathname, '//evil:99999/x');
  t.is(requestTarget('//%zz')?.pathname, '//%zz');
  t.is(requestTarget('/reports/..%2f..%2fetc')?.pathname, '/reports/..%2f..%2fetc');
  t.is(requestTarget(undefined)?.pathname, '/');
  t.is(requestTarget('http://host/a')?.pathname, '/a');
  t.is(requestTarget('*'), undefined);
  t.regex(badTargetMessage('*'), /^the request target "\*" is not a path/);
});
