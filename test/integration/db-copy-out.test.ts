// A consumer of a COPY … TO STDOUT that stops early (throws, or simply leaves the loop) leaves the connection
// usable: the transaction's ROLLBACK completes and the next statement runs. Left unread, the COPY kept the
// connection in COPY mode and the ROLLBACK waited for ever — the retention export behind an upload that
// failed mid-day, or an hour that failed while it was added up.
import type { PoolClient } from 'pg';
import { copyOutChunks } from '../../shared/db/copy-out.ts';
import { rawRowGroups } from '../../shared/retention/raw-source.ts';
import { Interner } from '../../shared/retention/raw-columns.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';

const pgTest = serviceTest('postgres');

/** ROLLBACK, then a statement: both must answer within `ms` (a connection left in COPY mode never does). */
async function usableAfter(client: PoolClient, ms = 10_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`ROLLBACK did not complete within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      (async () => {
        await client.query('ROLLBACK');
        return (await client.query<{ one: number }>('SELECT 1 AS one')).rows;
      })(),
      stuck,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

pgTest(
  'a COPY whose consumer throws mid-stream is read to its end: ROLLBACK and the next statement run',
  async (t) => {
    const { db, drop } = await freshPgDatabase({ migrate: false });
    t.teardown(drop);
    await db.withClient(async (client) => {
      await client.query('BEGIN');
      let bytes = 0;
      const consume = async (): Promise<void> => {
        for await (const chunk of copyOutChunks(
          client,
          `COPY (SELECT g, repeat('x', 200) FROM generate_series(1, 200000) AS g) TO STDOUT`,
        )) {
          bytes += chunk.length;
          if (bytes > 500_000) throw new Error('consumer failed');
        }
      };
      await t.throwsAsync(consume(), { message: 'consumer failed' });
      t.deepEqual(await usableAfter(client), [{ one: 1 }]);
    });
  },
);

pgTest(
  'the retention export leaving a day after its first row group leaves the connection usable',
  async (t) => {
    const { db, drop } = await freshPgDatabase();
    t.teardown(drop);
    const day = '2026-11-02';
    const { rows } = await db.query<{ name: string }>('SELECT ensure_raw_partition($1::date) AS name', [day]);
    await db.query(
      `INSERT INTO raw_events (ts, event_type, source, idempotency_key, metric_names, metric_values,
                             dimension_names, dimension_values, data)
     SELECT $1::date + make_interval(secs => g * 0.5), 'llm_request', 'api-1', 'k' || g, ARRAY['latency_ms'],
            ARRAY[g::float8], ARRAY['model'], ARRAY['m'], jsonb_build_object('pad', repeat('x', 300))
     FROM generate_series(1, 50000) AS g`,
      [day],
    );
    await db.withClient(async (client) => {
      await client.query('BEGIN');
      let groups = 0;
      for await (const group of rawRowGroups(client, rows[0]!.name, {
        groupRows: 1000,
        embedded: false,
        interner: new Interner(),
      })) {
        groups += 1;
        t.is(group.length, 1000);
        break;
      }
      t.is(groups, 1);
      t.deepEqual(await usableAfter(client), [{ one: 1 }]);
    });
  },
);
