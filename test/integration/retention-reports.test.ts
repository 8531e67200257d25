// Reports past BATCH_PROCESSING_REPORTS_RETENTION_DAYS: their objects and rows (and delivery records) are
// deleted, their metadata kept in a manifest per month; a report being generated and a recent one stay.
import type { ExecutionContext } from 'ava';
import type { ObjectStore } from '../../shared/archive/index.ts';
import type { Database } from '../../shared/db/index.ts';
import { listArchives, retentionStatus, runRetentionSweep } from '../../shared/retention/index.ts';
import { bothBackends } from './aggregate-fixtures.ts';
import { DAY, NOW, localStore, retentionDeps, testPolicy } from '../fixtures/retention.ts';

interface Seeded {
  old: number[];
  recent: number;
  generating: number;
  oldKeys: string[];
  recentKey: string;
}

async function seed(db: Database, store: ObjectStore): Promise<Seeded> {
  const insert = async (
    day: number,
    format: string,
    status = 'stored',
  ): Promise<{ id: number; key: string }> => {
    const at = new Date(NOW.getTime() - day * DAY);
    const period = at.toISOString().slice(0, 10);
    const key = `reports/daily_summary/${period}/daily_summary-${period}.${format}`;
    const body = Buffer.from(`report of ${period} as ${format}`);
    const stored = status === 'stored' ? await store.put(key, body) : undefined;
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO reports (report_type, period_start, period_end, format, status, location, size_bytes, sha256,
                            stored_at, created_at, updated_at)
       VALUES ('daily_summary', $1::date, $1::date + 1, $2, $3, $4, $5, $6, $7, $7, $7) RETURNING id::int AS id`,
      [period, format, status, stored ? key : null, stored?.size ?? null, stored?.sha256 ?? null, at],
    );
    return { id: rows[0]!.id, key };
  };
  const a = await insert(800, 'json');
  const b = await insert(800, 'pdf');
  const generating = await insert(801, 'csv', 'generating');
  const recent = await insert(10, 'json');
  await db.query(
    `INSERT INTO report_deliveries (report_ids, report_type, period_start, channel, recipient, status, subject, body)
     VALUES ($1::bigint[], 'daily_summary', now(), 'email', 'ops@example.com', 'sent', 'Daily summary', 'the body')`,
    [[a.id, b.id]],
  );
  return {
    old: [a.id, b.id],
    recent: recent.id,
    generating: generating.id,
    oldKeys: [a.key, b.key],
    recentKey: recent.key,
  };
}

async function ids(db: Database): Promise<number[]> {
  return (await db.query<{ id: number }>('SELECT id::int AS id FROM reports ORDER BY id')).rows.map(
    (r) => r.id,
  );
}

async function expires(t: ExecutionContext, db: Database, archival: boolean): Promise<void> {
  const store = await localStore(t);
  const seeded = await seed(db, store);
  const policy = testPolicy(archival ? {} : { BATCH_PROCESSING_ARCHIVAL_ENABLED: 'false' });
  const deps = retentionDeps(db, store, { policy });
  const month = new Date(NOW.getTime() - 800 * DAY).toISOString().slice(0, 7);
  const plan = await runRetentionSweep(deps, { trigger: 'manual', dryRun: true });
  t.deepEqual(
    plan.units.filter((u) => u.kind === 'reports').map((u) => [u.unit, u.rows, u.action]),
    [[month, 2, archival ? 'archive' : 'delete']],
  );
  const summary = await runRetentionSweep(deps, { trigger: 'manual' });
  t.is(summary.status, 'succeeded', JSON.stringify(summary.error));
  t.deepEqual(
    await ids(db),
    [seeded.generating, seeded.recent].sort((x, y) => x - y),
  );
  for (const key of seeded.oldKeys) t.is(await store.head(key), undefined, key);
  t.truthy(await store.head(seeded.recentKey));
  t.is(
    Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM report_deliveries')).rows[0]?.n),
    0,
  );
  t.deepEqual(
    (await listArchives(db, { kind: 'reports' })).map((a) => [a.unit, a.status, a.rows]),
    [[month, archival ? 'archived' : 'deleted', 2]],
  );
  const manifestKey = `reports-expired/month=${month}/manifest.json`;
  if (!archival) {
    t.is(await store.head(manifestKey), undefined);
    return;
  }
  const manifest = JSON.parse((await store.get(manifestKey)).toString()) as {
    rows: number;
    reports: { id: number; location: string; sha256: string }[];
    deliveries: { recipient: string; body?: string }[];
  };
  t.is(manifest.rows, 2);
  t.deepEqual(
    manifest.reports.map((r) => r.id),
    seeded.old,
  );
  t.deepEqual(
    manifest.reports.map((r) => r.location),
    seeded.oldKeys,
  );
  t.true(manifest.reports.every((r) => /^[0-9a-f]{64}$/.test(r.sha256)));
  t.deepEqual(
    manifest.deliveries.map((d) => [d.recipient, d.body]),
    [['ops@example.com', undefined]],
  );
  const status = await retentionStatus(db, policy, {
    schedule: '30 0 * * *',
    location: store.location,
    now: NOW,
  });
  t.deepEqual(
    status.archived.reports.map((r) => [r.from, r.to, r.rows]),
    [[month, month, 2]],
  );
}

bothBackends(
  'reports past their retention: objects and rows deleted, their metadata kept in a manifest',
  async (t, db) => {
    await expires(t, db, true);
  },
);

bothBackends('reports past their retention with archival off: deleted without a manifest', async (t, db) => {
  await expires(t, db, false);
});
