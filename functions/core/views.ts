/**
 * Public shapes of our data: the API resources and the versioned event detail that finance consumers
 * receive. Internal fields (card token, sequence bookkeeping) never leave through here.
 */
import type { PaymentEventResource, PaymentResource } from '../../schemas/api.js';
import type { PaymentEventDetail } from '../../schemas/events.js';
import type { AuditEntry, Payment } from './payment.js';

export function paymentView(payment: Payment): PaymentResource {
  const { card } = payment.paymentMethod;
  return {
    id: payment.id,
    object: 'payment',
    status: payment.status,
    amount: payment.amount,
    currency: payment.currency,
    capture: payment.captureMethod,
    amount_authorized: payment.amountAuthorized,
    amount_captured: payment.amountCaptured,
    order: {
      id: payment.order.id,
      lines: payment.order.lines.map((line) => ({
        sku: line.sku,
        quantity: line.quantity,
        unit_amount: line.unitAmount,
      })),
    },
    customer: payment.customer,
    payment_method: { type: payment.paymentMethod.type, card: card ?? null },
    description: payment.description ?? null,
    metadata: payment.metadata ?? {},
    failure: payment.failure ?? null,
    cancellation_reason: payment.cancellationReason ?? null,
    created_at: payment.createdAt,
    updated_at: payment.updatedAt,
    links: { self: `/v1/payments/${payment.id}`, events: `/v1/payments/${payment.id}/events` },
  };
}

export function auditView(entry: AuditEntry): PaymentEventResource {
  return {
    object: 'payment_event',
    sequence: entry.seq,
    type: entry.type,
    at: entry.at,
    actor: entry.actor,
    from_status: entry.fromStatus,
    to_status: entry.toStatus,
    detail: entry.detail,
  };
}

/**
 * The EventBridge detail for a change. The event id is derived from the payment and its sequence, so a
 * retried emit carries the same id and consumers can deduplicate and order on (payment.id, sequence).
 */
export function eventDetail(type: string, payment: Payment): PaymentEventDetail {
  return {
    version: '1',
    event_id: `evt_${payment.id.slice('pay_'.length)}_${payment.seq}`,
    type,
    sequence: payment.seq,
    occurred_at: payment.updatedAt,
    payment: paymentView(payment),
  };
}
