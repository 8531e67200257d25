// event_keys claims sent as binary COPY rows (key-claim-tuples.ts) read back as the keys and instants they
// were written from — on the real PostgreSQL, as PGlite's socket does not speak COPY — and a known key
// fails the COPY as a whole, so the store falls back to claiming one by one.
import fc from 'fast-check';
import type { PoolClient } from 'pg';
import { copyNewKeys } from '../../shared/ingest/raw-sql.ts';
import { KeyClaimTuples, keyClaimTuples } from '../../shared/ingest/key-claim-tuples.ts';
import { freshPgDatabase } from '../helpers/db.ts';
import { serviceTest } from '../helpers/services.ts';

const pg = serviceTest('postgres');

async function readBack(client: PoolClient): Promise<[string, number][]> {
  const { rows } = await client.query<{ k: string; ms: string }>(
    `SELECT idempotency_key AS k, (extract(epoch FROM ts) * 1000)::bigint::text AS ms FROM event_keys ORDER BY 1`,
  );
  return rows.map((r) => [r.k, Number(r.ms)]);
}

pg(
  'keys and instants survive the binary COPY exactly: any text, milliseconds before and after 2000',
  async (t) => {
    const fresh = await freshPgDatabase();
    t.teardown(() => fresh.drop());
    const claims = fc.uniqueArray(
      fc.record({
        // No NUL: PostgreSQL text cannot hold it (the store dead-letters such events before they get here).
        idempotencyKey: fc
          .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
          .filter((s) => !s.includes('\0')),
        ms: fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) }),
      }),
      { selector: (c) => c.idempotencyKey, minLength: 1, maxLength: 300 },
    );
    await fc.assert(
      fc.asyncProperty(claims, async (sample) => {
        const tuples = new KeyClaimTuples();
        for (const c of sample) tuples.append(c.idempotencyKey, c.ms);
        const got = await fresh.db.transaction(async (client) => {
          t.true(await copyNewKeys(client, tuples.stream()));
          const rows = await readBack(client);
          await client.query('DELETE FROM event_keys');
          return rows;
        });
        const want = sample
          .map((c): [string, number] => [c.idempotencyKey, c.ms])
          .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        t.deepEqual(got, want);
      }),
      { numRuns: 25 },
    );
  },
);

pg('a key already claimed fails the whole COPY and leaves the transaction usable', async (t) => {
  const fresh = await freshPgDatabase();
  t.teardown(() => fresh.drop());
  await fresh.db.transaction(async (client) => {
    t.true(
      await copyNewKeys(
        client,
        keyClaimTuples([
          { idempotencyKey: 'id:a', timestampMs: Date.parse('2026-12-01T10:00:00.000Z') },
        ]).stream(),
      ),
    );
  });
  const claimed = await fresh.db.transaction(async (client) => {
    const ok = await copyNewKeys(
      client,
      keyClaimTuples([
        { idempotencyKey: 'id:b', timestampMs: Date.parse('2026-12-01T10:00:01.000Z') },
        { idempotencyKey: 'id:a', timestampMs: Date.parse('2026-12-01T10:00:02.000Z') },
      ]).stream(),
    );
    return { ok, rows: await readBack(client) };
  });
  t.false(claimed.ok);
  t.deepEqual(claimed.rows, [['id:a', Date.parse('2026-12-01T10:00:00.000Z')]]);
});
