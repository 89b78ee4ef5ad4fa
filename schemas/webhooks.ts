/**
 * Merchant webhooks at their boundaries: the endpoint registry's requests and resources, the delivery
 * resource with its attempts, the body every delivery POSTs (one per event type, for the OpenAPI
 * `webhooks` section), the delivery queue's message and the `webhook.*` events on the bus.
 * Rules: docs/api.md ("Webhooks").
 */
import * as z from 'zod';
import { CURSOR_PATTERN, listOf, PaymentResourceSchema, RefundResourceSchema } from './api.js';
import { POINTS_EVENT_TYPES } from './events.js';
import { PointsMovementSchema } from './points.js';

/**
 * What a merchant may subscribe to. `payment.succeeded` is the bus's `payment.captured` (the payment is
 * `succeeded` once its money is captured); every other type is the bus's own.
 */
export const WEBHOOK_PAYMENT_EVENT_TYPES = [
  'payment.created',
  'payment.requires_action',
  'payment.authorized',
  'payment.succeeded',
  'payment.failed',
  'payment.rejected',
  'payment.voided',
  'payment.expired',
  'payment.canceled',
  'payment.capture_requested',
  'payment.amount_changed',
] as const;
export const WEBHOOK_REFUND_EVENT_TYPES = ['refund.succeeded', 'refund.failed'] as const;
/** A customer's points movements, named as on the bus. */
export const WEBHOOK_POINTS_EVENT_TYPES = POINTS_EVENT_TYPES;
export const WEBHOOK_EVENT_TYPES = [
  ...WEBHOOK_PAYMENT_EVENT_TYPES,
  ...WEBHOOK_REFUND_EVENT_TYPES,
  ...WEBHOOK_POINTS_EVENT_TYPES,
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const WEBHOOK_FAMILIES = ['payment.*', 'refund.*', 'points.*'] as const;

/** An exact type, a family (`payment.*`, `refund.*`, `points.*`) or `*` (everything, including types added later). */
const EventPatternSchema = z.enum(['*', ...WEBHOOK_FAMILIES, ...WEBHOOK_EVENT_TYPES], {
  error: `an event type (${WEBHOOK_EVENT_TYPES.join(', ')}), ${WEBHOOK_FAMILIES.join(', ')} or *`,
});

/**
 * POST /v1/webhook_endpoints body.
 * @example {"url":"https://shop.example.com/hooks/payments","events":["payment.succeeded","refund.*"]}
 */
export const CreateWebhookEndpointRequestSchema = z
  .object({
    // The scheme only: the rest of the policy (https, a public host) is checked where the URL is used.
    url: z
      .string()
      .min(1)
      .max(2048)
      .regex(/^https?:\/\//i, 'an http(s) URL')
      .meta({
        description:
          'Where deliveries are POSTed: `https` to a public host (locally also `http://127.0.0.1`).',
        example: 'https://shop.example.com/hooks/payments',
      }),
    events: z
      .array(EventPatternSchema)
      .min(1)
      .max(20)
      .meta({ example: ['payment.succeeded', 'refund.*'] }),
    description: z.string().max(200).optional(),
  })
  .strict()
  .meta({ id: 'CreateWebhookEndpointRequest' });
export type CreateWebhookEndpointRequest = z.infer<typeof CreateWebhookEndpointRequestSchema>;

export const WEBHOOK_ENDPOINT_STATUSES = ['enabled', 'disabled'] as const;

/**
 * A registered endpoint. The signing secret is never part of it, except in the answers to its creation and
 * to a rotation (`secret`, shown once).
 * @example {"id":"we_01JD3Q4V7M0000000000000000","object":"webhook_endpoint","url":"https://shop.example.com/hooks/payments","events":["payment.succeeded","refund.*"],"description":null,"status":"enabled","disabled_reason":null,"secret_rotated_at":null,"previous_secret_expires_at":null,"created_at":"2026-11-22T04:00:00.000Z","updated_at":"2026-11-22T04:00:00.000Z","links":{"self":"/v1/webhook_endpoints/we_01JD3Q4V7M0000000000000000","deliveries":"/v1/webhook_endpoints/we_01JD3Q4V7M0000000000000000/deliveries"}}
 */
export const WebhookEndpointResourceSchema = z
  .object({
    id: z.string().meta({ example: 'we_01JD3Q4V7M0000000000000000' }),
    object: z.literal('webhook_endpoint'),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    status: z.enum(WEBHOOK_ENDPOINT_STATUSES).meta({
      description: '`disabled` after failing every attempt for 5 days and 20 attempts in a row.',
    }),
    disabled_reason: z.string().nullable(),
    secret_rotated_at: z.iso.datetime().nullable(),
    previous_secret_expires_at: z.iso.datetime().nullable().meta({
      description: 'After a rotation the previous secret also signs until then (24 hours).',
    }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    links: z.object({ self: z.string(), deliveries: z.string() }),
  })
  .meta({ id: 'WebhookEndpoint' });
export type WebhookEndpointResource = z.infer<typeof WebhookEndpointResourceSchema>;

/** The answer to a creation or a rotation: the endpoint and, this once, its new signing secret. */
export const WebhookEndpointWithSecretSchema = WebhookEndpointResourceSchema.extend({
  secret: z.string().nullable().meta({
    description:
      'The signing secret (`whsec_…`), shown in this answer only; null when the answer is an Idempotency-Key replay (rotate to get a new one).',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }),
}).meta({ id: 'WebhookEndpointWithSecret' });
export type WebhookEndpointWithSecret = z.infer<typeof WebhookEndpointWithSecretSchema>;

export const WebhookEndpointListSchema = listOf(WebhookEndpointResourceSchema).meta({
  id: 'WebhookEndpointList',
});
export type WebhookEndpointList = z.infer<typeof WebhookEndpointListSchema>;

export const DeletedWebhookEndpointSchema = z
  .object({ id: z.string(), object: z.literal('webhook_endpoint'), deleted: z.literal(true) })
  .meta({ id: 'DeletedWebhookEndpoint' });

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

export const WebhookAttemptSchema = z
  .object({
    attempt: z.int().positive(),
    at: z.iso.datetime(),
    manual: z.boolean().meta({ description: 'Sent by `POST …/retry`, outside the schedule.' }),
    status_code: z.int().nullable().meta({ description: 'The HTTP status answered; null when none came.' }),
    latency_ms: z.int(),
    response_excerpt: z.string().nullable().meta({ description: 'The first 1024 bytes of the answer.' }),
    error: z.string().nullable().meta({ description: '`timeout`, `connection_failed`, `address_refused`.' }),
  })
  .meta({ id: 'WebhookAttempt' });

/**
 * One event's delivery to one endpoint, with every attempt made.
 * @example {"id":"whd_01JD3Q4V7M0000000000000000","object":"webhook_delivery","endpoint_id":"we_01JD3Q4V7M0000000000000000","event_id":"evt_pay_01JD3Q4V7M0000000000000000_5","event_type":"payment.succeeded","status":"delivered","attempts":[{"attempt":1,"at":"2026-11-22T04:00:00.100Z","manual":false,"status_code":200,"latency_ms":42,"response_excerpt":"ok","error":null}],"next_attempt_at":null,"created_at":"2026-11-22T04:00:00.050Z","delivered_at":"2026-11-22T04:00:00.142Z","failed_at":null}
 */
export const WebhookDeliveryResourceSchema = z
  .object({
    id: z.string().meta({ example: 'whd_01JD3Q4V7M0000000000000000' }),
    object: z.literal('webhook_delivery'),
    endpoint_id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES).meta({
      description:
        '`pending` while attempts remain on the schedule; `delivered` once an attempt got a 2xx; `failed` when the schedule is spent.',
    }),
    attempts: z.array(WebhookAttemptSchema),
    next_attempt_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    delivered_at: z.iso.datetime().nullable(),
    failed_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDeliveryResource = z.infer<typeof WebhookDeliveryResourceSchema>;

export const WebhookDeliveryListSchema = listOf(WebhookDeliveryResourceSchema).meta({
  id: 'WebhookDeliveryList',
});
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryListSchema>;

export const ListWebhookDeliveriesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).regex(CURSOR_PATTERN, 'not a cursor of ours').optional(),
  })
  .strict();

export const PaymentWebhookEventSchema = z
  .object({
    id: z.string().meta({ example: 'evt_pay_01JD3Q4V7M0000000000000000_5' }),
    type: z.enum(WEBHOOK_PAYMENT_EVENT_TYPES),
    created: z.iso.datetime(),
    data: PaymentResourceSchema,
    sequence: z.int().positive(),
  })
  .meta({
    id: 'PaymentWebhookEvent',
    description:
      'A payment event: `id` (also `webhook-id`) is stable across retries; `sequence` orders the events of one payment.',
  });
export const RefundWebhookEventSchema = z
  .object({
    id: z.string().meta({ example: 'evt_pay_01JD3Q4V7M0000000000000000_7' }),
    type: z.enum(WEBHOOK_REFUND_EVENT_TYPES),
    created: z.iso.datetime(),
    data: RefundResourceSchema,
    sequence: z.int().positive(),
  })
  .meta({
    id: 'RefundWebhookEvent',
    description: "A refund's outcome; `sequence` is its payment's, so it orders with the payment's events.",
  });
export const PointsWebhookEventSchema = z
  .object({
    id: z.string().meta({ example: 'evt_pm_01JD3Q4V7M2ABCDEFGHJKMNPQR' }),
    type: z.enum(WEBHOOK_POINTS_EVENT_TYPES),
    created: z.iso.datetime(),
    data: PointsMovementSchema,
    sequence: z.int().positive().nullable(),
  })
  .meta({
    id: 'PointsWebhookEvent',
    description:
      "A movement of a customer's points: `data` is the ledger entry (with its `payment_id` and " +
      "`refund_id`); `sequence` is its payment's (null for a grant), so it orders with the payment's events.",
  });
export type WebhookEventBody =
  | z.infer<typeof PaymentWebhookEventSchema>
  | z.infer<typeof RefundWebhookEventSchema>
  | z.infer<typeof PointsWebhookEventSchema>;

/**
 * A message of the delivery queue: make attempt `attempt` of a delivery once `due_at` has come (SQS delays
 * at most 15 minutes: an earlier receive is put back for the time left), or a manual resend.
 * @example {"delivery_id":"whd_01JD3Q4V7M0000000000000000","endpoint_id":"we_01JD3Q4V7M0000000000000000","merchant_id":"merchant_demo","attempt":2,"due_at":"2026-11-22T04:00:05.000Z"}
 */
export const WebhookDeliveryMessageSchema = z.object({
  delivery_id: z.string().min(1),
  endpoint_id: z.string().min(1),
  merchant_id: z.string().min(1),
  /** The scheduled attempt's number (1 = the first); absent for a manual resend. */
  attempt: z.int().positive().optional(),
  manual: z.literal(true).optional(),
  due_at: z.iso.datetime(),
});
export type WebhookDeliveryMessage = z.infer<typeof WebhookDeliveryMessageSchema>;

export const WEBHOOK_NOTICE_TYPES = ['webhook.delivery_failed', 'webhook_endpoint.disabled'] as const;

/**
 * What the delivery publishes on the bus when a delivery failed for good or an endpoint was disabled.
 * @example {"version":"1","event_id":"evt_whd_01JD3Q4V7M0000000000000000_failed","type":"webhook.delivery_failed","occurred_at":"2026-11-25T08:00:00.000Z","merchant_id":"merchant_demo","endpoint_id":"we_01JD3Q4V7M0000000000000000","delivery_id":"whd_01JD3Q4V7M0000000000000000","webhook_event_id":"evt_pay_01JD3Q4V7M0000000000000000_5","attempts":11,"last_status_code":503}
 */
export const WebhookNoticeDetailSchema = z
  .object({
    version: z.literal('1'),
    event_id: z.string(),
    type: z.enum(WEBHOOK_NOTICE_TYPES),
    occurred_at: z.iso.datetime(),
    merchant_id: z.string(),
    endpoint_id: z.string(),
    delivery_id: z.string().optional(),
    webhook_event_id: z.string().optional(),
    attempts: z.int().optional(),
    last_status_code: z.int().nullable().optional(),
    reason: z.string().optional(),
  })
  .meta({ id: 'WebhookNoticeDetail' });
export type WebhookNoticeDetail = z.infer<typeof WebhookNoticeDetailSchema>;
