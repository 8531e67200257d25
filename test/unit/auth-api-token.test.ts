import test from 'ava';
import { hasApiToken, requireApiToken, sameSecret } from '../../shared/auth/index.ts';
import { BatchError } from '../../shared/errors/index.ts';

const token = 's3cr3t-token-value';

test('no token configured: every request is allowed', (t) => {
  t.true(hasApiToken({}, undefined));
  t.notThrows(() => requireApiToken({}, undefined, 'POST /reports/generate'));
});

test('a configured token needs "Authorization: Bearer <token>" (scheme case-insensitive)', (t) => {
  t.true(hasApiToken({ authorization: `Bearer ${token}` }, token));
  t.true(hasApiToken({ authorization: `bearer ${token}` }, token));
  t.true(hasApiToken({ authorization: [`Bearer ${token}`] }, token));
  t.false(hasApiToken({}, token));
  t.false(hasApiToken({ authorization: `Bearer ${token}x` }, token));
  t.false(hasApiToken({ authorization: `Basic ${token}` }, token));
  t.false(hasApiToken({ authorization: token }, token));
  t.false(hasApiToken({ authorization: 'Bearer ' }, token));
});

test('a refusal is UNAUTHORIZED (401), names the action and never echoes the token', (t) => {
  const missing = t.throws(() => requireApiToken({}, token, 'POST /retention/cleanup'), {
    instanceOf: BatchError,
  });
  t.is(missing.code, 'UNAUTHORIZED');
  t.is(missing.status, 401);
  t.regex(missing.message, /POST \/retention\/cleanup needs the API token.*no Authorization header/);
  const wrong = t.throws(() => requireApiToken({ authorization: `Bearer ${token}!` }, token, 'replay'), {
    instanceOf: BatchError,
  });
  t.regex(wrong.message, /a wrong token/);
  t.false(wrong.message.includes(token));
  t.false(JSON.stringify(wrong.context).includes(token));
});

test('sameSecret compares whole values, unequal lengths included', (t) => {
  t.true(sameSecret('abc', 'abc'));
  t.false(sameSecret('abc', 'abd'));
  t.false(sameSecret('ab', 'abc'));
  t.false(sameSecret('', 'a'));
  t.true(sameSecret('', ''));
});
