/**
 * The public REST API's bodies (v1): request schemas validate input, response schemas document what we
 * send. Types are derived with z.infer; the OpenAPI document is generated from these (bin/openapi.ts).
 */
import * as z from 'zod';
import { CURRENCIES, MAX_AMOUNT_MINOR } from '../functions/core/money.js';
import { MAX_POINTS } from '../functions/core/points.js';
import { PAYMENT_METHOD_TYPES, PAYMENT_STATUSES, REFUND_STATUSES } from '../functions/core/vocabulary.js';

const identifier = (what: string, max = 64) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, `${what} may use letters, digits and . _ : - only`);

/** An amount in the currency's minor units (satang for THB): 20050 means 200.50 THB. */
export const AmountSchema = z
  .int()
  .positive()
  .max(MAX_AMOUNT_MINOR)
  .meta({ description: 'Amount in minor units of the currency (THB: satang).', example: 70900 });

export const CurrencySchema = z
  .enum(CURRENCIES)
  .meta({ description: 'ISO 4217 currency code, upper case.', example: 'THB' });

/** The amount must be what the customer saw: Σ quantity × unit_amount of the order lines. */
function amountMatchesLines(
  body: { amount: number; order: { lines: { quantity: number; unit_amount: number }[] } },
  ctx: z.RefinementCtx,
): void {
  const total = body.order.lines.reduce((sum, line) => sum + line.quantity * line.unit_amount, 0);
  if (total !== body.amount) {
    ctx.addIssue({
      code: 'custom',
      path: ['amount'],
      message: `amount ${body.amount} does not equal the order lines' total ${total}`,
    });
  }
}

/** What every `next_cursor` is made of (base64url, or an id): a `cursor` of anything else is not ours. */
export const CURSOR_PATTERN = /^[A-Za-z0-9_-]*$/;

/** A cursor-paginated list envelope: pass `next_cursor` as `cursor` while `has_more`. */
export function listOf<T extends z.ZodType>(item: T) {
  return z.object({
    object: z.literal('list'),
    data: z.array(item),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  });
}

/** One order line as the customer saw it; the cost service prices the SKU independently. */
export const OrderLineSchema = z
  .object({
    sku: identifier('sku'),
    quantity: z.int().min(1).max(10_000),
    unit_amount: z.int().min(0).max(MAX_AMOUNT_MINOR),
  })
  .strict();

export const OrderSchema = z
  .object({
    id: identifier('order id'),
    lines: z.array(OrderLineSchema).min(1).max(100),
  })
  .strict();

export const CustomerSchema = z
  .object({
    id: identifier('customer id'),
    email: z.email().max(254).optional(),
    name: z.string().min(1).max(200).optional(),
  })
  .strict();

export const CardPaymentMethodSchema = z
  .object({
    type: z.literal('card'),
    token: z
      .string()
      .max(100)
      .regex(/^tokn_[A-Za-z0-9_]+$/, 'token must be a KBank card token (tokn_…)')
      .meta({ description: "One-time card token from KBank's card form (10 minutes, single use)." }),
  })
  .strict();

const customerActionMethod = (type: 'qr_promptpay' | 'wechat_pay' | 'alipay', description: string) =>
  z
    .object({ type: z.literal(type) })
    .strict()
    .meta({ description });

/** How the customer pays: a KBank card token, or a method the customer completes on their phone or KBank's page. */
export const PaymentMethodRequestSchema = z.discriminatedUnion('type', [
  CardPaymentMethodSchema,
  customerActionMethod(
    'qr_promptpay',
    "Thai QR (PromptPay): the customer scans `next_action`'s QR. THB only.",
  ),
  customerActionMethod(
    'wechat_pay',
    "WeChat Pay: the customer scans `next_action`'s QR in WeChat. THB only.",
  ),
  customerActionMethod('alipay', "Alipay: send the customer to `next_action`'s URL."),
  z
    .object({ type: z.literal('points') })
    .strict()
    .meta({
      description:
        "The whole amount in the customer's loyalty points (`customer.id`): amount ÷ the value of one point.",
    }),
]);

/**
 * Part of the amount in the customer's loyalty points, the rest by `payment_method` (a split).
 * @example {"amount":300}
 */
export const PointsTenderRequestSchema = z
  .object({
    amount: z.int().positive().max(MAX_POINTS).meta({
      description: 'Whole points; worth points × the value of one point, less than `amount`.',
      example: 300,
    }),
  })
  .strict()
  .meta({ id: 'PointsTenderRequest' });

