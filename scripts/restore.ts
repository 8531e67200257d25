// `npm run restore -- --from YYYY-MM-DD [--to YYYY-MM-DD] [--recompute] [--json] [--data-dir <dir>]`:
// archived raw days back into raw_events, each exactly once (shared/retention/restore.ts), from the
// configured archive (S3, or the local folder retention.archival.path). With DATABASE_URL it works on that
// database; without, on the embedded one in the runtime's data folder (./.data, or --data-dir as given to
// `npm start`, whose archive/ it reads unless the configuration names another archive) — and
// when the running runtime holds that folder, it asks the runtime (POST /retention/restore on
// BATCH_PROCESSING_API_PORT) to do it.
import { parseArgs } from 'node:util';
import { openObjectStore, S3ObjectStore } from '../shared/archive/index.ts';
import { loadConfigOrExit } from '../shared/config/index.ts';
import { migrate, openDatabase } from '../shared/db/index.ts';
import { isBatchError } from '../shared/errors/index.ts';
import { databaseUrl } from '../shared/function-context.ts';
import { policyFrom, restoreArchivedDays, type RestoreSummary } from '../shared/retention/index.ts';
import {
  DEFAULT_RUNTIME_DATA_DIR,
  recordedRuntime,
  runtimeDataDirs,
  withArchiveFolder,
} from '../runtime/data-dir.ts';

const USAGE = `usage: npm run restore -- --from YYYY-MM-DD [--to YYYY-MM-DD] [--recompute] [--json] [--data-dir ./.data]

Reads archived raw days back into raw_events, each exactly once, from the configured archive (S3 with
S3_BUCKET, else the folder BATCH_PROCESSING_ARCHIVAL_PATH or the data folder's archive/), into DATABASE_URL
or the embedded database.

  --from YYYY-MM-DD   first UTC day to restore (required)
  --to YYYY-MM-DD     last UTC day, included (default: --from; at most 366 days at a time)
  --recompute         mark the days' hours dirty so the aggregation recomputes them and the rollups above
                      (days already in the database too)
  --json              print the summary as JSON instead of one line per day
  --data-dir <dir>    the runtime's data folder, as given to npm start (default ./.data): its database
                      (pglite/) when DATABASE_URL is unset, its archive (archive/) unless one is configured;
                      when the running runtime holds the database, that runtime is asked to restore
  --help              print this and exit

Exit status: 0 every day restored or already live; 1 a day failed (or another error); 2 bad arguments or
a request the runtime refused.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE.split('\n')[0]}\n(--help describes the options)\n`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        recompute: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'data-dir': { type: 'string', default: DEFAULT_RUNTIME_DATA_DIR },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!values.from) fail('--from is required');
const request = { from: values.from, to: values.to ?? values.from, recompute: values.recompute };

function print(summary: RestoreSummary): void {
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  for (const day of summary.days) {
    const detail =
      day.outcome === 'restored'
        ? `${day.rows} rows from ${day.objects} file(s), kept until ${day.keepUntil}${day.hoursMarked === undefined ? '' : `, ${day.hoursMarked} hours to recompute`}`
        : day.outcome === 'live'
          ? 'already in the database'
          : `${day.error?.code}: ${day.error?.message}`;
    process.stdout.write(`${day.day}  ${day.outcome.padEnd(8)}  ${detail}\n`);
  }
  process.stdout.write(
    `${summary.status}: ${summary.rows} rows restored (run ${summary.runId}, ${summary.durationMs} ms)\n`,
  );
}

/** The running runtime's API does it (it holds the embedded database). */
async function viaApi(apiUrl: string, token: string | undefined): Promise<RestoreSummary> {
  const answer = await fetch(`${apiUrl}/retention/restore`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(request),
  });
  const body = (await answer.json()) as RestoreSummary & { error?: { code: string; message: string } };
  if (body.error && !body.days)
    fail(`the runtime answered ${answer.status}: ${body.error.code}: ${body.error.message}`);
  return body;
}

const dirs = (() => {
  try {
    return runtimeDataDirs(values['data-dir']);
  } catch (err) {
    return fail((err as Error).message);
  }
})();
const config = loadConfigOrExit({ env: withArchiveFolder(process.env, dirs.archive) });
const url = databaseUrl(config);
let summary: RestoreSummary;
let db;
try {
  db = await openDatabase(url ? { url, poolSize: 2 } : { embeddedDataDir: dirs.pglite });
} catch (err) {
  const heldByRuntime = !url && isBatchError(err, 'DB_CONNECT_FAILED') && err.context.pid !== undefined;
  if (!heldByRuntime) throw err;
  const holder = Number(err.context.pid);
  // The runtime records its API in the data folder; without a record, it is asked on the configured port.
  const apiUrl = recordedRuntime(dirs, holder)?.apiUrl ?? `http://127.0.0.1:${config.api.port}`;
  process.stderr.write(
    `the embedded database is open in the runtime (pid ${holder}); asking it to restore at ${apiUrl}\n`,
  );
  summary = await viaApi(apiUrl, config.api.token);
  print(summary);
  process.exit(summary.status === 'succeeded' ? 0 : 1);
}
const store = openObjectStore(config);
try {
  await migrate(db);
  summary = await restoreArchivedDays(
    { db, store, policy: policyFrom(config) },
    { ...request, trigger: 'manual' },
  );
} finally {
  await db.close();
  if (store instanceof S3ObjectStore) store.destroy();
}
print(summary);
process.exit(summary.status === 'succeeded' ? 0 : 1);
