// The /reports routes in the OpenAPI document (shared/openapi): the request schemas are the ones the
// routes parse with (requests.ts); the answers are described here and held to the views the routes build
// by test/unit/openapi.test.ts.
import { z } from 'zod';
import {
  BAD_REQUEST,
  ErrorBodySchema,
  UNAUTHORIZED,
  errorResponse,
  type ApiOperation,
} from '../../openapi/operation.ts';
import { idempotencyKeyHeader, REPLAYED_HEADER } from '../../http/index.ts';
import { REPORT_FORMATS, REPORT_TYPES } from '../types.ts';
import { DeliverBody, GenerateBody, ListQuery } from './requests.ts';

const instant = z.string().meta({ description: 'ISO-8601 instant in UTC' });

export const ReportViewSchema = z.object({
  id: z.number(),
  report_type: z.enum(REPORT_TYPES),
  format: z.enum(REPORT_FORMATS),
  period: z.string().nullable(),
  period_start: instant,
  period_end: instant,
  time_zone: z.string(),
  status: z.enum(['generating', 'stored', 'failed', 'expired']),
  size_bytes: z.number().nullable(),
  sha256: z.string().nullable(),
  render_ms: z.number().nullable(),
  created_at: instant,
  stored_at: instant.nullable(),
  error: z
    .object({
      code: z.string(),
      message: z.string().nullable(),
      attempts: z.number(),
      retry_at: instant.nullable(),
    })
    .nullable(),
  status_url: z.string(),
  download_url: z.string().nullable(),
});

export const DeliveryViewSchema = z.object({
  id: z.number(),
  channel: z.literal('email'),
  recipient: z.string(),
  status: z.enum(['pending', 'sent', 'failed']),
  mode: z.enum(['attached', 'linked']).nullable(),
  attempts: z.number(),
  response: z.string().nullable(),
  error_code: z.string().nullable(),
  retry_at: instant.nullable(),
  sent_at: instant.nullable(),
});

/** POST /reports/{id}/deliver when a delivery failed: the deliveries, and the error object of every error answer. */
const DeliveryFailureSchema = z.object({
  id: z.number(),
  deliveries: z.array(DeliveryViewSchema),
  error: ErrorBodySchema.shape.error,
});

const GenerationAnswerSchema = z.object({
  id: z.number(),
  status: ReportViewSchema.shape.status,
  status_url: z.string(),
  run_id: z.number().optional(),
  reports: z.array(ReportViewSchema),
  deliveries: z.array(DeliveryViewSchema).optional(),
});

const RangeAnswerSchema = z.object({ periods: z.number(), reports: z.array(ReportViewSchema) });

const TypeStatusSchema = z.object({
  scheduled: z.boolean(),
  last_success: z.object({ id: z.number().nullable(), at: instant }).nullable(),
  last_failure: z.object({ id: z.number().nullable(), at: instant, error: z.string().nullable() }).nullable(),
  running: z.number(),
  waiting_for_retry: z.number(),
  next_scheduled: z.object({ period: z.string(), after: instant }).nullable(),
});

const StatusAnswerSchema = z.object({
  enabled: z.boolean(),
  formats: z.array(z.enum(REPORT_FORMATS)),
  store: z.string(),
  email: z.enum(['on', 'off']).meta({
    description:
      'on: an SMTP server is configured (SMTP_HOST), so reports can be e-mailed — /reports/{id}/deliver and ' +
      'generate with recipients; off: those are refused with 409 EMAIL_DISABLED',
  }),
  email_distribution: z.enum(['on', 'off']).meta({
    description:
      'on: BATCH_PROCESSING_REPORT_DISTRIBUTION includes email, so every finished report (scheduled, or ' +
      'requested without recipients of its own) is e-mailed to the configured recipients; off: only to ' +
      'recipients a request names',
  }),
  next_check: instant,
  types: z.record(z.string(), TypeStatusSchema),
});

const OneReportSchema = ReportViewSchema.extend({ deliveries: z.array(DeliveryViewSchema) });

const CatchUpAnswerSchema = z.union([
  z.object({
    job: z.string(),
    runId: z.number(),
    status: z.enum(['succeeded', 'failed', 'skipped']),
    generated: z.array(
      z.object({
        report_type: z.enum(REPORT_TYPES),
        period: z.string(),
        stored: z.number(),
        failed: z.number(),
      }),
    ),
    emails: z.object({ sent: z.number(), failed: z.number() }),
  }),
  z.object({ ignored: z.literal(true), reason: z.string() }),
]);

const IdParam = z.object({ id: z.string().meta({ description: 'a report id (positive integer)' }) });
const NOT_FOUND = errorResponse('no such report, or it has no file yet');

