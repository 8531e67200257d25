// The price table of a configuration: `pricing.models` (YAML or BATCH_PROCESSING_PRICING) or the YAML/JSON
// file `pricing.file` (BATCH_PROCESSING_PRICING_FILE), resolved in the configured zone. loadConfig has
// already checked it (resolve.ts, called from the configuration schema), so a bad table stopped the start
// with CONFIG_INVALID naming the entry and field; here it is built once per configuration object for
// ingest. A price file changed into a bad one after the start still throws CONFIG_INVALID, naming it.
import type { BatchProcessingConfig } from '../config/index.ts';
import { configInvalid } from '../config/problems.ts';
import { resolvePriceTable, type PricingSettings } from './resolve.ts';
import type { PriceTable } from './table.ts';

export type { PricingSettings } from './resolve.ts';

export function loadPriceTable(pricing: PricingSettings, timeZone: string): PriceTable {
  const resolved = resolvePriceTable(pricing, timeZone);
  if (resolved.ok) return resolved.table;
  const where = pricing.file ?? 'batch_processing.pricing.models';
  throw configInvalid(resolved.problems.map((l) => `${where}: ${l}`));
}

const fromConfig = new WeakMap<BatchProcessingConfig, PriceTable>();

/** The price table of a (frozen) configuration, read once per configuration object. */
export function priceTableFrom(config: BatchProcessingConfig): PriceTable {
  let table = fromConfig.get(config);
  if (!table) fromConfig.set(config, (table = loadPriceTable(config.pricing, config.time.zone)));
  return table;
}
