// Report templates: per type, which sections appear and in what order, the title and footer, the e-mail's
// subject and body, and its recipients. Built-in defaults below; `reports.templatesDir` may hold
// `<report_type>.yml` files that override any of those keys. Text is Mustache — logic-less: a template can
// place values ({{period.label}}, {{headline.requests}}) and repeat lists, never run code.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Mustache from 'mustache';
import { parse } from 'yaml';
import { z } from 'zod';
import { BatchError } from '../errors/index.ts';
import type { SectionId } from './model.ts';
import { REPORT_TYPES, type ReportType } from './types.ts';

export interface ReportTemplate {
  title: string;
  footer: string;
  sections: SectionId[];
  email: { subject: string; body: string };
  /** Recipients of this type; empty = reports.email.recipients. */
  recipients: string[];
}

const SUMMARY_SECTIONS: SectionId[] = [
  'headline',
  'hourly',
  'daily',
  'latency',
  'models',
  'sources',
  'top',
  'satisfaction',
  'business',
  'hosts',
  'event_types',
  'completeness',
];
const BI_SECTIONS: SectionId[] = ['trends', 'anomalies', 'cost_efficiency', 'feedback', 'load_heatmap'];

/** The sections a type's builder fills (a template may show any of them, in any order). */
export const SECTIONS_OF: Readonly<Record<ReportType, readonly SectionId[]>> = {
  hourly_summary: SUMMARY_SECTIONS,
  daily_summary: SUMMARY_SECTIONS,
  weekly_summary: SUMMARY_SECTIONS,
  monthly_summary: SUMMARY_SECTIONS,
  business_intelligence: BI_SECTIONS,
  capacity_analysis: ['capacity', 'capacity_forecast', 'recommendations'],
  test: ['checks'],
};

const EMAIL_BODY = `{{title}}

Period: {{period.label}} ({{period.start}} to {{period.end}}, time zone {{period.time_zone}})
{{#headline}}
Requests: {{requests}} · errors: {{error_rate}} · cost: {{cost_usd}}{{#cost_inferred_usd}} (inferred from prices: {{cost_inferred_usd}}){{/cost_inferred_usd}} · p95 latency: {{latency_p95_ms}}
{{/headline}}

{{#files}}
- {{name}} ({{size}}){{#link}}: {{link}}{{/link}}{{^link}}: attached{{/link}}
{{/files}}

-- 
hxp-batch generate-report`;

function defaults(title: string, sections: readonly SectionId[]): ReportTemplate {
  return {
    title,
    footer: 'hxp-batch · {{report_type}} {{period.label}} · generated {{generated_at}}',
    sections: [...sections],
    email: { subject: '[hxp-batch] {{title}}', body: EMAIL_BODY },
    recipients: [],
  };
}

export const DEFAULT_TEMPLATES: Readonly<Record<ReportType, ReportTemplate>> = {
  hourly_summary: defaults('Hourly summary {{period.label}}', [
    'headline',
    'latency',
    'models',
    'sources',
    'hosts',
    'event_types',
    'completeness',
  ]),
  daily_summary: defaults(
    'Daily summary {{period.label}}',
    SUMMARY_SECTIONS.filter((s) => s !== 'daily'),
  ),
  weekly_summary: defaults('Weekly summary {{period.label}}', SUMMARY_SECTIONS),
  monthly_summary: defaults('Monthly summary {{period.label}}', SUMMARY_SECTIONS),
  business_intelligence: defaults('Business intelligence {{period.label}}', BI_SECTIONS),
  capacity_analysis: defaults('Capacity analysis {{period.label}}', [
    'capacity',
    'capacity_forecast',
    'recommendations',
  ]),
  test: defaults('Test report {{period.label}}', ['checks']),
};

const TemplateFile = z
  .object({
    title: z.string().min(1),
    footer: z.string(),
    sections: z.array(z.string()).min(1),
    email: z
      .object({ subject: z.string().min(1), body: z.string() })
      .partial()
      .strict(),
    recipients: z.array(z.string().regex(/^(?:[^<>]*<)?[^\s@<>]+@[^\s@<>]+>?$/, 'not an e-mail address')),
  })
  .partial()
  .strict();

function templateError(file: string, message: string): BatchError {
  return new BatchError(
    'REPORT_TEMPLATE_INVALID',
    `report template ${file}: ${message}; fix the file or remove it to use the built-in template`,
    { context: { file } },
  );
}

/** The template of `type`: the built-in one, with `<templatesDir>/<type>.yml` laid over it when present. */
export function loadTemplate(type: ReportType, templatesDir: string | undefined): ReportTemplate {
  const base = DEFAULT_TEMPLATES[type];
  if (!templatesDir) return structuredClone(base);
  const file = join(templatesDir, `${type}.yml`);
  if (!existsSync(file)) return structuredClone(base);
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw templateError(file, `not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = TemplateFile.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw templateError(file, `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const over = parsed.data;
  const allowed = SECTIONS_OF[type];
  for (const s of over.sections ?? []) {
    if (!(allowed as readonly string[]).includes(s)) {
      throw templateError(file, `section "${s}" is not one of ${type}'s: ${allowed.join(', ')}`);
    }
  }
  for (const text of [over.title, over.footer, over.email?.subject, over.email?.body]) {
    if (text === undefined) continue;
    try {
      Mustache.parse(text);
    } catch (err) {
      throw templateError(file, `Mustache syntax: ${(err as Error).message}`);
    }
  }
  return {
    title: over.title ?? base.title,
    footer: over.footer ?? base.footer,
    sections: (over.sections as SectionId[] | undefined) ?? [...base.sections],
    email: { ...base.email, ...over.email },
    recipients: over.recipients ?? [],
  };
}

/** Fills a template text from `view` (plain text: nothing is HTML-escaped). */
export function fill(text: string, view: object): string {
  return Mustache.render(text, view, {}, { escape: (value: unknown) => String(value) });
}

export function isReportType(value: unknown): value is ReportType {
  return typeof value === 'string' && (REPORT_TYPES as readonly string[]).includes(value);
}
