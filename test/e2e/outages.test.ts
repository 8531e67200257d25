// Outages mid-run (issue 15), each against real services: a PostgreSQL cluster of the test's own
// (test/helpers/private-postgres.ts) is restarted while events are pushed, so the shared server is never
// touched; a function process is killed mid-request. Producers retry what was not acknowledged, as a real
// producer does; afterwards every event is stored exactly once and every failure seen was a catalogued one.
import { connect } from 'node:net';
import { startRuntime } from '../../runtime/runtime.ts';
import { openDatabase } from '../../shared/db/index.ts';
import { errorCatalogue, isErrorCode } from '../../shared/errors/index.ts';
import { privatePostgresAvailable, startPrivatePostgres } from '../helpers/private-postgres.ts';
import { recordingLog, until } from './runtime-fixtures.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';

// The private cluster needs the PostgreSQL binaries the postgres service installs.
const pgTest = serviceTest('postgres');

const event = (id: string, minutesAgo: number) => ({
  event_type: 'llm_request',
  id,
  timestamp: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
  data: { model: 'm', latency_ms: 100, cost_usd: 0.001 },
});

/** What a failed answer said: its status and catalogue code (undefined when the body had none). */
function failureOf(status: number, text: string): string {
  let code: unknown;
  try {
    code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
  } catch {
    code = undefined;
  }
  return `${status} ${String(code)}`;
}