export const reportOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/',
    function: 'generate-report',
    served: 'gateway',
    operationId: 'reportsCatchUp',
    summary: 'The catch-up step (cron tick or an aggregation.completed event): every report that is due',
    tags: ['reports'],
    responses: { 200: { description: 'what was generated and e-mailed', schema: CatchUpAnswerSchema } },
    // An event that makes no report due is acknowledged without work (the catch-up itself renders reports).
    examples: [{ headers: { 'x-topic': 'hxp.batch.events' }, body: { type: 'report.generated' } }],
  },
  {
    method: 'post',
    path: '/reports/generate',
    function: 'generate-report',
    served: 'api',
    operationId: 'generateReport',
    summary: 'Generate a report of one period (or a range of periods) in one or more formats',
    description:
      'With an Idempotency-Key header (1–255 printable ASCII characters), the same request sent again gets ' +
      'its first answer back (Idempotent-Replayed: true) and generates and e-mails nothing more; a request ' +
      'whose first run died unanswered runs again after the lease, and e-mails no recipient twice.',
    tags: ['reports'],
    headers: idempotencyKeyHeader(
      'names this request: sent again with the same key and body, it is answered with its first answer (README, Reports)',
    ),
    body: { schema: GenerateBody },
    auth: true,
    responses: {
      200: {
        description: 'wait: true — the finished report(s)',
        schema: z.union([GenerationAnswerSchema, RangeAnswerSchema]),
        headers: REPLAYED_HEADER,
      },
      202: {
        description: 'queued; poll status_url',
        schema: GenerationAnswerSchema,
        headers: REPLAYED_HEADER,
      },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      409: errorResponse(
        'the period has not ended yet (REPORT_PERIOD_NOT_READY), the type cannot be made from what is stored (REPORT_SOURCE_MISSING), "recipients" were given but no SMTP server is configured (EMAIL_DISABLED: set SMTP_HOST), or the Idempotency-Key was used by another request (IDEMPOTENCY_KEY_REUSED) or names this request still running (IDEMPOTENCY_KEY_IN_USE)',
      ),
    },
    examples: [
      { body: { report_type: 'test', format: 'json', wait: true } },
      { body: { report_type: 'weekly_report' }, status: 400 },
    ],
  },
  {
    method: 'get',
    path: '/reports/list',
    function: 'generate-report',
    served: 'api',
    operationId: 'listReports',
    summary: 'Reports, newest first',
    tags: ['reports'],
    query: ListQuery,
    responses: {
      200: {
        description: 'one page',
        schema: z.object({ reports: z.array(ReportViewSchema), next_cursor: z.string().nullable() }),
      },
      400: BAD_REQUEST,
    },
    examples: [{ query: { type: 'test', limit: '5' } }, { query: { format: 'xls' }, status: 400 }],
  },
  {
    method: 'get',
    path: '/reports/status',
    function: 'generate-report',
    served: 'api',
    operationId: 'reportsStatus',
    summary: 'Per report type: last success and failure, running, next scheduled; ?id= one report',
    description:
      '`email` says whether reports can be e-mailed at all (an SMTP server is configured); ' +
      '`email_distribution` says whether finished reports are e-mailed to the configured recipients ' +
      'without a request naming any (reports.distribution includes email).',
    tags: ['reports'],
    query: z.object({ id: z.string().optional().meta({ description: 'one report id' }) }),
    responses: {
      200: {
        description: 'the status per type, or one report',
        schema: z.union([StatusAnswerSchema, OneReportSchema]),
      },
      400: BAD_REQUEST,
      404: NOT_FOUND,
    },
    examples: [{}, { query: { id: '999999' }, status: 404 }],
  },
  {
    method: 'get',
    path: '/reports/{id}',
    function: 'generate-report',
    served: 'api',
    operationId: 'getReport',
    summary: 'One report with its e-mail deliveries',
    tags: ['reports'],
    params: IdParam,
    responses: {
      200: { description: 'the report', schema: OneReportSchema },
      400: BAD_REQUEST,
      404: NOT_FOUND,
    },
    examples: [{ params: { id: '999999' }, status: 404 }],
  },
  {
    method: 'get',
    path: '/reports/{id}/download',
    function: 'generate-report',
    served: 'api',
    operationId: 'downloadReport',
    summary: 'The report file, streamed with its content type and file name',
    tags: ['reports'],
    params: IdParam,
    responses: {
      200: {
        description: 'the file (JSON, CSV, PDF or DOCX)',
        contentType: 'application/octet-stream',
        headers: {
          'X-Content-SHA256': 'SHA-256 of the file',
          'Content-Disposition': 'attachment; filename=…',
        },
      },
      400: BAD_REQUEST,
      404: NOT_FOUND,
    },
    examples: [{ params: { id: '999999' }, status: 404 }],
  },
  {
    method: 'post',
    path: '/reports/{id}/deliver',
    function: 'generate-report',
    served: 'api',
    operationId: 'deliverReport',
    summary: 'E-mail a stored report again',
    description:
      'With an Idempotency-Key header, the same request sent again gets its first answer back ' +
      '(Idempotent-Replayed: true) and sends nothing more.',
    tags: ['reports'],
    params: IdParam,
    headers: idempotencyKeyHeader(
      'names this request: sent again with the same key and body, it is answered with its first answer (README, Reports)',
    ),
    body: { schema: DeliverBody, required: false },
    auth: true,
    responses: {
      200: {
        description: 'every delivery sent',
        schema: z.object({ id: z.number(), deliveries: z.array(DeliveryViewSchema) }),
        headers: REPLAYED_HEADER,
      },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NOT_FOUND,
      409: errorResponse(
        'the report has no stored file to send (REPORT_PERIOD_NOT_READY), no SMTP server is configured (EMAIL_DISABLED: set SMTP_HOST), or the Idempotency-Key was used by another request (IDEMPOTENCY_KEY_REUSED) or names this request still running (IDEMPOTENCY_KEY_IN_USE)',
      ),
      502: {
        description: 'the SMTP server refused a delivery for good (EMAIL_REJECTED; not retried)',
        schema: DeliveryFailureSchema,
        headers: REPLAYED_HEADER,
      },
      503: {
        description:
          'the SMTP server could not be reached (SMTP_UNAVAILABLE); the delivery is retried by the catch-up',
        schema: DeliveryFailureSchema,
        headers: REPLAYED_HEADER,
      },
    },
    examples: [{ params: { id: '999999' }, body: {}, status: 404 }],
  },
];
