/** Zod schemas for the cost calculation endpoint's wire protocol (ours: docs/cost-service.md), shared by client and simulator. */
import * as z from 'zod';
import { CURRENCIES } from '../functions/core/money.js';

/** The one route of the protocol. */
export const COST_QUOTES_PATH = '/v1/quotes';

/** Header carrying the caller's API key. */
export const COST_API_KEY_HEADER = 'x-api-key';

/**
 * ISO 4217 code, upper case, limited to the currencies money.ts knows the exponent of.
 * @example 'THB'
 */
export const CostCurrencySchema = z.enum(CURRENCIES);

/**
 * A merchant SKU.
 * @example 'SKU-TSHIRT'
 */
export const SkuSchema = z.string().min(1).max(64);

/** An integer amount in the currency's minor units (satang for THB). */
const minorAmount = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * The request body of `POST /v1/quotes`. No prices: the cost service prices every SKU itself.
 * @example
 * { order_id: 'ord_1001', currency: 'THB', lines: [{ sku: 'SKU-TSHIRT', quantity: 2 }, { sku: 'SKU-MUG', quantity: 1 }] }
 */
export const CostQuoteRequestSchema = z.object({
  order_id: z.string().min(1).max(128),
  currency: CostCurrencySchema,
  lines: z
    .array(z.object({ sku: SkuSchema, quantity: z.int().min(1).max(10_000) }))
    .min(1)
    .max(100),
});
export type CostQuoteRequest = z.infer<typeof CostQuoteRequestSchema>;

/**
 * One priced line: `amount` = `unit_amount` × `quantity`, in minor units.
 * @example { sku: 'SKU-TSHIRT', quantity: 2, unit_amount: 35000, amount: 70000 }
 */
export const CostQuoteLineSchema = z
  .object({
    sku: SkuSchema,
    quantity: z.int().min(1),
    unit_amount: minorAmount,
    amount: minorAmount,
  })
  .refine((line) => line.amount === line.unit_amount * line.quantity, {
    message: 'amount must equal unit_amount × quantity',
    path: ['amount'],
  });

/**
 * The 200 answer of `POST /v1/quotes`. `total_amount` is the sum of the line amounts; an answer whose
 * arithmetic does not add up is treated as malformed, because the payment amount is checked against it.
 * @example
 * {
 *   order_id: 'ord_1001', currency: 'THB', total_amount: 89900,
 *   lines: [
 *     { sku: 'SKU-TSHIRT', quantity: 2, unit_amount: 35000, amount: 70000 },
 *     { sku: 'SKU-MUG', quantity: 1, unit_amount: 19900, amount: 19900 },
 *   ],
 * }
 */
export const CostQuoteResponseSchema = z
  .object({
    order_id: z.string().min(1),
    currency: CostCurrencySchema,
    total_amount: minorAmount,
    lines: z.array(CostQuoteLineSchema).min(1),
  })
  .refine((quote) => quote.total_amount === quote.lines.reduce((sum, line) => sum + line.amount, 0), {
    message: 'total_amount must equal the sum of the line amounts',
    path: ['total_amount'],
  });
export type CostQuoteResponse = z.infer<typeof CostQuoteResponseSchema>;

/** Codes of a 422 answer: an SKU the service cannot price, or an order it cannot read. */
export const COST_ERROR_CODES = ['unknown_sku', 'invalid_order'] as const;

/**
 * The body of every 4xx answer. 422 uses the codes above; 401 (wrong key) uses `unauthorized`. `code` is
 * kept open so a newer service's codes still parse.
 * @example { error: { code: 'unknown_sku', message: 'SKU-NOPE is not in the catalog' } }
 */
export const CostErrorResponseSchema = z.object({
  error: z.object({
    code: z.union([z.enum(COST_ERROR_CODES), z.string().min(1)]),
    message: z.string(),
  }),
});
export type CostErrorResponse = z.infer<typeof CostErrorResponseSchema>;