/** Thai QR and WeChat Pay are THB only; only cards have a separate capture. */
function methodRules(
  body: { currency: string; capture: string; payment_method: { type: string }; points?: unknown },
  ctx: z.RefinementCtx,
): void {
  const type = body.payment_method.type;
  if (type === 'points' && body.points !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['points'],
      message: 'a points payment pays the whole amount in points: leave out `points`',
    });
  }
  if ((type === 'qr_promptpay' || type === 'wechat_pay') && body.currency !== 'THB') {
    ctx.addIssue({ code: 'custom', path: ['currency'], message: `${type} payments are THB only` });
  }
  if (type !== 'card' && type !== 'points' && body.capture === 'manual') {
    ctx.addIssue({
      code: 'custom',
      path: ['capture'],
      message: `${type} payments are captured when the customer pays: capture must be automatic`,
    });
  }
}

/**
 * POST /v1/payments body.
 * @example {"amount":70900,"currency":"THB","order":{"id":"order-1001","lines":[{"sku":"SKU-TSHIRT","quantity":2,"unit_amount":35000},{"sku":"SKU-STICKER","quantity":1,"unit_amount":900}]},"customer":{"id":"cus-42"},"payment_method":{"type":"card","token":"tokn_test_abc"}}
 */
export const CreatePaymentRequestSchema = z
  .object({
    amount: AmountSchema,
    currency: CurrencySchema,
    order: OrderSchema,
    customer: CustomerSchema,
    payment_method: PaymentMethodRequestSchema,
    points: PointsTenderRequestSchema.optional().meta({
      description:
        "Pay part of the amount with the customer's points (held first: the other method is never charged " +
        'unless they are), the rest with `payment_method`.',
    }),
    action_expires_in: z
      .int()
      .min(60)
      .max(3600)
      .optional()
      .meta({
        description:
          'Seconds the customer has to scan the QR or finish the redirect (QR default 600, Alipay and ' +
          '3-D Secure 900). The payment becomes `expired` after that.',
      }),
    capture: z
      .enum(['automatic', 'manual'])
      .default('automatic')
      .meta({
        description:
          '`automatic` captures right after authorization; `manual` stops at `requires_capture` until ' +
          '`POST /v1/payments/{id}/capture` (or voids by itself before the authorization expires).',
      }),
    description: z.string().max(255).optional(),
    metadata: z
      .record(z.string().max(40), z.string().max(500))
      .refine((value) => Object.keys(value).length <= 20, 'at most 20 metadata keys')
      .optional(),
  })
  .strict()
  .superRefine(amountMatchesLines)
  .superRefine(methodRules)
  .meta({ id: 'CreatePaymentRequest' });
export type CreatePaymentRequest = z.infer<typeof CreatePaymentRequestSchema>;

/**
 * What the customer must do: scan a QR (Thai QR, WeChat Pay) or open a URL (Alipay, 3-D Secure).
 * @example {"type":"display_qr","qr_payload":"00020101021230...6304ABCD","qr_image_url":"/v1/payments/pay_01JD3Q4V7M0000000000000000/qr","expires_at":"2026-11-22T04:10:00.000Z"}
 */
export const NextActionSchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('display_qr'),
      qr_payload: z
        .string()
        .meta({ description: 'The EMVCo string to render as a QR (or fetch `qr_image_url`).' }),
      qr_image_url: z.string().meta({ description: 'GET it for the QR as PNG and SVG data URLs.' }),
      expires_at: z.iso.datetime(),
    }),
    z.object({
      type: z.literal('redirect_to_url'),
      url: z.string().meta({ description: "Send the customer's browser here (KBank's page)." }),
      expires_at: z.iso.datetime(),
    }),
  ])
  .meta({ id: 'NextAction' });

/**
 * GET /v1/payments/{id}/qr: the QR to show the customer, ready for an <img src>.
 * @example {"object":"payment_qr","payment_id":"pay_01JD3Q4V7M0000000000000000","payload":"00020101021230...6304ABCD","png":"data:image/png;base64,iVBORw0KGgo...","svg":"data:image/svg+xml;base64,PHN2Zy...","expires_at":"2026-11-22T04:10:00.000Z"}
 */
export const PaymentQrSchema = z
  .object({
    object: z.literal('payment_qr'),
    payment_id: z.string(),
    payload: z.string(),
    png: z.string().meta({ description: 'data:image/png;base64,…' }),
    svg: z.string().meta({ description: 'data:image/svg+xml;base64,…' }),
    expires_at: z.iso.datetime(),
  })
  .meta({ id: 'PaymentQr' });
export type PaymentQrResource = z.infer<typeof PaymentQrSchema>;

export const TENDER_STATUSES = [
  'pending',
  'held',
  'authorized',
  'captured',
  'committed',
  'released',
  'declined',
  'canceled',
  'failed',
  'expired',
  'not_attempted',
] as const;

