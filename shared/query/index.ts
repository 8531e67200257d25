export {
  answerAggregates,
  DELETING_JOBS,
  rowView,
  seriesFilter,
  type AggregatesRowView,
} from './aggregates.ts';
export { answerCatalogue, buildCatalogue, type Catalogue } from './catalogue.ts';
export {
  answerDailyUsage,
  buildDailyUsage,
  dailyUsageRange,
  type DailyUsage,
  type Usage,
} from './daily-usage.ts';
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
