/**
 * Events we publish on the `payments` EventBridge bus (source `payments`, detail-type = `type`).
 * Versioned, past tense; consumers deduplicate on `event_id` and order on `payment.id` + `sequence`.
 */
import { z } from 'zod';
import { PaymentResourceSchema, RefundResourceSchema } from './api.js';

export const PAYMENT_EVENT_TYPES = [
  'payment.created',
  'payment.authorized',
  'payment.captured',
  'payment.failed',
  'payment.rejected',
  'payment.voided',
  'payment.capture_requested',
  'payment.canceled',
  'payment.requires_action',
  'payment.expired',
] as const;
export type PaymentEventType = (typeof PAYMENT_EVENT_TYPES)[number];

export const EVENT_SOURCE = 'payments';

/**
 * @example {"version":"1","event_id":"evt_01JD3Q4V7M0000000000000000_4","type":"payment.captured","sequence":4,"occurred_at":"2026-11-22T04:00:00.000Z","payment":{"id":"pay_01JD3Q4V7M0000000000000000","status":"succeeded"}}
 */
export const PaymentEventDetailSchema = z
  .object({
    version: z.literal('1'),
    event_id: z.string(),
    type: z.string(),
    sequence: z.int().positive(),
    occurred_at: z.iso.datetime(),
    payment: PaymentResourceSchema,
  })
  .meta({ id: 'PaymentEventDetail' });
export type PaymentEventDetail = z.infer<typeof PaymentEventDetailSchema>;

export const REFUND_EVENT_TYPES = ['refund.succeeded', 'refund.failed'] as const;
export type RefundEventType = (typeof REFUND_EVENT_TYPES)[number];

/**
 * A refund's outcome. `sequence` is the payment's audit sequence of the change that recorded it, so refund
 * and payment events of one payment order together on (`payment_id`, `sequence`); `event_id` is derived
 * from them and stable across retries.
 * @example {"version":"1","event_id":"evt_01JD3Q4V7M0000000000000000_7","type":"refund.succeeded","sequence":7,"occurred_at":"2026-11-23T04:00:00.000Z","payment_id":"pay_01JD3Q4V7M0000000000000000","refund":{"id":"re_01JD3Q4V7M0000000000000001","status":"succeeded","amount":35000}}
 */
export const RefundEventDetailSchema = z
  .object({
    version: z.literal('1'),
    event_id: z.string(),
    type: z.enum(REFUND_EVENT_TYPES),
    sequence: z.int().positive(),
    occurred_at: z.iso.datetime(),
    payment_id: z.string(),
    refund: RefundResourceSchema,
  })
  .meta({ id: 'RefundEventDetail' });
export type RefundEventDetail = z.infer<typeof RefundEventDetailSchema>;
