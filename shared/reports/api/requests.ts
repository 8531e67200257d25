// The /reports API's inputs, parsed with zod into typed requests. A bad value is REQUEST_INVALID (400) with
// a message naming the field, the value and what is allowed.
import { z } from 'zod';
import { BatchError } from '../../errors/index.ts';
import { refuseUnknownParams } from '../../http/index.ts';
import { REPORT_FORMATS, REPORT_TYPES, type ReportFormat, type ReportType } from '../types.ts';

// No control characters anywhere: a NUL cannot be stored (it failed the delivery row after a 202), and a
// CR/LF in the display name would be a header line of the e-mail.
// eslint-disable-next-line no-control-regex
const EMAIL = /^(?:[^<>\u0000-\u001f\u007f]*<)?[^\s@<>\u0000-\u001f\u007f]+@[^\s@<>\u0000-\u001f\u007f]+>?$/;
const list = (values: readonly string[]) => values.join(', ');

export const GenerateBody = z
  .object({
    report_type: z.enum(REPORT_TYPES, { error: `must be one of ${list(REPORT_TYPES)}` }),
    format: z.enum(REPORT_FORMATS, { error: `must be one of ${list(REPORT_FORMATS)}` }).optional(),
    formats: z
      .array(z.enum(REPORT_FORMATS, { error: `each must be one of ${list(REPORT_FORMATS)}` }))
      .min(1, 'must name at least one format')
      .optional(),
    period: z.string({ error: 'must be a string: a date, YYYY-Www, YYYY-MM or an ISO hour' }).optional(),
    from: z.string({ error: 'must be a period string (as "period")' }).optional(),
    to: z.string({ error: 'must be a period string (as "period")' }).optional(),
    recipients: z
      .array(z.string().regex(EMAIL, 'must be an e-mail address (name@example.com)'))
      .min(1, 'must list at least one address')
      .optional(),
    wait: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .strict();

export interface GenerateRequestBody {
  type: ReportType;
  /** Unset: the configured reports.formats. */
  formats: ReportFormat[] | undefined;
  period: string | undefined;
  from: string | undefined;
  to: string | undefined;
  recipients: string[] | undefined;
  wait: boolean;
}

/**
 * Turns zod's first issue into a message naming the field, the value given and the rule; `allowed` are the
 * fields of the body it was parsed with (an unknown field lists them).
 */
export function invalid(
  where: string,
  error: z.ZodError,
  input: unknown,
  allowed: readonly string[] = Object.keys(GenerateBody.shape),
): BatchError {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.');
  let given: unknown = input;
  for (const key of issue.path) given = (given as Record<PropertyKey, unknown> | undefined)?.[key as string];
  const shown = given === undefined ? '' : ` (got ${JSON.stringify(given)?.slice(0, 80)})`;
  const message =
    issue.code === 'unrecognized_keys'
      ? `${where}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${list(allowed)}`
      : `${where}${field ? ` field "${field}"` : ''} ${issue.message}${shown}`;
  return new BatchError('REQUEST_INVALID', message, {
    context: { field: issue.code === 'unrecognized_keys' ? issue.keys[0] : field || where },
  });
}

export function parseGenerateBody(raw: unknown): GenerateRequestBody {
  const input = raw === undefined || raw === null || raw === '' ? {} : raw;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new BatchError(
      'REQUEST_INVALID',
      'the body must be a JSON object such as {"report_type":"daily_summary","format":"json"}',
      { context: { field: 'body' } },
    );
  }
  if (!('report_type' in input)) {
    throw new BatchError(
      'REQUEST_INVALID',
      `body field "report_type" is required: one of ${list(REPORT_TYPES)}`,
      {
        context: { field: 'report_type' },
      },
    );
  }
  const parsed = GenerateBody.safeParse(input);
  if (!parsed.success) throw invalid('body', parsed.error, input);
  const b = parsed.data;
  if (b.format && b.formats) {
    throw new BatchError('REQUEST_INVALID', 'give "format" or "formats", not both', {
      context: { field: 'formats' },
    });
  }
  if (b.period && (b.from || b.to)) {
    throw new BatchError('REQUEST_INVALID', 'give "period", or "from" and "to", not both', {
      context: { field: 'period' },
    });
  }
  if ((b.from === undefined) !== (b.to === undefined)) {
    throw new BatchError('REQUEST_INVALID', 'a range needs both "from" and "to" (periods, both included)', {
      context: { field: b.from === undefined ? 'from' : 'to' },
    });
  }
  return {
    type: b.report_type,
    formats: b.formats ? [...new Set(b.formats)] : b.format ? [b.format] : undefined,
    period: b.period,
    from: b.from,
    to: b.to,
    recipients: b.recipients,
    wait: b.wait ?? false,
  };
}

const STATUSES = ['generating', 'stored', 'failed', 'expired'] as const;
/** Date.parse rolls 2026-02-30 over to 2 March; a day that is not on the calendar is refused instead. */
function onCalendar(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

const instantOrDate = z
  .string()
  .refine(
    (s) => /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(s) && !Number.isNaN(Date.parse(s)) && onCalendar(s),
    'must be a date or an ISO time',
  );

export const ListQuery = z
  .object({
    type: z.enum(REPORT_TYPES, { error: `must be one of ${list(REPORT_TYPES)}` }).optional(),
    format: z.enum(REPORT_FORMATS, { error: `must be one of ${list(REPORT_FORMATS)}` }).optional(),
    status: z.enum(STATUSES, { error: `must be one of ${list(STATUSES)}` }).optional(),
    from: instantOrDate.optional(),
    to: instantOrDate.optional(),
    limit: z.coerce
      .number({ error: 'must be a whole number 1–500' })
      .int('must be a whole number 1–500')
      .min(1, 'must be a whole number 1–500')
      .max(500, 'must be a whole number 1–500')
      .optional(),
    cursor: z.coerce
      .number({ error: 'must be the next_cursor of a previous page' })
      .int('must be the next_cursor of a previous page')
      .min(1, 'must be the next_cursor of a previous page')
      .optional(),
  })
  .strict()
  // from is included and to is not (period_start in [from, to)): from at or after to would list nothing.
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    message: 'must be after "from" (to is exclusive)',
    path: ['to'],
  });

export type ListQuery = z.infer<typeof ListQuery>;

const LIST_FIELDS = ['type', 'format', 'status', 'from', 'to', 'limit', 'cursor'] as const;

export function parseListQuery(query: Record<string, string | undefined>): ListQuery {
  const present = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== ''));
  refuseUnknownParams(present, LIST_FIELDS);
  const parsed = ListQuery.safeParse(present);
  if (!parsed.success) throw invalid('query', parsed.error, present);
  return parsed.data;
}

/** A report id in a path or query: a positive integer. */
export function parseId(text: string | undefined, field = 'id'): number {
  if (text === undefined || !/^\d{1,15}$/.test(text) || Number(text) < 1) {
    throw new BatchError(
      'REQUEST_INVALID',
      `${field} ${JSON.stringify(text ?? '')} is not a report id (a positive integer)`,
      {
        context: { field },
      },
    );
  }
  return Number(text);
}

export const DeliverBody = z
  .object({
    recipients: z
      .array(z.string().regex(EMAIL, 'must be an e-mail address (name@example.com)'))
      .min(1, 'must list at least one address')
      .optional(),
  })
  .strict();
