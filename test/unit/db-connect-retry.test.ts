import { createServer } from 'node:net';
import test from 'ava';
import pg from 'pg';
import {
  connectWithRetry,
  describeTarget,
  isRetriableConnectError,
  openDatabase,
  type PoolFactory,
  type PoolLike,
} from '../../shared/db/index.ts';
import { BatchError } from '../../shared/errors/index.ts';

const PASSWORD = 'Sup3r-S3cret!pw';

/** A loopback port nothing listens on: bound by the OS, then released. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The default pg pool, counting how many connects were tried. */
function countingPgFactory(): { factory: PoolFactory; connects: () => number } {
  let connects = 0;
  const factory: PoolFactory = (config) => {
    const pool = new pg.Pool(config);
    const connect = pool.connect.bind(pool);
    return Object.assign(pool, {
      connect: () => {
        connects++;
        return connect();
      },
    });
  };
  return { factory, connects: () => connects };
}

/** A pool whose connect always fails with `err` (or never answers when err is undefined). */
function failingFactory(err: Error | undefined): { factory: PoolFactory; connects: () => number } {
  let connects = 0;
  const pool: PoolLike = {
    query: () => Promise.reject(new Error('not used')),
    connect: () => {
      connects++;
      return err ? Promise.reject(err) : new Promise(() => undefined);
    },
    end: () => Promise.resolve(),
    on: () => undefined,
  };
  return { factory: () => pool, connects: () => connects };
}

