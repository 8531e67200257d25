export {
  COST_FIELDS,
  COST_INFERRED_FLAG_METRIC,
  COST_INFERRED_METRIC,
  COST_METRIC,
  PRICED_EVENT_TYPE,
  TOKEN_FIELDS,
  inferCost,
  inferCostOfMetrics,
  withInferredCost,
  type CostInput,
  type CostOutcome,
} from './infer.ts';
export { loadPriceTable, priceTableFrom, type PricingSettings } from './load.ts';
export { PriceEntrySchema, PriceListSchema, priceListProblems, type PriceEntry } from './schema.ts';
export { buildPriceTable, EMPTY_PRICE_TABLE, priceAt, type Price, type PriceTable } from './table.ts';
