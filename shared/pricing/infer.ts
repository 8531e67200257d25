// Cost from the price table for an llm_request that reports none. Pure: the ingest paths (the general
// normaliser and the plain-text fast path) call it with what they read from the event and add the metrics
// it gives, so both store the same row.
//
// The event keeps its data as received; the inference shows only in the metrics:
//   cost_usd           the cost (reported or inferred), as every reader of cost already sums it;
//   cost_inferred      1 on an event whose cost was inferred (its sum counts them);
//   cost_usd_inferred  the inferred part, so reported cost = sum(cost_usd) − sum(cost_usd_inferred).
import { priceAt, type PriceTable } from './table.ts';

export const PRICED_EVENT_TYPE = 'llm_request';
export const COST_METRIC = 'cost_usd';
export const COST_INFERRED_FLAG_METRIC = 'cost_inferred';
export const COST_INFERRED_METRIC = 'cost_usd_inferred';
/** Data fields whose presence means the event speaks for its own cost: nothing is inferred. */
export const COST_FIELDS: readonly string[] = [COST_METRIC, COST_INFERRED_FLAG_METRIC, COST_INFERRED_METRIC];
export const TOKEN_FIELDS = { input: 'tokens_in', output: 'tokens_out', cached: 'tokens_cached' } as const;

export interface CostInput {
  eventType: string;
  timestampMs: number;
  /** data.model when it is a string. */
  model: string | undefined;
  /** data.tokens_in / tokens_out / tokens_cached when they are numbers. */
  tokensIn: number | undefined;
  tokensOut: number | undefined;
  tokensCached: number | undefined;
  /** data holds cost_usd, cost_inferred or cost_usd_inferred as a number (or boolean). */
  hasCost: boolean;
}

export type CostOutcome =
  /** Nothing to do: not an llm_request, cost reported, no tokens, or no price table configured. */
  | { kind: 'none' }
  | { kind: 'inferred'; costUsd: number }
  /** Tokens but no usable price: no model, a model without a price at that time, or nonsense counts. */
  | { kind: 'unpriced' };

const NONE: CostOutcome = { kind: 'none' };
const UNPRICED: CostOutcome = { kind: 'unpriced' };

const usable = (n: number | undefined): boolean => n === undefined || (Number.isFinite(n) && n >= 0);

export function inferCost(prices: PriceTable, input: CostInput): CostOutcome {
  if (input.eventType !== PRICED_EVENT_TYPE || input.hasCost || prices.models.size === 0) return NONE;
  const { tokensIn, tokensOut, tokensCached } = input;
  if (tokensIn === undefined && tokensOut === undefined) return NONE;
  if (input.model === undefined || !usable(tokensIn) || !usable(tokensOut) || !usable(tokensCached)) {
    return UNPRICED;
  }
  const price = priceAt(prices, input.model, input.timestampMs);
  if (price === undefined) return UNPRICED;
  const inTokens = tokensIn ?? 0;
  // Cached tokens are the part of tokens_in served from the prompt cache.
  const cached = Math.min(tokensCached ?? 0, inTokens);
  const micro =
    (inTokens - cached) * price.inputPer1k +
    cached * (price.cachedInputPer1k ?? price.inputPer1k) +
    (tokensOut ?? 0) * price.outputPer1k;
  // 12 significant digits: no binary noise (0.0042000000000000004) in what is stored and summed.
  return { kind: 'inferred', costUsd: Number((micro / 1000).toPrecision(12)) };
}

/** Adds the inferred metrics to sorted parallel name/value lists, keeping them sorted (as Array#sort orders). */
export function withInferredCost<V>(
  names: string[],
  values: V[],
  costUsd: number,
  render: (n: number) => V,
): void {
  // Shifted into place by hand: splice allocated an array per call, on the path of every priced event.
  const add = (name: string, value: V): void => {
    let i = names.length;
    names.push(name);
    values.push(value);
    while (i > 0 && (names[i - 1] as string) >= name) {
      names[i] = names[i - 1] as string;
      values[i] = values[i - 1] as V;
      i--;
    }
    names[i] = name;
    values[i] = value;
  };
  add(COST_METRIC, render(costUsd));
  add(COST_INFERRED_FLAG_METRIC, render(1));
  add(COST_INFERRED_METRIC, render(costUsd));
}

/**
 * inferCost for an event already split into sorted metric names and values, as both ingest paths hold it:
 * the token counts and the reported cost are read from the metrics (a cost field that is not a number
 * reports nothing). `value(i)` gives the i-th metric as a number.
 */
export function inferCostOfMetrics(
  prices: PriceTable,
  eventType: string,
  timestampMs: number,
  model: string | undefined,
  names: readonly string[],
  value: (index: number) => number,
): CostOutcome {
  if (eventType !== PRICED_EVENT_TYPE || prices.models.size === 0) return NONE;
  let tokensIn: number | undefined;
  let tokensOut: number | undefined;
  let tokensCached: number | undefined;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name === COST_METRIC || name === COST_INFERRED_FLAG_METRIC || name === COST_INFERRED_METRIC)
      return NONE;
    if (name === TOKEN_FIELDS.input) tokensIn = value(i);
    else if (name === TOKEN_FIELDS.output) tokensOut = value(i);
    else if (name === TOKEN_FIELDS.cached) tokensCached = value(i);
  }
  return inferCost(prices, {
    eventType,
    timestampMs,
    model,
    tokensIn,
    tokensOut,
    tokensCached,
    hasCost: false,
  });
}
