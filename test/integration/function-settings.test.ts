// Settings reach the functions: each is set through the environment, as a deployment sets it, and its
// effect is seen through the function's HTTP answer (the template server in this process, the handler
// module as deployed, the local runtime's embedded database). The API token guards every mutating call
// and never appears in an answer or a log line.
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import test from 'ava';
import { createLogger } from '../../shared/log/index.ts';
import { closeFunctionContext } from '../../shared/function-context.ts';
import { EMBEDDED_SOCKET_FLAG } from '../../shared/db/gated.ts';
import { migrate } from '../../shared/db/index.ts';
import { startEmbeddedServer, type EmbeddedServer } from '../../runtime/embedded-db.ts';
import { createFunctionServer } from '../../templates/node20-ts/server.ts';
import type { HandlerModule } from '../../templates/node20-ts/types.ts';
import { apiOperations } from '../../shared/openapi/index.ts';
import * as ingest from '../../functions/ingest/handler.ts';
import * as hourly from '../../functions/aggregate-hourly/handler.ts';
import * as daily from '../../functions/aggregate-daily/handler.ts';

const TOKEN = 'tok-3f9a1c77e2b04d5c8a6f';
let embedded: EmbeddedServer;
const baseEnv = { ...process.env };

test.before(async () => {
  embedded = await startEmbeddedServer();
  await migrate(embedded.db);
});
test.after.always(async () => {
  await closeFunctionContext();
  await embedded?.close();
});

interface Served {
  url: string;
  /** Every log line the function wrote. */
  logs: string[];
}

/** Serves `module` with the environment `env` (on top of the embedded database), as a fresh process would. */
async function serve(
  t: { teardown(fn: () => unknown): void },
  module: HandlerModule,
  env: Record<string, string>,
): Promise<Served> {
  await closeFunctionContext();
  process.env = {
    ...baseEnv,
    SECRETS_DIR: '/nonexistent-hxp-secrets',
    KAFKA_BOOTSTRAP_SERVERS: '',
    DATABASE_URL: embedded.url,
    [EMBEDDED_SOCKET_FLAG]: '1',
    ...env,
  };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'trace' }, { fn: 'test' }, sink);
  module.init?.();
  const fn = createFunctionServer({ handler: module.default!, logger, maxBodyBytes: 1 << 20 });
  await new Promise<void>((r) => fn.server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => fn.drain(1000));
  return { url: `http://127.0.0.1:${(fn.server.address() as AddressInfo).port}`, logs };
}

async function call(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

/** A 401 a function answered is in the OpenAPI document: its operation is marked auth and lists the 401. */
function documentsTokenRefusal(t: { true(v: boolean, m: string): void }, fn: string): void {
  const op = apiOperations.find((o) => o.function === fn && o.served === 'gateway');
  t.true(op?.auth === true && op.responses[401] !== undefined, `${fn}: the OpenAPI document marks its 401`);
}

const now = () => new Date().toISOString();
const event = (data: Record<string, unknown>, timestamp = now()) => ({
  event_type: 'settings_test',
  timestamp,
  source: 'api-1',
  data,
});

async function rawCount(): Promise<number> {
  const { rows } = await embedded.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM raw_events WHERE event_type = 'settings_test'`,
  );
  return rows[0]!.n;
}

test.serial(
  'api.token: ingest needs the bearer token; without it 401, nothing stored, the token never shown',
  async (t) => {
    const fn = await serve(t, ingest, { BATCH_PROCESSING_API_TOKEN: TOKEN });
    const before = await rawCount();
    const missing = await call(fn.url, event({ n: 1 }));
    t.is(missing.status, 401);
    t.like(missing.json, { error: { code: 'UNAUTHORIZED' } });
    t.regex(missing.text, /Authorization: Bearer <token>.*no Authorization header/);
    documentsTokenRefusal(t, 'ingest');
    const wrong = await call(fn.url, event({ n: 2 }), { Authorization: `Bearer ${TOKEN.slice(0, -1)}x` });
    t.is(wrong.status, 401);
    t.regex(wrong.text, /a wrong token/);
    t.is(await rawCount(), before, 'a refused call stores nothing');
    const right = await call(fn.url, event({ n: 3 }), { Authorization: `Bearer ${TOKEN}` });
    t.is(right.status, 200, right.text);
    t.like(right.json, { stored: 1 });
    t.is(await rawCount(), before + 1);
    for (const text of [missing.text, wrong.text, right.text, ...fn.logs]) {
      t.false(text.includes(TOKEN), 'the token is in no answer and no log line');
      t.false(text.includes(TOKEN.slice(0, -1)), 'nor the wrong guess');
    }
    t.true(
      fn.logs.some((l) => l.includes('"status":401')),
      'the refusal itself is logged',
    );
  },
);

test.serial(
  'api.token from the mounted secret file; api.ingestOpen lets ingest take events without it',
  async (t) => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const secrets = await mkdtemp(join(tmpdir(), 'hxp-secrets-'));
    t.teardown(() => rm(secrets, { recursive: true, force: true }));
    await writeFile(join(secrets, 'api-token'), `${TOKEN}\n`);
    const guarded = await serve(t, ingest, { SECRETS_DIR: secrets });
    t.is((await call(guarded.url, event({ n: 4 }))).status, 401);
    t.is((await call(guarded.url, event({ n: 5 }), { Authorization: `Bearer ${TOKEN}` })).status, 200);

    const open = await serve(t, ingest, { SECRETS_DIR: secrets, BATCH_PROCESSING_INGEST_OPEN: 'true' });
    const taken = await call(open.url, event({ n: 6 }));
    t.is(taken.status, 200, taken.text);
    t.like(taken.json, { stored: 1 });
    // Open ingest opens nothing else: a backfill still needs the token.
    const backfill = await serve(t, daily, { SECRETS_DIR: secrets, BATCH_PROCESSING_INGEST_OPEN: 'true' });
    t.is((await call(backfill.url, { from: '2026-11-01', to: '2026-11-02' })).status, 401);
  },
);

test.serial(
  'api.token: an aggregation backfill needs it; a cron tick or catch-up call does not',
  async (t) => {
    const fn = await serve(t, daily, { BATCH_PROCESSING_API_TOKEN: TOKEN });
    const refused = await call(fn.url, { from: '2026-11-01', to: '2026-11-28' });
    t.is(refused.status, 401);
    documentsTokenRefusal(t, 'aggregate-daily');
    const { rows } = await embedded.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM runs WHERE trigger = 'backfill'`,
    );
    t.is(rows[0]!.n, 0, 'refused before any work: not even a run recorded');
    const tick = await call(fn.url, '', { 'X-Connector': 'cron-connector', 'content-type': 'text/plain' });
    t.is(tick.status, 200, tick.text);
    const backfill = await call(
      fn.url,
      { from: '2026-11-01', to: '2026-11-28' },
      { Authorization: `Bearer ${TOKEN}` },
    );
    t.is(backfill.status, 200, backfill.text);
    t.false([refused.text, tick.text, backfill.text, ...fn.logs].some((s) => s.includes(TOKEN)));
  },
);

