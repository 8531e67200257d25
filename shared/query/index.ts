export { answerAggregates, DELETING_JOBS, rowView, seriesFilter } from './aggregates.ts';
export { answerCatalogue, buildCatalogue } from './catalogue.ts';
export { answerDailyUsage, buildDailyUsage, dailyUsageRange } from './daily-usage.ts';
export {
  AggregateRowSchema,
  AggregatesPageSchema,
  CatalogueSchema,
  DailyUsageSchema,
  UsageSchema,
  type AggregatesPage,
  type AggregatesRowView,
  type Catalogue,
  type DailyUsage,
  type Usage,
} from './answers.ts';
export {
  AGGREGATE_FIELDS,
  AggregatesQuerySchema,
  CatalogueQuerySchema,
  DailyUsageQuerySchema,
  DEFAULT_PAGE_ROWS,
  MAX_CSV_PAGE_ROWS,
  MAX_JSON_PAGE_ROWS,
  type AggregateField,
  type AggregatesQuery,
  type DailyUsageQuery,
} from './request.ts';
export type { ReadAnswer, ReadContext, ReadRequest } from './types.ts';