test('connect to an unused loopback port gives up after the configured attempts, naming the server but not the password', async (t) => {
  const port = await unusedPort();
  const { factory, connects } = countingPgFactory();
  const warnings: object[] = [];
  const started = Date.now();
  const err = await t.throwsAsync(
    openDatabase({
      url: `postgres://hxp:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/hxp_reports`,
      poolFactory: factory,
      connectRetry: { attempts: 4, initialDelayMs: 20, maxDelayMs: 40 },
      logger: { info: () => undefined, warn: (o) => warnings.push(o) },
    }),
    { instanceOf: BatchError },
  );
  t.is(err.code, 'DB_CONNECT_FAILED');
  t.true(err.retriable);
  t.is(connects(), 4);
  t.is(warnings.length, 3, 'one warning per retry');
  // Backoff 20 + 40 + 40 ms between the four attempts.
  t.true(Date.now() - started >= 100);
  t.regex(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  t.regex(err.message, /database "hxp_reports"/);
  t.regex(err.message, /ECONNREFUSED/);
  t.regex(err.message, /4 attempts/);
  t.false(err.message.includes(PASSWORD));
  t.false(err.message.includes(encodeURIComponent(PASSWORD)));
  t.false(JSON.stringify(err.context).includes(PASSWORD));
  t.like(err.context, {
    host: '127.0.0.1',
    port,
    database: 'hxp_reports',
    causeCode: 'ECONNREFUSED',
    attempts: 4,
  });
});

test('the retry stops when the time budget would be exceeded', async (t) => {
  const { factory, connects } = failingFactory(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
  // a virtual clock: each wait advances it by exactly its length, however busy the machine is
  let now = 0;
  const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
  const err = await t.throwsAsync(
    connectWithRetry(
      factory({ connectionString: 'postgres://u:p@db.internal:6543/x', max: 1 }),
      'postgres://u:p@db.internal:6543/x',
      { attempts: 100, initialDelayMs: 30, maxDelayMs: 30, maxElapsedMs: 100 },
      undefined,
      clock,
    ),
    { instanceOf: BatchError },
  );
  t.is(err.code, 'DB_CONNECT_FAILED');
  // Waits of 30 ms fit three times into 100 ms: attempts at 0, 30, 60 and 90 ms, far below the 100 allowed.
  t.is(connects(), 4);
  t.is(now, 90);
  t.regex(err.message, /db\.internal:6543/);
});

test('a rejected password is not retried and the password never shows, even if the cause quotes it', async (t) => {
  const cause = Object.assign(new Error(`password authentication failed (tried "${PASSWORD}")`), {
    code: '28P01',
  });
  const { factory, connects } = failingFactory(cause);
  const err = await t.throwsAsync(
    openDatabase({
      url: `postgres://hxp:${encodeURIComponent(PASSWORD)}@10.1.2.3:5432/hxp`,
      poolFactory: factory,
      connectRetry: { attempts: 5, initialDelayMs: 1 },
    }),
    { instanceOf: BatchError },
  );
  t.is(connects(), 1);
  t.false(err.retriable);
  t.is(err.cause, cause);
  t.regex(err.message, /28P01/);
  t.regex(err.message, /10\.1\.2\.3:5432/);
  t.regex(err.message, /check the credentials/);
  t.false(err.message.includes(PASSWORD));
});

test('an attempt that never answers counts as ETIMEDOUT and is retried', async (t) => {
  const { factory, connects } = failingFactory(undefined);
  const err = await t.throwsAsync(
    openDatabase({
      url: 'postgres://u@127.0.0.1:5999/d',
      poolFactory: factory,
      connectRetry: { attempts: 2, initialDelayMs: 1, attemptTimeoutMs: 30 },
    }),
    { instanceOf: BatchError },
  );
  t.is(connects(), 2);
  t.is(err.context.causeCode, 'ETIMEDOUT');
});

test('a pool factory that connects is used for queries', async (t) => {
  const seen: string[] = [];
  // db.query runs on a checked-out client (it listens for the client's 'error' while it holds it).
  const client = {
    query: async (text: string) => {
      seen.push(text);
      return { rows: text === 'SELECT 1 AS ok' ? [{ ok: 1 }] : [] };
    },
    release: () => seen.push('release'),
    on: () => undefined,
    off: () => undefined,
  };
  const factory: PoolFactory = (config) => {
    seen.push(`${config.connectionString} max=${config.max}`);
    return {
      query: async <R extends pg.QueryResultRow>(text: string) => {
        seen.push(text);
        return {
          rows: [{ ok: 1 }],
          command: 'SELECT',
          rowCount: 1,
          oid: 0,
          fields: [],
        } as unknown as pg.QueryResult<R>;
      },
      connect: async () => client as unknown as pg.PoolClient,
      end: async () => void seen.push('end'),
      on: () => undefined,
    };
  };
  const db = await openDatabase({ url: 'postgres://u@h/d', poolSize: 3, poolFactory: factory });
  const { rows } = await db.query('SELECT 1 AS ok');
  await db.close();
  t.deepEqual(rows, [{ ok: 1 }]);
  t.false(db.embedded);
  t.deepEqual(seen, ['postgres://u@h/d max=3', 'release', 'SELECT 1 AS ok', 'release', 'end']);
});

test('retry decisions read only the error code', (t) => {
  const withCode = (code: string | undefined, message = 'whatever') =>
    Object.assign(new Error(message), { code });
  for (const code of [
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EAI_AGAIN',
    '57P03',
    '53300',
    '08006',
    '08001',
  ]) {
    t.true(isRetriableConnectError(withCode(code)), code);
  }
  for (const code of ['28P01', '28000', '3D000', 'ENOTFOUND', '42601']) {
    t.false(isRetriableConnectError(withCode(code, 'connect ECONNREFUSED sounds transient')), code);
  }
  // pg's own transport failures carry no code.
  t.true(isRetriableConnectError(new Error('Connection terminated unexpectedly')));
});

test('describeTarget reads the URL and never returns the password in the named fields', (t) => {
  const target = describeTarget('postgres://rep%40ort:p%2Fw@db.example:6432/hxp%20prod');
  t.deepEqual(
    { host: target.host, port: target.port, database: target.database, user: target.user },
    { host: 'db.example', port: 6432, database: 'hxp prod', user: 'rep@ort' },
  );
  t.is(target.password, 'p/w');
});

test('retry settings that would never stop are refused with the value shown', async (t) => {
  const { factory } = failingFactory(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
  await t.throwsAsync(
    openDatabase({ url: 'postgres://u@h/d', poolFactory: factory, connectRetry: { attempts: 0 } }),
    {
      message: 'connectRetry.attempts must be a finite number (an integer ≥ 1), got 0',
    },
  );
  await t.throwsAsync(
    openDatabase({ url: 'postgres://u@h/d', poolFactory: factory, connectRetry: { maxElapsedMs: Infinity } }),
    { message: /connectRetry\.maxElapsedMs must be a finite number ≥ 0 \(ms\), got Infinity/ },
  );
  // Unset (undefined) settings fall back to the defaults (10 attempts) instead of removing the bound.
  const { factory: f2, connects } = failingFactory(Object.assign(new Error('no'), { code: 'ECONNREFUSED' }));
  const err = await t.throwsAsync(
    openDatabase({
      url: 'postgres://u@h/d',
      poolFactory: f2,
      connectRetry: { attempts: undefined, initialDelayMs: 1, maxDelayMs: 1 },
    }),
    { instanceOf: BatchError },
  );
  t.is(connects(), 10);
  t.is(err.context.attempts, 10);
});