/** One way a payment is paid: its points, or the other method. */
export const TenderSchema = z
  .object({
    type: z.enum([...PAYMENT_METHOD_TYPES, 'points']),
    amount: z.int().meta({ description: 'What this tender pays, in minor units.', example: 30000 }),
    points: z.int().nullable().meta({ description: 'Points tender: how many points.', example: 300 }),
    status: z.enum(TENDER_STATUSES).meta({
      description:
        'Points: `pending`, `held`, `committed` (spent), `released` (given back) or `declined` (too few). ' +
        'Other: `pending`, `authorized`, `captured`, `canceled`, `failed`, `expired`, or `not_attempted` ' +
        '(the points could not be held, so it was never charged).',
    }),
    amount_refunded: z.int().meta({ description: 'Refunded to this tender, in minor units.', example: 0 }),
  })
  .meta({ id: 'Tender' });

export const PaymentResourceSchema = z
  .object({
    id: z.string().meta({ example: 'pay_01JD3Q4V7M0000000000000000' }),
    object: z.literal('payment'),
    status: z.enum(PAYMENT_STATUSES),
    amount: AmountSchema,
    currency: CurrencySchema,
    capture: z.enum(['automatic', 'manual']),
    amount_authorized: z.int(),
    amount_captured: z.int(),
    amount_refunded: z.int().meta({ description: 'Refunds KBank confirmed, in minor units.' }),
    amount_refundable: z.int().meta({
      description:
        'What a new refund may still take: captured − refunded − refunds in progress (0 unless succeeded).',
    }),
    amount_capturable: z.int().meta({ description: 'What may still be captured (manual capture).' }),
    capture_before: z.iso
      .datetime()
      .nullable()
      .meta({ description: 'Manual capture: uncaptured authorizations are voided at this time.' }),
    order: z.object({ id: z.string(), lines: z.array(OrderLineSchema) }),
    customer: CustomerSchema,
    payment_method: z.object({
      type: z.enum([...PAYMENT_METHOD_TYPES, 'points']),
      card: z.object({ brand: z.string().optional(), masked: z.string().optional() }).nullable(),
    }),
    tenders: z
      .array(TenderSchema)
      .optional()
      .meta({
        description:
          'Payments with points only: how the amount is paid, the points first (`amount` in minor units, ' +
          '`points` in points). Absent for a payment without points.',
      }),
    next_action: NextActionSchema.nullable().meta({
      description: 'While `requires_action`: what the customer must do, and until when. Otherwise null.',
    }),
    description: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    failure: z.object({ code: z.string(), message: z.string() }).nullable(),
    cancellation_reason: z.string().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    links: z.object({ self: z.string(), events: z.string(), refunds: z.string() }),
  })
  .meta({ id: 'Payment' });
export type PaymentResource = z.infer<typeof PaymentResourceSchema>;

export const PaymentEventResourceSchema = z
  .object({
    object: z.literal('payment_event'),
    sequence: z.int(),
    type: z.string().meta({ example: 'payment.authorized' }),
    at: z.iso.datetime(),
    actor: z.enum(['api', 'saga', 'kbank', 'operator']),
    from_status: z.enum(PAYMENT_STATUSES).nullable(),
    to_status: z.enum(PAYMENT_STATUSES),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'PaymentEvent' });
export type PaymentEventResource = z.infer<typeof PaymentEventResourceSchema>;

export const PaymentEventListSchema = listOf(PaymentEventResourceSchema).meta({ id: 'PaymentEventList' });

export const ListQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(100),
    cursor: z.string().max(200).regex(CURSOR_PATTERN, 'not a cursor of ours').optional(),
  })
  .strict();

/**
 * POST /v1/payments/{id}/capture body (optional): capture part of the authorization; the rest is released.
 * @example {"amount": 50000}
 */
export const CaptureRequestSchema = z
  .object({ amount: AmountSchema.optional() })
  .strict()
  .meta({ id: 'CaptureRequest' });
export type CaptureRequest = z.infer<typeof CaptureRequestSchema>;

/** `status=succeeded` or a comma-separated list `status=failed,rejected`: any of them matches. */
const StatusListSchema = z.string().transform((value, ctx) => {
  const parsed = z.array(z.enum(PAYMENT_STATUSES)).safeParse(value.split(',').map((part) => part.trim()));
  if (parsed.success) return [...new Set(parsed.data)];
  ctx.addIssue({
    code: 'custom',
    input: value,
    message: `each status must be one of ${PAYMENT_STATUSES.join(', ')}`,
  });
  return z.NEVER;
});

/**
 * GET /v1/payments query: the merchant's payments, newest first, optionally by status and created-at
 * range (`created_gte` inclusive, `created_lt` exclusive; ISO 8601 with `Z` or an offset).
 * @example {"status":"succeeded,failed","created_gte":"2026-11-01T00:00:00Z","created_lt":"2026-12-01T00:00:00+07:00","limit":"50"}
 */
