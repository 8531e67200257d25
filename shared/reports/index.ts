// shared/reports: the report document, its builders (aggregate views only), its renderers, its storage and
// distribution, and the /reports API. See README.md beside this file.
export {
  handleReportRequest,
  reportView,
  REPORT_ROUTES,
  type ApiDeps,
  type ReportAnswer,
  type ReportRequest,
} from './api/routes.ts';
export { createMailer, type Mailer, type MailMessage } from './deliver/mailer.ts';
export { emailReports, retryDueDeliveries } from './deliver/deliver.ts';
export {
  assertGeneratable,
  catchUp,
  generateReport,
  objectKey,
  REPORT_JOB,
  reportSettingsFrom,
  type GenerationResult,
  type ReportDeps,
  type ReportSettings,
} from './generate.ts';
export { reportMetrics, type ReportMetrics } from './metrics.ts';
export { ReportDocument } from './model.ts';
export { lastCompletePeriod, parsePeriod, periodContaining, previousPeriod, type Period } from './period.ts';
export { renderReport } from './render/index.ts';
export { buildReportDocument } from './builders/document.ts';
export { loadTemplate, DEFAULT_TEMPLATES } from './templates.ts';
export {
  REPORT_TYPES,
  REPORT_FORMATS,
  CONTENT_TYPES,
  PERIOD_LEVEL,
  type ReportType,
  type ReportFormat,
} from './types.ts';
