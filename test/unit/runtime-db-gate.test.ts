import { performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import test, { type ExecutionContext } from 'ava';
import pg from 'pg';
import { createServer, connect, type AddressInfo } from 'node:net';
import { startDbGate, type DbGate } from '../../runtime/db-gate.ts';
import { startEmbeddedServer } from '../../runtime/embedded-db.ts';
import { gatedDatabase } from '../../shared/db/gated.ts';

test('pglite-socket with maxConnections 1 refuses a second client instead of queueing it', async (t) => {
  const pglite = await PGlite.create();
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  t.teardown(async () => {
    await server.stop();
    await pglite.close();
  });
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const first = new pg.Client({ connectionString: url });
  await first.connect();
  t.teardown(() => first.end());
  const second = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  second.on('error', () => undefined);
  await t.throwsAsync(() => second.connect());
});

test('the gate queues a second client until the first one leaves; neither sees the other uncommitted', async (t) => {
  const s = await startEmbeddedServer({});
  t.teardown(() => s.close());
  await s.db.query('CREATE TABLE marks (who text)');
  const a = new pg.Client({ connectionString: s.url });
  await a.connect();
  await a.query('BEGIN');
  await a.query("INSERT INTO marks VALUES ('a')");
  const b = (async () => {
    const c = new pg.Client({ connectionString: s.url });
    await c.connect();
    await c.query('BEGIN');
    const seen = await c.query<{ who: string }>('SELECT who FROM marks ORDER BY who');
    await c.query("INSERT INTO marks VALUES ('b')");
    await c.query('COMMIT');
    await c.end();
    return seen.rows.map((r) => r.who);
  })();
  await new Promise((r) => setTimeout(r, 300));
  t.is(s.gate.stats().waiting, 1, 'b waits while a holds the connection');
  const aSaw = await a.query<{ who: string }>('SELECT who FROM marks ORDER BY who');
  t.deepEqual(
    aSaw.rows.map((r) => r.who),
    ['a'],
  );
  await a.query('COMMIT');
  await a.end();
  t.deepEqual(await b, ['a'], 'b ran after a committed');
  const all = await s.db.query<{ who: string }>('SELECT who FROM marks ORDER BY who');
  t.deepEqual(
    all.rows.map((r) => r.who),
    ['a', 'b'],
  );
});

test('a client that disconnects inside a transaction is rolled back and its session state is reset', async (t) => {
  const s = await startEmbeddedServer({});
  t.teardown(() => s.close());
  await s.db.query('CREATE TABLE marks (who text)');
  const a = new pg.Client({ connectionString: s.url });
  a.on('error', () => undefined);
  await a.connect();
  await a.query("SET application_name = 'leaky'");
  await a.query('BEGIN');
  await a.query("INSERT INTO marks VALUES ('lost')");
  await a.end();
  const rows = await s.db.query('SELECT * FROM marks');
  t.is(rows.rowCount, 0);
  const name = await s.db.query<{ application_name: string }>('SHOW application_name');
  t.not(name.rows[0]?.application_name, 'leaky');
});

test('an idle pooled client is preempted when another waits, and its pool reconnects', async (t) => {
  const s = await startEmbeddedServer({ preemptIdleMs: 200 });
  t.teardown(() => s.close());
  const idlePool = new pg.Pool({ connectionString: s.url, max: 1, idleTimeoutMillis: 0 });
  idlePool.on('error', () => undefined);
  t.teardown(() => idlePool.end());
  t.is((await idlePool.query<{ n: number }>('SELECT 1 AS n')).rows[0]?.n, 1);
  const other = await s.db.query<{ n: number }>('SELECT 2 AS n');
  t.is(other.rows[0]?.n, 2);
  t.true(s.gate.stats().preempted >= 1);
  t.is((await idlePool.query<{ n: number }>('SELECT 3 AS n')).rows[0]?.n, 3);
});

test('COPY FROM STDIN through the gate fails with a clear error instead of hanging PGlite', async (t) => {
  const s = await startEmbeddedServer({});
  t.teardown(() => s.close());
  await s.db.query('CREATE TABLE copied (v text)');
  const client = new pg.Client({ connectionString: s.url });
  await client.connect();
  t.teardown(() => client.end());
  await client.query('BEGIN');
  const err = await t.throwsAsync(() =>
    client.query("COPY copied (v) FROM STDIN WITH (FORMAT text); SELECT 'x'"),
  );
  t.regex(err.message, /COPY FROM STDIN is not supported by the embedded database/);
  await client.query('ROLLBACK');
  await client.query("INSERT INTO copied VALUES ('after')");
  const big = 'x'.repeat(300_000);
  const { rows } = await client.query<{ n: number }>('SELECT length($1::text) AS n', [big]);
  t.is(rows[0]?.n, 300_000, 'large messages still pass the guard');
  const simple = await client.query<{ n: number }>(`SELECT length('${big}') AS n`);
  t.is(simple.rows[0]?.n, 300_000, 'a large simple query is inspected, then forwarded whole');
  t.is((await client.query('SELECT * FROM copied')).rowCount, 1);
});

/**
 * A gate in front of a stand-in upstream that greets every connection (so a client can tell it was let
 * through) and closes it; `onConnect` is told of each connection, `failures` collects the failed resets.
 */
async function gateOverGreeter(
  t: ExecutionContext,
  resetSession: () => Promise<void>,
  onConnect: () => void = () => undefined,
): Promise<{ gate: DbGate; failures: unknown[] }> {
  const upstream = createServer((socket) => {
    onConnect();
    socket.on('error', () => undefined);
    socket.end('welcome');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => upstream.close(() => r())));
  const failures: unknown[] = [];
  const gate = await startDbGate({
    upstreamHost: '127.0.0.1',
    upstreamPort: (upstream.address() as AddressInfo).port,
    upstreamIdle: async () => undefined,
    resetSession,
    onResetFailed: (err) => failures.push(err),
  });
  return { gate, failures };
}

test('a session that could not be reset is never handed on: the next client is refused, the reset retried', async (t) => {
  let resets = 0;
  const resetsWhenServed: number[] = [];
  const { gate, failures } = await gateOverGreeter(
    t,
    async () => {
      resets += 1;
      if (resets === 1) throw new Error('DISCARD ALL failed');
    },
    () => resetsWhenServed.push(resets),
  );
  t.teardown(() => gate.close());
  const answer = (): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const c = connect(gate.port, '127.0.0.1');
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('error', reject);
      c.on('close', () => resolve(Buffer.concat(chunks)));
    });
  t.is((await answer()).toString(), 'welcome', 'the first client is served');
  const refused = await answer();
  t.is(String.fromCharCode(refused[0]!), 'E', 'a PostgreSQL ErrorResponse');
  t.regex(refused.toString('latin1'), /SFATAL.*C08006.*could not reset its session/s);
  t.is(failures.length, 1);
  t.is((await answer()).toString(), 'welcome', 'after a good reset the next client is served again');
  t.like(gate.stats(), { served: 2, refused: 1 });
  t.deepEqual(resetsWhenServed, [0, 2], 'the failed reset was tried again, and passed, before serving again');
});

