// The price table resolved for lookups: per model, its price periods sorted by start instant.
import { parseZonedInstant } from '../aggregate/local-time.ts';
import type { PriceEntry } from './schema.ts';

export interface Price {
  /** Epoch ms from which this price applies (-Infinity: always). */
  validFromMs: number;
  inputPer1k: number;
  outputPer1k: number;
  /** The price of cached input tokens; undefined = the input price. */
  cachedInputPer1k: number | undefined;
}

export interface PriceTable {
  /** Models with at least one price. */
  readonly models: ReadonlyMap<string, readonly Price[]>;
}

export const EMPTY_PRICE_TABLE: PriceTable = Object.freeze({ models: new Map() });

export type PriceTableResult = { ok: true; table: PriceTable } | { ok: false; problems: string[] };

/** Builds the lookup table; two entries of one model with the same start are a problem, not a guess. */
export function buildPriceTable(entries: readonly PriceEntry[], timeZone: string): PriceTableResult {
  const models = new Map<string, Price[]>();
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    const validFromMs =
      entry.valid_from === undefined ? -Infinity : parseZonedInstant(entry.valid_from, timeZone);
    if (validFromMs === undefined) {
      problems.push(
        `entry ${index} (model ${JSON.stringify(entry.model)}) valid_from: ${JSON.stringify(entry.valid_from)} is not a day or time that exists`,
      );
      return;
    }
    const prices = models.get(entry.model) ?? [];
    if (prices.some((p) => p.validFromMs === validFromMs)) {
      problems.push(
        `entry ${index} (model ${JSON.stringify(entry.model)}): a second price valid from ${entry.valid_from ?? 'always'}; ` +
          'give each price period of a model its own valid_from',
      );
      return;
    }
    prices.push({
      validFromMs,
      inputPer1k: entry.input_usd_per_1k,
      outputPer1k: entry.output_usd_per_1k,
      cachedInputPer1k: entry.cached_input_usd_per_1k,
    });
    models.set(entry.model, prices);
  });
  if (problems.length > 0) return { ok: false, problems };
  for (const prices of models.values()) prices.sort((a, b) => a.validFromMs - b.validFromMs);
  return { ok: true, table: { models } };
}

/** The price of `model` valid at `atMs`: the latest period that started at or before it. */
export function priceAt(table: PriceTable, model: string, atMs: number): Price | undefined {
  const prices = table.models.get(model);
  if (prices === undefined) return undefined;
  let found: Price | undefined;
  for (const price of prices) {
    if (price.validFromMs > atMs) break;
    found = price;
  }
  return found;
}
