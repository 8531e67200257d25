// Statements on report_deliveries (owned here): one row per (message, recipient), its attempts and answers.
import type { Queryable } from '../../db/index.ts';

export interface DeliveryRow {
  id: number;
  report_ids: number[];
  report_type: string;
  period_start: Date;
  channel: 'email';
  recipient: string;
  status: 'pending' | 'sent' | 'failed';
  mode: 'attached' | 'linked' | null;
  subject: string;
  body: string;
  attempts: number;
  retry_at: Date | null;
  response: string | null;
  error_code: string | null;
  message_id: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}

const COLUMNS = `id::int AS id, report_ids::int[] AS report_ids, report_type, period_start, channel, recipient, status, mode,
  subject, body, attempts, retry_at, response, error_code, message_id, created_at, updated_at, sent_at`;

/**
 * One pending delivery per recipient. Under a request key (a keyed /reports request), a recipient that has a
 * delivery of the key for this report type and period already keeps it: `created` is false for such rows, which
 * the first run of the request queued or sent, so a run after it died sends nothing twice.
 */
export async function createDeliveries(
  db: Queryable,
  d: {
    reportIds: readonly number[];
    reportType: string;
    periodStart: Date;
    recipients: readonly string[];
    subject: string;
    body: string;
    mode: 'attached' | 'linked';
    requestKey?: string | undefined;
  },
): Promise<Array<DeliveryRow & { created: boolean }>> {
  const { rows } = await db.query<DeliveryRow & { created: boolean }>(
    // the statement's own inserts are not visible to its SELECT: new rows come back through RETURNING, and
    // the SELECT reads only the rows the key had before
    `WITH created AS (
       INSERT INTO report_deliveries (report_ids, report_type, period_start, channel, recipient, status, subject, body, mode, request_key)
       SELECT $1::bigint[], $2, $3, 'email', r, 'pending', $5, $6, $7, $8 FROM unnest($4::text[]) AS r
       ON CONFLICT (request_key, report_type, period_start, recipient) WHERE request_key IS NOT NULL DO NOTHING
       RETURNING ${COLUMNS}, true AS created)
     SELECT * FROM created
     UNION ALL
     SELECT ${COLUMNS}, false AS created FROM report_deliveries
     WHERE $8::text IS NOT NULL AND request_key = $8 AND report_type = $2 AND period_start = $3
       AND recipient = ANY($4::text[])
     ORDER BY id`,
    [d.reportIds, d.reportType, d.periodStart, d.recipients, d.subject, d.body, d.mode, d.requestKey ?? null],
  );
  return rows;
}

export async function markDeliverySent(
  db: Queryable,
  id: number,
  r: { mode: 'attached' | 'linked'; response: string; messageId: string | null },
): Promise<void> {
  await db.query(
    `UPDATE report_deliveries SET status = 'sent', mode = $2, response = $3, message_id = $4, attempts = attempts + 1,
            retry_at = NULL, error_code = NULL, sent_at = clock_timestamp(), updated_at = clock_timestamp()
     WHERE id = $1`,
    [id, r.mode, r.response.slice(0, 1000), r.messageId],
  );
}

export async function markDeliveryFailed(
  db: Queryable,
  id: number,
  r: { mode: 'attached' | 'linked' | null; response: string; errorCode: string; retryAt: Date | null },
): Promise<number> {
  const { rows } = await db.query<{ attempts: number }>(
    `UPDATE report_deliveries SET status = 'failed', mode = $2, response = $3, error_code = $4, retry_at = $5,
            attempts = attempts + 1, updated_at = clock_timestamp()
     WHERE id = $1 RETURNING attempts`,
    [id, r.mode, r.response.slice(0, 1000), r.errorCode, r.retryAt],
  );
  return rows[0]?.attempts ?? 0;
}

/** Failed deliveries whose retry is due, and pending ones left behind by a crash (older than `staleMs`). */
export async function dueDeliveries(db: Queryable, now: Date, staleMs: number): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM report_deliveries
     WHERE (status = 'failed' AND retry_at IS NOT NULL AND retry_at <= $1)
        OR (status = 'pending' AND updated_at < $1::timestamptz - make_interval(secs => $2::double precision / 1000))
     ORDER BY id`,
    [now, staleMs],
  );
  return rows;
}

/** Claims a due delivery for one sender (pending, touched now); false when another sender took it first. */
export async function claimDelivery(db: Queryable, row: DeliveryRow): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE report_deliveries SET status = 'pending', updated_at = clock_timestamp()
     WHERE id = $1 AND status = $2 AND date_trunc('milliseconds', updated_at) = $3`,
    [row.id, row.status, row.updated_at],
  );
  return rowCount === 1;
}

export async function deliveriesOf(db: Queryable, reportId: number): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM report_deliveries WHERE report_ids @> ARRAY[$1::bigint] ORDER BY id`,
    [reportId],
  );
  return rows;
}

export async function getDeliveries(db: Queryable, ids: readonly number[]): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM report_deliveries WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids],
  );
  return rows;
}
