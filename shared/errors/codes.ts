// The one catalogue of error codes. Adding a code is one line here plus one row in docs/errors.md (a test
// checks the two agree). `retriable` says whether running the same work again may succeed (retry logic
// reads only this and SQLSTATEs, see retriable.ts); `status` is the HTTP status a handler answers with.
export interface ErrorSpec {
  readonly status: number;
  readonly retriable: boolean;
  readonly description: string;
}

function spec(status: number, retriable: boolean, description: string): ErrorSpec {
  return { status, retriable, description };
}

// one line per code, however long (prettier would fold long ones over several lines)
// prettier-ignore
export const errorCatalogue = {
  CONFIG_INVALID: spec(500, false, 'The configuration failed validation; the message lists every bad key.'),
  DATABASE_URL_REQUIRED: spec(500, false, 'A function was started without DATABASE_URL; only the local runtime runs the embedded database.'),
  INTERNAL: spec(500, false, 'An unexpected error (a bug); the cause is attached.'),
  REQUEST_INVALID: spec(400, false, 'The request body, query or path failed validation.'),
  REQUEST_JSON_LIMIT: spec(422, false, 'A JSON body nests deeper, holds more keys in one object, a longer string or a larger number than JSON_LIMITS allows; the message names the limit and the field.'),
  REQUEST_TOO_LARGE: spec(413, false, 'The request body is larger than the function allows (MAX_REQUEST_BODY).'),
  UNAUTHORIZED: spec(401, false, 'The API token is missing or wrong.'),
  NOT_FOUND: spec(404, false, 'The requested report, run or resource does not exist.'),
  METHOD_NOT_ALLOWED: spec(405, false, 'The path exists but not for this HTTP method; the message names the allowed ones.'),
  TIMEZONE_UNSUPPORTED: spec(400, false, 'The time zone is not known to this runtime (Intl), or its days do not start on a quarter hour in the range aggregated (local mean time before ~1900).'),
  QUARTERS_UNAVAILABLE: spec(409, false, 'A day starts inside a UTC hour whose quarter-hour state was never stored (the time zone changed) and whose raw events were archived; restore the raw day to aggregate it.'),
  DB_CONNECT_FAILED: spec(503, true, 'PostgreSQL (or embedded PGlite) could not be reached.'),
  DB_CONNECTION_LOST: spec(503, true, 'The connection to PostgreSQL was lost during the request (a restart, failover or crash); its open transaction was not committed, unless the loss came during COMMIT: send it again (a push with its Idempotency-Key gets its first answer).'),
  DB_MIGRATION_FAILED: spec(500, false, 'A schema migration failed; the database is left at the last good one.'),
  DB_EMBEDDED_NESTED_CONNECTION: spec(500, false, 'Embedded mode: a db call was made inside withClient/transaction, which holds the only connection; use the callback client.'),
  EVENT_NOT_JSON: spec(400, false, 'An event is not valid JSON.'),
  EVENT_JSON_LIMIT: spec(422, false, 'An event (or NDJSON line) nests deeper, holds more keys in one object or a longer string than JSON_LIMITS allows; the reason names the limit and the field.'),
  EVENT_SCHEMA: spec(422, false, 'An event does not match the event contract.'),
  EVENT_NON_FINITE: spec(422, false, 'An event holds a non-finite number (NaN, Infinity).'),
  EVENT_TOO_LARGE: spec(413, false, 'An event is larger than ingestion.maxEventBytes.'),
  EVENT_TOO_MANY_FIELDS: spec(422, false, 'An event has more data fields than ingestion.maxFields.'),
  EVENT_TOO_FAR_IN_FUTURE: spec(422, false, 'An event timestamp is further ahead than ingestion.maxFutureSkewSeconds.'),
  EVENT_TOO_OLD: spec(422, false, 'An event is older than the raw-data retention.'),
  EVENT_DAY_ARCHIVED: spec(422, false, 'An event falls on a UTC day whose raw events the retention sweep archived and removed (or restored for reading); such a day takes no events again.'),
  EVENT_CONFLICTING_DUPLICATE: spec(409, false, 'An event repeats the id of a stored event with other content; the first is kept, both are in the dead letter.'),
  INGEST_UNSTORABLE_TEXT: spec(422, false, 'An event holds NUL or an unpaired UTF-16 surrogate, which PostgreSQL text and jsonb cannot store.'),
  JOB_ALREADY_RUNNING: spec(409, false, 'A backfill arrived while another invocation holds the job lock; it was not started (retry).'),
  AGGREGATION_DISABLED: spec(409, false, 'A backfill of an aggregation level that is switched off (aggregation.enabled / aggregation.intervals).'),
  RUN_ABANDONED: spec(500, true, 'A run was left running by an invocation that ended without finishing it; the next invocation of the job marked it failed.'),
  JOB_TIMEOUT: spec(504, true, 'A job run exceeded jobs.timeoutSeconds.'),
  WINDOW_FAILED: spec(500, true, 'Processing one window failed; it is retried without blocking the others.'),
  AGGREGATE_SOURCE_REMOVED: spec(409, false, 'A window would be recomputed from state or raw days the retention sweep removed, losing their data; it is kept as it is until those days are restored with recompute.'),
  JOB_LOCK_LOST: spec(500, true, 'A run lost its job lock (not refreshed within the lease) and stopped; the next run goes on.'),
  ARCHIVE_VERIFICATION_FAILED: spec(500, false, 'An archive read back differs from its manifest or from the live data; nothing was removed, and the next sweep writes it again.'),
  ARCHIVE_MISSING: spec(404, false, 'A restore asked for a day with no archive to read back.'),
  ARCHIVE_NOT_WRITABLE: spec(500, false, 'Without S3 the archive is a local folder (retention.archival.path), and it cannot be written (read-only root filesystem, no permission, or a file in its path); set S3_BUCKET or mount a writable volume there.'),
  KAFKA_PUSH_OFF: spec(409, false, 'A Kafka connector delivered a raw topic to ingest while kafka.consumption is pull; not stored here (the pull stores it).'),
  IDEMPOTENCY_KEY_REUSED: spec(409, false, 'A push, report generation or report delivery carried an Idempotency-Key already used by another request (another body, content type, connector record, route or report); nothing was done. Use a new key for a new request.'),
  IDEMPOTENCY_KEY_IN_USE: spec(409, true, 'A report generation or delivery carried the Idempotency-Key of the same request still running; send it again once that one has answered.'),
  KAFKA_UNAVAILABLE: spec(503, true, 'The Kafka brokers could not be reached.'),
  S3_UNAVAILABLE: spec(503, true, 'The S3 (MinIO) endpoint could not be reached.'),
  SMTP_UNAVAILABLE: spec(503, true, 'The SMTP server could not be reached.'),
  FUNCTION_TIMEOUT: spec(504, true, 'A function did not answer within its exec_timeout (of-watchdog, or the local runtime\'s gateway).'),
  REPORT_PERIOD_NOT_READY: spec(409, true, 'The report period has not ended, or its aggregation is not final yet.'),
  REPORT_TYPE_DISABLED: spec(409, false, 'Reports, or this report type, are switched off in the configuration.'),
  REPORT_SOURCE_MISSING: spec(409, false, 'What the report type renders is not stored for the period (capacity_analysis: no analyze-capacity run covers the day).'),
  REPORT_TEMPLATE_INVALID: spec(500, false, 'A report template under reports.templatesDir is not valid.'),
  REPORT_RENDER_FAILED: spec(500, false, 'Rendering a report format failed.'),
  EMAIL_REJECTED: spec(502, false, 'The SMTP server refused a report e-mail for good (5xx answer).'),
  EMAIL_DISABLED: spec(409, false, 'E-mail was asked for (recipients, or a report delivery) but no SMTP server is configured (SMTP_HOST).'),
  CAPACITY_ANALYSIS_DISABLED: spec(409, false, 'Capacity analysis is switched off (capacityAnalysis.enabled = false).'),
  FUNCTION_NOT_DEPLOYED: spec(503, false, 'The path belongs to a function that this stack.yml does not deploy; the message names it.'),
  FUNCTION_UNREACHABLE: spec(502, true, 'The local runtime could not reach a function process (crashed or restarting).'),
  BRIDGE_DELIVERY_FAILED: spec(502, true, 'The Kafka bridge gave up on delivering a message to a function and dead-lettered it.'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalogue;

export const errorCodes = Object.keys(errorCatalogue) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalogue, value);
}