export const ListPaymentsQuerySchema = z
  .object({
    status: StatusListSchema.optional(),
    // 40 characters hold any instant to the nanosecond with an offset.
    created_gte: z.iso.datetime({ offset: true }).max(40).optional(),
    created_lt: z.iso.datetime({ offset: true }).max(40).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(500).regex(CURSOR_PATTERN, 'not a cursor of ours').optional(),
  })
  .strict()
  .superRefine((query, ctx) => {
    if (
      query.created_gte &&
      query.created_lt &&
      Date.parse(query.created_gte) >= Date.parse(query.created_lt)
    ) {
      ctx.addIssue({ code: 'custom', path: ['created_lt'], message: 'created_lt must be after created_gte' });
    }
  });
export type ListPaymentsQuery = z.infer<typeof ListPaymentsQuerySchema>;

/** A page of the merchant's payments, newest first; pass `next_cursor` as `cursor` while `has_more`. */
export const PaymentListSchema = listOf(PaymentResourceSchema).meta({ id: 'PaymentList' });
export type PaymentList = z.infer<typeof PaymentListSchema>;

/**
 * PATCH /v1/payments/{id} body: the changed order and its amount (manual capture, before capture).
 * @example {"amount": 35000, "currency": "THB", "order": {"id": "order-1001", "lines": [{"sku": "SKU-TSHIRT", "quantity": 1, "unit_amount": 35000}]}}
 */
export const UpdatePaymentRequestSchema = z
  .object({ amount: AmountSchema, currency: CurrencySchema, order: OrderSchema })
  .strict()
  .superRefine(amountMatchesLines)
  .meta({ id: 'UpdatePaymentRequest' });

export const PaymentIdSchema = z.string().regex(/^pay_[0-9A-HJKMNP-TV-Z]{26}$/, 'not a payment id');

export const RefundIdSchema = z.string().regex(/^re_[0-9A-HJKMNP-TV-Z]{26}$/, 'not a refund id');

/**
 * POST /v1/payments/{id}/refunds body. `amount` omitted refunds everything still refundable; send `{}` for
 * that. `reason` is passed to KBank (default `requested_by_customer`).
 * @example {"amount": 35000, "reason": "customer returned one T-shirt"}
 */
export const CreateRefundRequestSchema = z
  .object({
    amount: AmountSchema.optional().meta({
      description: "Minor units; at most the payment's `amount_refundable`. Omitted: all of it.",
    }),
    reason: z.string().trim().min(1).max(255).optional(),
  })
  .strict()
  .meta({ id: 'CreateRefundRequest' });
export type CreateRefundRequest = z.infer<typeof CreateRefundRequestSchema>;

export const RefundResourceSchema = z
  .object({
    id: z.string().meta({ example: 're_01JD3Q4V7M0000000000000000' }),
    object: z.literal('refund'),
    payment_id: z.string(),
    amount: AmountSchema,
    currency: CurrencySchema,
    status: z.enum(REFUND_STATUSES).meta({
      description:
        '`pending` until KBank answers; `unknown` when KBank could not tell (the amount stays reserved ' +
        'until an operator reconciles it); `succeeded` and `failed` are final.',
    }),
    reason: z.string(),
    failure: z.object({ code: z.string(), message: z.string() }).nullable(),
    points: z
      .object({
        points: z.int().meta({ description: 'Points given back to the customer when it succeeds.' }),
        amount: z.int().meta({ description: 'What they are worth, in minor units (part of `amount`).' }),
      })
      .optional()
      .meta({
        description:
          'Refunds of payments with points only: the part given back as points (money first, then points); ' +
          'the rest of `amount` goes back to the other method.',
      }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Refund' });
export type RefundResource = z.infer<typeof RefundResourceSchema>;

/** A payment's refunds, oldest first; pass `next_cursor` as `cursor` while `has_more`. */
export const RefundListSchema = listOf(RefundResourceSchema).meta({ id: 'RefundList' });
export type RefundList = z.infer<typeof RefundListSchema>;

export const IdempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'Idempotency-Key must be printable ASCII without spaces');

/** RFC 9457 problem details, with our stable `code` and field-level `errors` for validation. */
export const ProblemSchema = z
  .object({
    type: z.string().meta({
      description:
        'The page of this `code`, `/problems/<code>`, resolved against the API’s origin (docs/problems.md).',
      example: '/problems/validation_failed',
    }),
    title: z.string(),
    status: z.int(),
    code: z.string(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof ProblemSchema>;

export const HealthSchema = z
  .object({ status: z.literal('ok'), time: z.iso.datetime() })
  .meta({ id: 'Health' });
