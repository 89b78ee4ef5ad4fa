/**
 * Zod schemas for KBank KPGW wire payloads (shared/kbank-kpgw.md): card, QR / WeChat, Alipay and the notify
 * webhook, for the adapter and simulator.
 */
import * as z from 'zod';
import { CURRENCIES } from '../functions/core/money.js';
import { KBANK_QR_STATES, KBANK_STATES } from '../functions/core/ports.js';

/**
 * A KBank amount in major units: a number or a decimal string, never negative. Converted to minor units
 * with money.ts, never with float arithmetic.
 * @example '200.50'
 * @example 74
 */
export const kbankAmountSchema = z.union([
  z.number().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal amount such as "200.50"'),
]);

/**
 * ISO 4217 code, upper case, limited to the currencies money.ts knows the exponent of (an amount in an
 * unknown currency cannot be converted safely).
 * @example 'THB'
 */
export const kbankCurrencySchema = z.enum(CURRENCIES);

/**
 * KBank `transaction_state`. Strict on purpose: an unknown state (such as the portal's "Auhtorized"
 * typo) must never be read as success, so it fails parsing and the caller treats the outcome as unknown.
 * @example 'Authorized'
 */
export const kbankStateSchema = z.enum(KBANK_STATES);

/**
 * The card `source` of a charge. All optional: we only display it.
 * @example { id: 'card_test_1a2b', brand: 'Visa', card_masking: '411111xxxxxx1111', issuer_bank: 'KBANK' }
 */
export const kbankChargeSourceSchema = z.object({
  id: z.string().nullish(),
  brand: z.string().nullish(),
  card_masking: z.string().nullish(),
  issuer_bank: z.string().nullish(),
});

/**
 * The charge object: the answer to create, inquiry, void, settle and refund, and the body of the notify
 * webhook (with `checksum`). Strict on the fields we act on (id, object, amount, currency, status,
 * transaction_state); lenient elsewhere (nullish), and unknown fields such as `settlement_info` are
 * stripped.
 * @example
 * {
 *   id: 'chrg_test_5f2c0e', object: 'charge', amount: '200.50', currency: 'THB', status: 'success',
 *   transaction_state: 'Authorized', approval_code: '123456',
 *   source: { id: 'card_test_1a2b', brand: 'Visa', card_masking: '411111xxxxxx1111', issuer_bank: 'KBANK' },
 *   created: '20250101093000123', livemode: false, failure_code: null, failure_message: null,
 *   redirect_url: null, reference_order: 'att_01J9Z', ref_1: null, ref_2: null, ref_3: null, metadata: {},
 * }
 */
export const kbankChargeSchema = z.object({
  id: z.string().min(1),
  object: z.literal('charge'),
  amount: kbankAmountSchema,
  currency: kbankCurrencySchema,
  status: z.string().min(1),
  transaction_state: kbankStateSchema,
  approval_code: z.string().nullish(),
  source: kbankChargeSourceSchema.nullish(),
  /** 17 digits `YYYYMMDDHHmmssSSS`. A number is tolerated, though at 17 digits it has lost precision. */
  created: z.union([z.string(), z.number()]).nullish(),
  livemode: z.boolean().nullish(),
  failure_code: z.string().nullish(),
  failure_message: z.string().nullish(),
  redirect_url: z.string().nullish(),
  reference_order: z.string().nullish(),
  ref_1: z.string().nullish(),
  ref_2: z.string().nullish(),
  ref_3: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  /**
   * KBank lists `refund_info` on the charge [doc] without publishing its shape [?]: accepted as anything
   * here, so an unexpected shape never breaks a charge answer; read with kbankRefundInfoSchema.
   */
  refund_info: z.unknown().nullish(),
  /** Only on the notify webhook: see kbankChecksum in functions/adapters/kbank-client.ts. */
  checksum: z.string().nullish(),
});
export type KbankChargeWire = z.infer<typeof kbankChargeSchema>;

