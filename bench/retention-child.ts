// The archiving side of the retention benchmark, in a process of its own (bundled with esbuild and run with
// plain node, as deployed) so its peak RSS is the archive's alone: export one raw day to Parquet parts in a
// local folder, read every part back and compare (the verification), then drop the day in the transaction
// that compares the live partition. Config in env BENCH_RETENTION; one result line on stdout.
import { performance } from 'node:perf_hooks';
import { LocalObjectStore } from '../shared/archive/index.ts';
import { loadConfig } from '../shared/config/index.ts';
import { openDatabase } from '../shared/db/index.ts';
import { manifestKey, rawDayFolder } from '../shared/retention/layout.ts';
import { policyFrom } from '../shared/retention/policy.ts';
import { beginArchive, markVerified, recordArchiveObjects } from '../shared/retention/archives-sql.ts';
import { dropRawDay, exportRawDay, verifyRawArchive } from '../shared/retention/raw-archive.ts';
import { listRawPartitions } from '../shared/retention/raw-sql.ts';
import { DEFAULT_RETENTION_OPTIONS } from '../shared/retention/types.ts';
import {
  RETENTION_RESULT_PREFIX,
  type RetentionChildConfig,
  type RetentionChildResult,
} from './retention-protocol.ts';

const config = JSON.parse(process.env.BENCH_RETENTION ?? '{}') as RetentionChildConfig;
const db = await openDatabase({ url: config.databaseUrl, poolSize: 2 });
const store = new LocalObjectStore(config.archiveDir);
const partition = (await listRawPartitions(db)).find((p) => p.day === config.day);
if (!partition) throw new Error(`no raw_events partition for ${config.day}`);
const deps = {
  db,
  store,
  policy: policyFrom(loadConfig({ env: {}, file: null, secretsDir: '/nonexistent' })),
};
const options = { ...DEFAULT_RETENTION_OPTIONS, ...config.options };
const ctx = { deps, options, runId: 1, now: new Date() };
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const row = await beginArchive(
  db,
  { kind: 'raw', unit: partition.day, start: partition.start, end: partition.end },
  1,
);
let t0 = performance.now();
let c0 = cpu();
const written = await exportRawDay(ctx, partition);
const exportMs = performance.now() - t0;
const exportCpuMs = cpu() - c0;
await recordArchiveObjects(db, row.id, {
  objects: written.manifest.objects,
  manifestKey: manifestKey(rawDayFolder(partition.day)),
  manifestSha256: written.sha256,
  rows: written.manifest.rows,
});
t0 = performance.now();
c0 = cpu();
const manifest = await verifyRawArchive(store, partition.day, written.sha256);
const verifyMs = performance.now() - t0;
const verifyCpuMs = cpu() - c0;
await markVerified(db, row.id);
t0 = performance.now();
const dropped = await dropRawDay(ctx, partition, row.id, manifest);
const dropMs = performance.now() - t0;
if (!dropped.dropped) throw new Error(`the day was not dropped: ${dropped.reason}`);
await db.close();

const result: RetentionChildResult = {
  rows: manifest.rows,
  parts: manifest.objects.length,
  bytes: manifest.objects.reduce((sum, o) => sum + o.bytes, 0),
  exportMs,
  exportCpuMs,
  verifyMs,
  verifyCpuMs,
  dropMs,
  maxRssKiB: process.resourceUsage().maxRSS,
};
process.stdout.write(`${RETENTION_RESULT_PREFIX}${JSON.stringify(result)}\n`);