test.serial(
  'ingestion.* and retention.rawDays reach ingest: size, fields, future skew, dimension keys, raw retention',
  async (t) => {
    const fn = await serve(t, ingest, {
      BATCH_PROCESSING_MAX_EVENT_BYTES: '400',
      BATCH_PROCESSING_MAX_EVENT_FIELDS: '3',
      BATCH_PROCESSING_MAX_FUTURE_SKEW: '60s',
      BATCH_PROCESSING_DIMENSION_KEYS: 'model,region',
      BATCH_PROCESSING_RAW_DATA_RETENTION_DAYS: '2',
    });
    const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
    const batch = [
      event({ note: 'x'.repeat(500) }), // 0: over 400 bytes (the default allows 64 KiB)
      event({ a: 1, b: 2, c: 3, d: 4 }), // 1: 4 fields (the default allows 256)
      event({ latency_ms: 1 }, inMinutes(10)), // 2: 10 min ahead (the default allows 5 min)
      event({ latency_ms: 1 }, daysAgo(3)), // 3: 3 days old (the default keeps 30)
      event({ latency_ms: 5, model: 'm1', region: 'eu' }), // 4: stored with region as a dimension
    ];
    const res = await call(fn.url, batch);
    t.is(res.status, 200, res.text);
    const rejections = (res.json.rejections as Array<{ index: number; code: string }>).map((r) => [
      r.index,
      r.code,
    ]);
    t.deepEqual(rejections, [
      [0, 'EVENT_TOO_LARGE'],
      [1, 'EVENT_TOO_MANY_FIELDS'],
      [2, 'EVENT_TOO_FAR_IN_FUTURE'],
      [3, 'EVENT_TOO_OLD'],
    ]);
    t.is(res.json.stored, 1);
    const { rows } = await embedded.db.query<{ names: string[]; values: string[] }>(
      `SELECT dimension_names AS names, dimension_values AS values FROM raw_events
     WHERE event_type = 'settings_test' AND data->>'region' = 'eu'`,
    );
    t.deepEqual(rows, [{ names: ['model', 'region'], values: ['m1', 'eu'] }]);
  },
);

test.serial(
  'aggregation.enabled and aggregation.intervals.* switch the jobs off; a backfill of an off level is refused',
  async (t) => {
    const off = await serve(t, hourly, { BATCH_PROCESSING_AGGREGATION_ENABLED: 'false' });
    const tick = await call(off.url, '', { 'X-Connector': 'cron-connector', 'content-type': 'text/plain' });
    t.is(tick.status, 200, tick.text);
    t.like(tick.json, { status: 'disabled', level: 'hour', windowsDone: 0 });

    const dailyOff = await serve(t, daily, {
      BATCH_PROCESSING_DAILY_ENABLED: 'false',
      BATCH_PROCESSING_WEEKLY_ENABLED: 'false',
      BATCH_PROCESSING_MONTHLY_ENABLED: 'false',
    });
    t.like((await call(dailyOff.url, '', { 'content-type': 'text/plain' })).json, {
      status: 'disabled',
      level: 'day',
    });
    const backfill = await call(dailyOff.url, { from: '2026-11-01', to: '2026-11-02' });
    t.is(backfill.status, 409);
    t.like(backfill.json, { error: { code: 'AGGREGATION_DISABLED' } });

    const on = await serve(t, hourly, {});
    t.not((await call(on.url, '', { 'content-type': 'text/plain' })).json.status, 'disabled');
  },
);

test.serial('time.zone: backfill dates are whole days of the configured zone', async (t) => {
  const fn = await serve(t, daily, { BATCH_PROCESSING_TIMEZONE: 'Europe/Berlin' });
  const res = await call(fn.url, { from: '2026-11-28', to: '2026-11-28' });
  t.is(res.status, 200, res.text);
  const { rows } = await embedded.db.query<{ start: Date; end: Date }>(
    'SELECT window_start AS start, window_end AS "end" FROM runs WHERE id = $1',
    [res.json.runId],
  );
  t.deepEqual(rows, [{ start: new Date('2026-11-27T23:00:00Z'), end: new Date('2026-11-28T23:00:00Z') }]);
});
