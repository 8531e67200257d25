// The price table of a configuration's pricing settings — the inline list or the file it names — or every
// problem with it, without throwing. The configuration schema calls it when the configuration is loaded,
// so a table that cannot be built (an entry that fails its schema, a valid_from that does not exist in
// time.zone, two prices of one model from the same instant, a file that cannot be read) stops the start
// with CONFIG_INVALID; load.ts builds the table ingest uses with the same function.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PriceListSchema, priceListProblems, type PriceEntry } from './schema.ts';
import { buildPriceTable, EMPTY_PRICE_TABLE, type PriceTableResult } from './table.ts';

export interface PricingSettings {
  models: readonly PriceEntry[];
  file?: string | undefined;
}

type Entries = { ok: true; entries: PriceEntry[] } | { ok: false; problems: string[] };

function readPriceFile(file: string): Entries {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, problems: [`cannot read the price file (${String(code ?? error)})`] };
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    return { ok: false, problems: [`not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`] };
  }
  const parsed = PriceListSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: priceListProblems(parsed.error, raw) };
  return { ok: true, entries: parsed.data };
}

/** The table, or one line per problem naming the entry (index and model) and the field. */
export function resolvePriceTable(pricing: PricingSettings, timeZone: string): PriceTableResult {
  const read =
    pricing.file === undefined ? { ok: true as const, entries: pricing.models } : readPriceFile(pricing.file);
  if (!read.ok) return read;
  if (read.entries.length === 0) return { ok: true, table: EMPTY_PRICE_TABLE };
  return buildPriceTable(read.entries, timeZone);
}
