/**
 * Events we publish on the `payments` EventBridge bus (source `payments`, detail-type = `type`).
 * Versioned, past tense; consumers deduplicate on `event_id` and order on `payment.id` + `sequence`.
 */
import * as z from 'zod';
import { PaymentResourceSchema, RefundResourceSchema } from './api.js';
import { PointsMovementSchema } from './points.js';

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

export const POINTS_EVENT_TYPES = [
  'points.granted',
  'points.reserved',
  'points.committed',
  'points.released',
  'points.refunded',
] as const;
export type PointsEventType = (typeof POINTS_EVENT_TYPES)[number];

/**
 * One movement of a customer's points, one event per ledger entry: `points.granted` (a grant),
 * `points.reserved` (held for a payment), `points.committed` (spent: the payment was captured),
 * `points.released` (the hold given back: the payment ended unpaid), `points.refunded` (spent points given
 * back by a refund). `event_id` is derived from the movement's id, so every retry publishes the same id.
 * `sequence` is the audit sequence of the payment change that moved the points (it orders with that
 * payment's events; a `points.committed` shares its sequence with the `payment.captured` it went with);
 * null for a grant, which belongs to no payment. A customer's events order on `movement.id` (time-ordered).
 * @example {"version":"1","event_id":"evt_pm_01JD3Q4V7M2ABCDEFGHJKMNPQR","type":"points.committed","sequence":5,"occurred_at":"2026-11-22T04:00:00.000Z","merchant_id":"merchant_demo","customer_id":"cus-42","payment_id":"pay_01JD3Q4V7M0000000000000000","refund_id":null,"movement":{"id":"pm_01JD3Q4V7M2ABCDEFGHJKMNPQR","object":"points_movement","customer_id":"cus-42","type":"commit","points":300,"available":0,"held":-300,"payment_id":"pay_01JD3Q4V7M0000000000000000","refund_id":null,"reason":null,"created_at":"2026-11-22T04:00:00.000Z"}}
 */
export const PointsEventDetailSchema = z
  .object({
    version: z.literal('1'),
    event_id: z.string(),
    type: z.enum(POINTS_EVENT_TYPES),
    sequence: z.int().positive().nullable(),
    occurred_at: z.iso.datetime(),
    merchant_id: z.string(),
    customer_id: z.string(),
    payment_id: z.string().nullable(),
    refund_id: z.string().nullable(),
    movement: PointsMovementSchema,
  })
  .meta({ id: 'PointsEventDetail' });
export type PointsEventDetail = z.infer<typeof PointsEventDetailSchema>;

export const RECONCILIATION_EVENT_TYPES = ['reconciliation.completed', 'reconciliation.exception'] as const;
export type ReconciliationEventType = (typeof RECONCILIATION_EVENT_TYPES)[number];

/** What the daily KBank reconciliation found for one transaction that did not simply match. */
export const ReconciliationExceptionSchema = z.object({
  /**
   * `orphan`: KBank holds a charge no attempt of ours recorded; `state_mismatch`: KBank and we disagree on
   * whether money is held; `amount_mismatch`: captured or refunded totals differ; `missing`: we recorded
   * money KBank does not have.
   */
  kind: z.enum(['orphan', 'state_mismatch', 'amount_mismatch', 'missing']),
  charge_id: z.string().nullable(),
  reference_order: z.string().nullable(),
  payment_id: z.string().nullable(),
  /** What the job did: attached the charge to its payment, gave the money back, or only reported it. */
  action: z.enum(['attached', 'reversed', 'handed_to_sweep', 'reported']),
  detail: z.string(),
});
export type ReconciliationException = z.infer<typeof ReconciliationExceptionSchema>;

/**
 * A reconciliation run's summary (`reconciliation.completed`) or one of its exceptions
 * (`reconciliation.exception`, with `exception`). `event_id` is derived from the run and stable.
 * @example {"version":"1","event_id":"evt_recon_01JD3Q4V7M0000000000000000","type":"reconciliation.completed","occurred_at":"2026-11-23T19:00:00.000Z","date":"2026-11-23","run_id":"rec_01JD3Q4V7M0000000000000000","counts":{"transactions":120,"matched":118,"in_flight":1,"orphan":1,"state_mismatch":0,"amount_mismatch":0,"missing":0}}
 */
export const ReconciliationEventDetailSchema = z
  .object({
    version: z.literal('1'),
    event_id: z.string(),
    type: z.enum(RECONCILIATION_EVENT_TYPES),
    occurred_at: z.iso.datetime(),
    date: z.string(),
    run_id: z.string(),
    counts: z.record(z.string(), z.int()),
    exception: ReconciliationExceptionSchema.optional(),
  })
  .meta({ id: 'ReconciliationEventDetail' });
export type ReconciliationEventDetail = z.infer<typeof ReconciliationEventDetailSchema>;
