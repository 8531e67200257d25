// The price table of a configuration: `pricing.models` (YAML or BATCH_PROCESSING_PRICING) or the YAML/JSON
// file `pricing.file` (BATCH_PROCESSING_PRICING_FILE), resolved in the configured zone. Read once per
// process with the rest of the function context; a bad table stops the start with CONFIG_INVALID naming
// the entry and field, as a bad setting does.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { BatchProcessingConfig } from '../config/index.ts';
import { configInvalid } from '../config/problems.ts';
import { PriceListSchema, priceListProblems, type PriceEntry } from './schema.ts';
import { buildPriceTable, EMPTY_PRICE_TABLE, type PriceTable } from './table.ts';

export interface PricingSettings {
  models: readonly PriceEntry[];
  file?: string | undefined;
}

function readPriceFile(file: string): PriceEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw configInvalid([
      `BATCH_PROCESSING_PRICING_FILE=${JSON.stringify(file)}: cannot read the price file (${String(code ?? error)})`,
    ]);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw configInvalid([`${file}: not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`]);
  }
  const parsed = PriceListSchema.safeParse(raw);
  if (!parsed.success) throw configInvalid(priceListProblems(parsed.error, raw).map((l) => `${file}: ${l}`));
  return parsed.data;
}

export function loadPriceTable(pricing: PricingSettings, timeZone: string): PriceTable {
  const entries = pricing.file === undefined ? pricing.models : readPriceFile(pricing.file);
  if (entries.length === 0) return EMPTY_PRICE_TABLE;
  const built = buildPriceTable(entries, timeZone);
  if (!built.ok) {
    const where = pricing.file ?? 'batch_processing.pricing.models';
    throw configInvalid(built.problems.map((l) => `${where}: ${l}`));
  }
  return built.table;
}

const fromConfig = new WeakMap<BatchProcessingConfig, PriceTable>();

/** The price table of a (frozen) configuration, read once per configuration object. */
export function priceTableFrom(config: BatchProcessingConfig): PriceTable {
  let table = fromConfig.get(config);
  if (!table) fromConfig.set(config, (table = loadPriceTable(config.pricing, config.time.zone)));
  return table;
}
