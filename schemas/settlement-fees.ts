/**
 * The settlements' fee table as a stage configures it (SETTLEMENT_FEES, JSON). Its own module: the
 * environment schema every function reads imports it, and nothing else of the API's schemas. zod/mini, as
 * functions/adapters/config.ts is: a function that parses nothing else bundles no classic zod.
 */
import * as z from 'zod/mini';
import { PAYMENT_METHOD_TYPES } from '../functions/core/vocabulary.js';

const FeeRateSchema = z.strictObject({
  bps: z.int().check(z.minimum(0), z.maximum(10_000)),
  fixed: z.int().check(z.minimum(0)),
});

const MethodRatesSchema = z.object(
  Object.fromEntries(PAYMENT_METHOD_TYPES.map((method) => [method, FeeRateSchema])) as Record<
    (typeof PAYMENT_METHOD_TYPES)[number],
    typeof FeeRateSchema
  >,
);

/**
 * The fee table (SETTLEMENT_FEES, JSON): every method's default, and per-merchant overrides of some.
 * @example {"defaults":{"card":{"bps":290,"fixed":0},"qr_promptpay":{"bps":80,"fixed":0},"wechat_pay":{"bps":250,"fixed":0},"alipay":{"bps":250,"fixed":0}},"merchants":{"merchant_demo":{"card":{"bps":250,"fixed":300}}}}
 */
export const FeeScheduleSchema = z.strictObject({
  defaults: z.strictObject(MethodRatesSchema.def.shape),
  merchants: z.optional(z.record(z.string(), z.strictObject(z.partial(MethodRatesSchema).def.shape))),
});
