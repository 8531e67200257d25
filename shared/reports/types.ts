// The report types and formats, and the aggregation level each type's period is made of.
import type { Level } from '../aggregate/index.ts';
import { REPORT_FORMATS } from '../config/schema.ts';

export const REPORT_TYPES = [
  'hourly_summary',
  'daily_summary',
  'weekly_summary',
  'monthly_summary',
  'business_intelligence',
  'capacity_analysis',
  'test',
] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

export { REPORT_FORMATS };
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const SUMMARY_TYPES = [
  'hourly_summary',
  'daily_summary',
  'weekly_summary',
  'monthly_summary',
] as const;
export type SummaryType = (typeof SUMMARY_TYPES)[number];

/** The aggregation level whose bucket is one period of the type. */
export const PERIOD_LEVEL: Readonly<Record<ReportType, Level>> = {
  hourly_summary: 'hour',
  daily_summary: 'day',
  weekly_summary: 'week',
  monthly_summary: 'month',
  business_intelligence: 'week',
  capacity_analysis: 'day',
  test: 'hour',
};

export function isSummaryType(type: ReportType): type is SummaryType {
  return (SUMMARY_TYPES as readonly string[]).includes(type);
}

export const CONTENT_TYPES: Readonly<Record<ReportFormat, string>> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};