// Regression: the gate wrote each message to pglite-socket as header and body, with Nagle's algorithm on;
// the body then waited for the header's ACK, which the kernel delays by 40 ms (Linux's minimum delayed-ACK
// time) — every statement took ≥ 40 ms however fast the machine, and the demo's hourly windows 0.5 s each.
// The bug is a floor under every statement, so the fastest of 25 is what tells: a busy machine makes some
// statements slow (a median of 42 ms was seen at a load average of 14), never all of them.
test('a statement through the gate does not wait for a delayed ACK', async (t) => {
  const s = await startEmbeddedServer({});
  t.teardown(() => s.close());
  const client = new pg.Client({ connectionString: s.url });
  await client.connect();
  t.teardown(() => client.end());
  const ms: number[] = [];
  for (let i = 0; i < 25; i += 1) {
    const started = performance.now();
    const { rows } = await client.query<{ n: number }>('SELECT $1::int + 1 AS n', [i]);
    ms.push(performance.now() - started);
    t.is(rows[0]?.n, i + 1);
  }
  const fastest = Math.min(...ms);
  t.true(
    fastest < 40,
    `fastest round trip ${fastest.toFixed(1)} ms; each: ${ms.map((m) => m.toFixed(0)).join(' ')}`,
  );
});

// Regression: pg-pool handed a released client to a query made within its 1 ms idle time, so a job running
// units of work back to back (the hourly windows) kept PGlite's session for its whole run while the API, the
// demo's progress line and every other process waited. Each unit of work now gets its own connection.
test('units of work on a gated database take turns with other processes instead of holding the session', async (t) => {
  const s = await startEmbeddedServer({});
  t.teardown(() => s.close());
  const job = gatedDatabase(s.url);
  const other = gatedDatabase(s.url);
  t.teardown(() => Promise.all([job.close(), other.close()]).then(() => undefined));
  let done = 0;
  let doneWhenOtherAnswered = -1;
  const units = (async () => {
    for (let i = 0; i < 40; i += 1) {
      await job.query('SELECT $1::int AS i', [i]);
      done += 1;
      if (done === 2) {
        void other.query('SELECT 1').then(() => (doneWhenOtherAnswered = done));
      }
    }
  })();
  await units;
  t.true(doneWhenOtherAnswered >= 2, 'the other process was answered');
  t.true(doneWhenOtherAnswered < 10, `answered after ${doneWhenOtherAnswered} of the job's 40 units`);
});

// Regression: at shutdown the last client's session reset was still running when the gate closed and the
// runtime closed PGlite under it, and the reset failed (logged as an error on every `--demo --once`).
test('close waits for a reset under way before it returns', async (t) => {
  const events: string[] = [];
  let releaseReset: () => void = () => undefined;
  const { gate, failures } = await gateOverGreeter(t, async () => {
    events.push('reset started');
    await new Promise<void>((resolve) => (releaseReset = resolve));
    events.push('reset done');
  });
  await new Promise<void>((resolve, reject) => {
    const c = connect(gate.port, '127.0.0.1');
    c.on('data', () => undefined);
    c.on('error', reject);
    c.on('close', () => resolve());
  });
  while (!events.includes('reset started')) await new Promise((r) => setTimeout(r, 5));
  const closed = gate.close().then(() => events.push('closed'));
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(events, ['reset started'], 'close is still waiting for the reset');
  releaseReset();
  await closed;
  t.deepEqual(events, ['reset started', 'reset done', 'closed']);
  t.deepEqual(failures, []);
});