pgTest.serial(
  'PostgreSQL restarted during push ingest: clean failures, then every event stored exactly once and answered stored once',
  async (t) => {
    t.timeout(300_000);
    t.true(privatePostgresAvailable(), 'PostgreSQL binaries (bash scripts/services install)');
    const pg = await startPrivatePostgres();
    t.teardown(() => pg.destroy());
    const output: string[] = [];
    const rt = await startRuntime({
      gatewayPort: 0,
      apiPort: 0,
      cronTimers: false,
      env: { ...process.env, DATABASE_URL: pg.url, KAFKA_BOOTSTRAP_SERVERS: '', LOG_LEVEL: 'warn' },
      log: recordingLog(),
      output: (fn, line) => void output.push(`[${fn}] ${line}`),
    });
    t.teardown(() => rt.stop());
    const ingest = rt.supervisor.get('ingest')!;
    const pid = ingest.pid;

    const BODIES = 60;
    const PER_BODY = 50;
    const failures = new Map<string, number>();
    let acknowledged = 0;
    const answers = new Map<number, { body: string; text: string }>();
    let next = 0;
    let outage: Promise<void> | undefined;
    async function sender(): Promise<void> {
      for (;;) {
        const n = next++;
        if (n >= BODIES) return;
        if (n === BODIES / 3) {
          // Mid-run: an immediate shutdown (every backend gone at once, as in a crash), then a start.
          outage = (async () => {
            await pg.stop('immediate');
            await new Promise((r) => setTimeout(r, 1500));
            await pg.start();
          })();
        }
        const body = JSON.stringify(
          Array.from({ length: PER_BODY }, (_, i) => event(`pg-${n}-${i}`, (n * 7 + i) % 120)),
        );
        const deadline = Date.now() + 120_000;
        for (;;) {
          let status = 0;
          let text = '';
          try {
            const res = await fetch(`${rt.gatewayUrl}/function/ingest`, {
              method: 'POST',
              // a producer names each request, so a retry after a lost answer is told what the first
              // attempt stored instead of "duplicates"
              headers: { 'content-type': 'application/json', 'idempotency-key': `pg-body-${n}` },
              body,
            });
            status = res.status;
            text = await res.text();
          } catch (err) {
            text = (err as Error).message;
          }
          if (status === 200) {
            acknowledged += (JSON.parse(text) as { stored: number }).stored;
            answers.set(n, { body, text });
            break;
          }
          const what = failureOf(status, text);
          failures.set(what, (failures.get(what) ?? 0) + 1);
          if (Date.now() > deadline)
            throw new Error(`body ${n} never stored: last answer ${what} ${text.slice(0, 200)}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }
    await Promise.all([sender(), sender(), sender(), sender()]);
    await outage;
    t.log(`failures while PostgreSQL was down: ${JSON.stringify(Object.fromEntries(failures))}`);
    t.true(failures.size > 0, 'the outage was seen by the producers');
    for (const what of failures.keys()) {
      const [status, code] = what.split(' ');
      t.true(isErrorCode(code), `${what}: a catalogued code`);
      if (isErrorCode(code)) {
        t.true(errorCatalogue[code].retriable, `${what}: retriable, so a producer knows to send again`);
        t.is(Number(status), errorCatalogue[code].status);
      }
    }
    // every event counted stored in exactly one answer, whatever the outage cut off
    t.is(acknowledged, BODIES * PER_BODY);
    const first = answers.get(BODIES / 3)!;
    const again = await fetch(`${rt.gatewayUrl}/function/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `pg-body-${BODIES / 3}` },
      body: first.body,
    });
    t.is(again.status, 200);
    t.is(again.headers.get('idempotent-replayed'), 'true');
    t.deepEqual(await again.json(), JSON.parse(first.text));
    const db = await openDatabase({ url: pg.url, poolSize: 1 });
    t.teardown(() => db.close());
    const { rows } = await db.query<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS distinct FROM raw_events WHERE idempotency_key LIKE 'id:pg-%'`,
    );
    t.deepEqual(rows[0], { n: BODIES * PER_BODY, distinct: BODIES * PER_BODY });
    t.is(
      ingest.restarts,
      0,
      `the ingest function rode out the outage without a restart; it said:\n${output.slice(-20).join('\n')}`,
    );
    t.is(ingest.pid, pid);
  },
);

pgTest.serial(
  'a function process killed mid-request: a catalogued 502, a restart, and the retried request stored once',
  async (t) => {
    t.timeout(300_000);
    const database = await freshPgDatabase();
    t.teardown(() => database.drop());
    const rt = await startRuntime({
      gatewayPort: 0,
      apiPort: 0,
      cronTimers: false,
      env: { ...process.env, DATABASE_URL: database.url, KAFKA_BOOTSTRAP_SERVERS: '', LOG_LEVEL: 'warn' },
      log: recordingLog(),
      output: () => undefined,
      backoffMs: { initial: 100, max: 1000 },
    });
    t.teardown(() => rt.stop());
    const ingest = rt.supervisor.get('ingest')!;
    const firstPid = ingest.pid;
    const body = Buffer.from(
      JSON.stringify(Array.from({ length: 200 }, (_, i) => event(`kill-${i}`, i % 60))),
    );

    // Half the body, so the request is surely in the function when it dies; then the kill; then the rest.
    const port = Number(new URL(rt.gatewayUrl).port);
    const before = rt.gateway.invocationCount('ingest');
    const socket = connect(port, '127.0.0.1');
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
    });
    socket.write(
      `POST /function/ingest HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    socket.write(body.subarray(0, body.length >> 1));
    await until(
      () => rt.gateway.invocationCount('ingest') > before,
      30_000,
      'the gateway to forward the call',
    );
    ingest.kill('SIGKILL');
    await until(() => ingest.pid !== firstPid || undefined, 30_000, 'the supervisor to notice');
    socket.end(body.subarray(body.length >> 1));
    const raw = await answer;
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
    t.is(status, 502, raw.slice(0, 300));
    const code = (
      JSON.parse(raw.slice(raw.indexOf('{'), raw.lastIndexOf('}') + 1)) as { error: { code: string } }
    ).error.code;
    t.is(code, 'FUNCTION_UNREACHABLE');
    t.true(isErrorCode(code) && errorCatalogue[code].retriable);

    // The producer sends it again (twice, as a retry after a lost answer would): stored once.
    await ingest.ready(60_000);
    t.true(ingest.restarts >= 1);
    const send = async () => {
      const res = await fetch(`${rt.gatewayUrl}/function/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      t.is(res.status, 200);
      return (await res.json()) as { stored: number; duplicates: number };
    };
    t.like(await send(), { stored: 200, duplicates: 0 });
    t.like(await send(), { stored: 0, duplicates: 200 });
    const { rows } = await database.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM raw_events WHERE idempotency_key LIKE 'id:kill-%'`,
    );
    t.is(rows[0]!.n, 200);
  },
);