/**
 * The part of `refund_info` we rely on [ours: KBank publishes no format]: the total refunded so far on the
 * charge, in major units like every KBank amount. This is what an inquiry compares with our records after
 * a refund's answer was lost. Anything else in it is ignored; an answer without it means "cannot tell".
 * @example { refunded_amount: '50.00' }
 */
export const kbankRefundInfoSchema = z.object({ refunded_amount: kbankAmountSchema });
export type KbankRefundInfo = z.infer<typeof kbankRefundInfoSchema>;

/**
 * KBank's error object, sent with a 4xx status. There is no public catalogue of codes.
 * @example { object: 'error', code: 'duplicate_reference_order', message: 'reference_order already used' }
 */
export const kbankErrorSchema = z.object({
  object: z.literal('error'),
  code: z.string().min(1),
  message: z.string().nullish(),
});
export type KbankErrorWire = z.infer<typeof kbankErrorSchema>;

/**
 * Merchant and terminal ids, only when the merchant contract needs them.
 * @example { mid: '401234567890001', tid: '70123456' }
 */
export const kbankAdditionalDataSchema = z.object({
  mid: z
    .string()
    .regex(/^\d{15}$/)
    .optional(),
  tid: z
    .string()
    .regex(/^\d{8}$/)
    .optional(),
  smartpay_id: z.string().optional(),
  term: z.string().optional(),
});

/**
 * Body of `POST /card/v2/charge` for a browser-tokenized card. `reference_order` is our attempt id: KBank has
 * no idempotency key, so it is the only handle on the charge after a timeout.
 * @example
 * {
 *   amount: '200.50', currency: 'THB', description: 'Order 1001', source_type: 'card', mode: 'token',
 *   token: 'tokn_test_9f8e7d', reference_order: 'att_01J9Z', metadata: { paymentId: 'pay_01J9Z' },
 * }
 */
