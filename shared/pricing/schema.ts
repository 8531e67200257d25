// The model price table as people write it (YAML `batch_processing.pricing.models`, the JSON in
// BATCH_PROCESSING_PRICING, or the file named by BATCH_PROCESSING_PRICING_FILE): one entry per model and
// price period, USD per 1,000 tokens.
//   - model: llama-3-70b
//     input_usd_per_1k: 0.0009
//     output_usd_per_1k: 0.0009
//     cached_input_usd_per_1k: 0.00045   # optional; cached input tokens cost the input price without it
//     valid_from: 2026-11-01             # optional; a date is local midnight (time.zone); absent = always
// A later valid_from of the same model replaces the price from then on, so a price change never rewrites
// the cost of events before it.
import { z } from 'zod';
import { LOCAL_DATE_TIME } from '../aggregate/local-time.ts';

const usdPer1k = (what: string) =>
  z
    .number({ error: `must be the USD price of 1,000 ${what} tokens, a number such as 0.003` })
    .finite()
    .min(0, 'must not be negative');

const OFFSET_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

export const ValidFromSchema = z
  .union([z.string(), z.date()], {
    error: 'must be a date (2026-11-01) or a date-time (2026-11-01T12:00:00Z)',
  })
  // YAML reads an unquoted 2026-11-01 as a timestamp at UTC midnight; keep the date as written.
  .transform((v) => (v instanceof Date ? v.toISOString().replace(/T00:00:00\.000Z$/, '') : v.trim()))
  .refine((v) => LOCAL_DATE_TIME.test(v) || OFFSET_DATE_TIME.test(v), {
    message: 'must be a date (2026-11-01) or a date-time (2026-11-01T12:00:00Z)',
  });

export const PriceEntrySchema = z
  .object({
    model: z.string({ error: 'must be the model name as events carry it in data.model' }).trim().min(1),
    input_usd_per_1k: usdPer1k('input'),
    output_usd_per_1k: usdPer1k('output'),
    cached_input_usd_per_1k: usdPer1k('cached input').optional(),
    valid_from: ValidFromSchema.optional(),
  })
  .strict();

export const PriceListSchema = z.array(PriceEntrySchema, {
  error: 'must be a list of prices: [{model, input_usd_per_1k, output_usd_per_1k, …}]',
});

export type PriceEntry = z.output<typeof PriceEntrySchema>;

/** One line per problem of a price list, naming the entry (by index and model) and the field. */
export function priceListProblems(error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const [index, field, ...rest] = issue.path;
    if (typeof index !== 'number') return issue.message;
    const entry = Array.isArray(input) ? (input[index] as { model?: unknown } | undefined) : undefined;
    const model = typeof entry?.model === 'string' ? ` (model ${JSON.stringify(entry.model)})` : '';
    const where = field === undefined ? '' : ` ${[field, ...rest].map(String).join('.')}`;
    return `entry ${index}${model}${where}: ${issue.message}`;
  });
}
