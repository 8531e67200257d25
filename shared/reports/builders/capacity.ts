// capacity_analysis renders what analyze-capacity stores (analyses, forecast points). That function and its
// tables are not on this database's schema yet, so the type is refused — with the reason — rather than
// answered with an empty report.
import { BatchError } from '../../errors/index.ts';

export function capacityUnavailable(): BatchError {
  return new BatchError(
    'REPORT_SOURCE_MISSING',
    'capacity_analysis renders the analyses and forecasts that analyze-capacity stores, and this database holds none (the analyze-capacity function and its tables are not deployed yet); an empty capacity report would say nothing — daily_summary shows host utilisation meanwhile',
    { context: { field: 'report_type', report_type: 'capacity_analysis' } },
  );
}