export const kbankCreateChargeRequestSchema = z.object({
  amount: kbankAmountSchema,
  currency: kbankCurrencySchema,
  description: z.string().max(255).optional(),
  source_type: z.literal('card'),
  mode: z.literal('token'),
  token: z.string().min(1),
  reference_order: z.string().min(1).max(50),
  ref_1: z.string().optional(),
  ref_2: z.string().optional(),
  ref_3: z.string().optional(),
  additional_data: kbankAdditionalDataSchema.optional(),
  save_card: z.boolean().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type KbankCreateChargeRequest = z.infer<typeof kbankCreateChargeRequestSchema>;

/**
 * Body of `POST /card/v2/charge/{id}/void` (before settlement).
 * @example { reason: 'settlement failed' }
 */
export const kbankVoidRequestSchema = z.object({ reason: z.string().min(1) });
export type KbankVoidRequest = z.infer<typeof kbankVoidRequestSchema>;

/**
 * Body of `POST /card/v2/charge/{id}/settle`. `type` is `full` when the amount equals the authorized
 * amount, `partial` when less (KBank documents only `full` [?]).
 * @example { amount: '200.50', type: 'full' }
 */
export const kbankSettleRequestSchema = z.object({
  amount: kbankAmountSchema,
  type: z.enum(['full', 'partial']),
});
export type KbankSettleRequest = z.infer<typeof kbankSettleRequestSchema>;

/**
 * Body of `POST /card/v2/charge/{id}/refund` (after settlement).
 * @example { amount: '50.00', reason: 'customer returned one item' }
 */
export const kbankRefundRequestSchema = z.object({
  amount: kbankAmountSchema,
  reason: z.string().min(1),
});
export type KbankRefundRequest = z.infer<typeof kbankRefundRequestSchema>;

/**
 * Body of the simulator's tokenization endpoint `POST /card/v2/tokens` [ours: in production the browser
 * script tokenizes]. Only the shape is checked here; the simulator validates each field and answers a
 * field-specific error code.
 * @example
 * {
 *   card: {
 *     number: '4111111111111111', expiration_month: 12, expiration_year: 2030, security_code: '123',
 *     name: 'SOMCHAI J',
 *   },
 * }
 */
export const kbankTokenRequestSchema = z.object({
  card: z.object({
    number: z.string().optional(),
    expiration_month: z.union([z.number(), z.string()]).optional(),
    expiration_year: z.union([z.number(), z.string()]).optional(),
    security_code: z.string().optional(),
    name: z.string().optional(),
  }),
});
export type KbankTokenRequest = z.infer<typeof kbankTokenRequestSchema>;

/**
 * A one-time card token (valid 10 minutes or one use).
 * @example
 * {
 *   id: 'tokn_test_9f8e7d', object: 'token',
 *   card: {
 *     brand: 'Visa', last_digits: '1111', name: 'SOMCHAI J', expiration_month: 12, expiration_year: 2030,
 *   },
 * }
 */
export const kbankTokenSchema = z.object({
  id: z.string().min(1),
  object: z.literal('token'),
  card: z.object({
    brand: z.string(),
    last_digits: z.string(),
    name: z.string(),
    expiration_month: z.number().int(),
    expiration_year: z.number().int(),
  }),
});
export type KbankToken = z.infer<typeof kbankTokenSchema>;

/**
 * `transaction_state` of a QR / WeChat charge: the card states plus `Expired` [ours, ?: KBank publishes no
 * expiry state]. Strict like kbankStateSchema.
 * @example 'Expired'
 */
export const kbankQrStateSchema = z.enum(KBANK_QR_STATES);

/**
 * A QR / WeChat charge: the answer to QR inquiry (`GET /qr/v2/qr/{chargeId|orderId}`), cancel and refund;
 * the charge object plus `order_id` [5×], with the wider QR state.
 * @example
 * {
 *   id: 'chrg_test_7a1b', object: 'charge', amount: '200.50', currency: 'THB', status: 'success',
 *   transaction_state: 'Authorized', order_id: 'order_test_3c4d', reference_order: 'att_01J9Z',
 *   created: '20250615100000000', livemode: false,
 * }
 */
export const kbankQrChargeSchema = kbankChargeSchema.extend({
  transaction_state: kbankQrStateSchema,
  order_id: z.string().nullish(),
});
export type KbankQrChargeWire = z.infer<typeof kbankQrChargeSchema>;

/**
 * The notify webhook body: the charge object plus `checksum` [3×] (see kbankChecksum in
 * functions/adapters/kbank-client.ts), for QR, WeChat, Alipay and card charges alike. Its `amount` is
 * parsed but never trusted: the checksum is verified against our stored amount.
 * @example
 * {
 *   id: 'chrg_test_7a1b', object: 'charge', amount: '200.50', currency: 'THB', status: 'success',
 *   transaction_state: 'Authorized', order_id: 'order_test_3c4d', reference_order: 'att_01J9Z',
 *   checksum: '5e0c…64 hex digits…',
 * }
 */
export const kbankNotifySchema = kbankQrChargeSchema.extend({
  checksum: z.string().min(1),
});
export type KbankNotifyWire = z.infer<typeof kbankNotifySchema>;

/**
 * Body of `POST /qr/v2/order` [5×]. QR and WeChat are THB only [5×].
 * @example
 * {
 *   amount: '200.50', currency: 'THB', description: 'Order 1001', source_type: 'qr',
 *   reference_order: 'att_01J9Z', metadata: { paymentId: 'pay_01J9Z' },
 * }
 */
export const kbankCreateQrOrderRequestSchema = z.object({
  amount: kbankAmountSchema,
  currency: z.literal('THB'),
  description: z.string().max(255).optional(),
  source_type: z.enum(['qr', 'wechat']),
  reference_order: z.string().min(1).max(50),
  ref_1: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type KbankCreateQrOrderRequest = z.infer<typeof kbankCreateQrOrderRequestSchema>;

/**
 * The answer to `POST /qr/v2/order`. KBank publishes only `id` (the order id) [?]; the other fields are
 * [ours] (the simulator sends them): `qr_code` the EMVCo / wallet payload, `expire_time` ISO 8601.
 * @example
 * {
 *   id: 'order_test_3c4d', object: 'order', amount: '200.50', currency: 'THB', source_type: 'qr',
 *   reference_order: 'att_01J9Z', status: 'success', qr_code: '000201010212…6304AC1A',
 *   expire_time: '2025-06-15T03:10:00.000Z',
 * }
 */
export const kbankQrOrderSchema = z.object({
  id: z.string().min(1),
  object: z.string().nullish(),
  amount: kbankAmountSchema.nullish(),
  currency: z.string().nullish(),
  source_type: z.string().nullish(),
  reference_order: z.string().nullish(),
  status: z.string().nullish(),
  transaction_state: z.string().nullish(),
  qr_code: z.string().nullish(),
  expire_time: z.string().nullish(),
});
export type KbankQrOrderWire = z.infer<typeof kbankQrOrderSchema>;

/**
 * Body of `POST /qr/v2/qr` [2×, ?]: the QR for an order. `sof` is "ThaiQR" [2×]; "WeChat" is [ours, ?].
 * @example
 * {
 *   order_id: 'order_test_3c4d', amount: '200.50', currency: 'THB', description: 'Order 1001',
 *   sof: 'ThaiQR', reference_order: 'att_01J9Z',
 * }
 */
export const kbankCreateQrRequestSchema = z.object({
  order_id: z.string().min(1),
  amount: kbankAmountSchema,
  currency: z.literal('THB'),
  description: z.string().max(255).optional(),
  sof: z.enum(['ThaiQR', 'WeChat']),
  reference_order: z.string().min(1).max(50),
});
export type KbankCreateQrRequest = z.infer<typeof kbankCreateQrRequestSchema>;

/**
 * The answer to `POST /qr/v2/qr` [ours: unpublished [?]]: the payload to render, the charge opened for it.
 * @example
 * {
 *   id: 'chrg_test_7a1b', object: 'qr', order_id: 'order_test_3c4d', qr_code: '000201010212…6304AC1A',
 *   expire_time: '2025-06-15T03:10:00.000Z',
 * }
 */
export const kbankQrSchema = z.object({
  id: z.string().nullish(),
  object: z.string().nullish(),
  order_id: z.string().min(1),
  qr_code: z.string().min(1),
  expire_time: z.string().nullish(),
});
export type KbankQrWire = z.infer<typeof kbankQrSchema>;

/**
 * Body of `POST /qr/v2/qr/{id}/void` [1×, ?]. The body is unpublished; we send a reason like the card void.
 * @example { reason: 'customer cancelled' }
 */
export const kbankQrVoidRequestSchema = z.object({ reason: z.string().min(1).optional() });
export type KbankQrVoidRequest = z.infer<typeof kbankQrVoidRequestSchema>;

/**
 * Body of `POST /qr/v2/qr/{chargeId}/refund` [ours, ?: KBank publishes no QR refund endpoint]: the card
 * refund body, the closest shape KBank does publish.
 * @example { amount: '200.50', reason: 'paid after the payment had expired' }
 */
export const kbankQrRefundRequestSchema = kbankRefundRequestSchema;
export type KbankQrRefundRequest = z.infer<typeof kbankQrRefundRequestSchema>;

/**
 * Body of `POST /card/v2/charge` for Alipay [3×]: no token, `callback_type: "web"`.
 * @example
 * {
 *   amount: '200.50', currency: 'THB', description: 'Order 1001', source_type: 'alipay',
 *   callback_type: 'web', reference_order: 'att_01J9Z',
 * }
 */
export const kbankCreateAlipayChargeRequestSchema = z.object({
  amount: kbankAmountSchema,
  currency: kbankCurrencySchema,
  description: z.string().max(255).optional(),
  source_type: z.literal('alipay'),
  callback_type: z.literal('web'),
  reference_order: z.string().min(1).max(50),
  ref_1: z.string().optional(),
  ref_2: z.string().optional(),
  ref_3: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type KbankCreateAlipayChargeRequest = z.infer<typeof kbankCreateAlipayChargeRequestSchema>;

/**
 * The form KBank posts (through the customer's browser) to the merchant's callback URL after 3-D Secure
 * [3×]: `objectId` is the charge id. Never trusted: inquire the charge and accept only `Authorized`.
 * @example { objectId: 'chrg_test_5f2c0e', token: 'tokn_test_9f8e7d', status: 'true' }
 */
export const kbankThreeDsReturnSchema = z.object({
  objectId: z
    .string()
    .min(1)
    .max(100)
    // As acceptBrowserReturn checks it (functions/core/use-cases/callbacks/kbank-callbacks.ts).
    .regex(/^[A-Za-z0-9_-]+$/)
    .meta({ description: 'The KBank charge id.' }),
  token: z
    .string()
    .max(200)
    .regex(/^[\x21-\x7e]*$/)
    .optional(),
  status: z.enum(['true', 'false']).meta({ description: '`true` or `false`, as the browser claims.' }),
});
export type KbankThreeDsReturn = z.infer<typeof kbankThreeDsReturnSchema>;

/**
 * One entry of KBank's daily transaction list [ours, ?: KBank publishes no report API; this is the
 * shape the reconciliation assumes, kept here and in KBANK_REPORT_PATHS]: a charge created that day
 * (`object: "charge"`, any state, QR / WeChat orders included, with the refunded total so far) or a
 * refund applied that day (`object: "refund"`, its own id, `charge_id` the charge, `amount` the refund).
 * @example
 * {
 *   object: 'charge', id: 'chrg_test_5f2c0e', charge_id: 'chrg_test_5f2c0e', order_id: null,
 *   reference_order: 'pay_01J9Z-1', source_type: 'card', amount: '200.50', currency: 'THB',
 *   status: 'success', transaction_state: 'Settled', refunded_amount: '50.00', created: '20250615100000000',
 * }
 */
export const kbankTransactionSchema = z.object({
  object: z.enum(['charge', 'refund']),
  id: z.string().min(1),
  charge_id: z.string().min(1),
  order_id: z.string().nullish(),
  reference_order: z.string().min(1),
  source_type: z.enum(['card', 'alipay', 'qr', 'wechat']),
  amount: kbankAmountSchema,
  currency: kbankCurrencySchema,
  status: z.string().nullish(),
  transaction_state: kbankQrStateSchema,
  refunded_amount: kbankAmountSchema,
  /** 17 digits `YYYYMMDDHHmmssSSS`, Bangkok time, like a charge's `created`. */
  created: z.string().regex(/^\d{17}$/),
});
export type KbankTransactionWire = z.infer<typeof kbankTransactionSchema>;

/**
 * One page of `GET /v2/transactions?date=YYYY-MM-DD&page=1&page_size=100` [ours, ?]: the day is a
 * Bangkok (UTC+7) business day; pages count from 1; `has_more` says whether to ask for the next one.
 * @example
 * { object: 'list', date: '2025-06-15', page: 1, page_size: 100, total: 1, has_more: false, data: [] }
 */
export const kbankTransactionListSchema = z.object({
  object: z.literal('list'),
  date: z.string(),
  page: z.number().int().min(1),
  page_size: z.number().int().min(1),
  total: z.number().int().nonnegative().nullish(),
  has_more: z.boolean(),
  data: z.array(kbankTransactionSchema),
});
export type KbankTransactionListWire = z.infer<typeof kbankTransactionListSchema>;
