/**
 * Public shapes of our data: the API resources and the versioned event detail that finance consumers
 * receive. Internal fields (card token, sequence bookkeeping) never leave through here.
 */
import type { PaymentEventResource, PaymentResource, RefundResource } from '../../schemas/api.js';
import type { PaymentEventDetail, RefundEventDetail } from '../../schemas/events.js';
import { type AuditEntry, isTerminal, type Payment } from './payment.js';
import type { PaymentPoints } from './points.js';
import { type Refund, refundableAmount } from './refund.js';
import type { Page } from './repository.js';

/** A page of a list as the API answers it. */
export function listView<T, R>(page: Page<T>, view: (item: T) => R) {
  return {
    object: 'list' as const,
    data: page.items.map(view),
    has_more: page.hasMore,
    next_cursor: page.nextCursor,
  };
}

export function paymentView(payment: Payment): PaymentResource {
  const method = payment.paymentMethod;
  const card = method.type === 'card' ? method.card : undefined;
  return {
    id: payment.id,
    object: 'payment',
    status: payment.status,
    amount: payment.amount,
    currency: payment.currency,
    capture: payment.captureMethod,
    amount_authorized: payment.amountAuthorized,
    amount_captured: payment.amountCaptured,
    amount_refunded: payment.amountRefunded ?? 0,
    amount_refundable: refundableAmount(payment),
    amount_capturable: payment.status === 'requires_capture' ? (payment.amountCapturable ?? 0) : 0,
    capture_before: payment.status === 'requires_capture' ? (payment.captureBefore ?? null) : null,
    order: {
      id: payment.order.id,
      lines: payment.order.lines.map((line) => ({
        sku: line.sku,
        quantity: line.quantity,
        unit_amount: line.unitAmount,
      })),
    },
    customer: payment.customer,
    payment_method: { type: method.type, card: card ?? null },
    ...(payment.points ? { tenders: tendersView(payment, payment.points) } : {}),
    next_action: payment.status === 'requires_action' ? nextActionView(payment) : null,
    description: payment.description ?? null,
    metadata: payment.metadata ?? {},
    failure: payment.failure ?? null,
    cancellation_reason: payment.cancellationReason ?? null,
    created_at: payment.createdAt,
    updated_at: payment.updatedAt,
    links: {
      self: `/v1/payments/${payment.id}`,
      events: `/v1/payments/${payment.id}/events`,
      refunds: `/v1/payments/${payment.id}/refunds`,
    },
  };
}

/** How a payment with points is paid: the points first, then the other method (if any). */
function tendersView(payment: Payment, points: PaymentPoints): NonNullable<PaymentResource['tenders']> {
  const refundedPoints = points.refunded ?? 0;
  const pointsValuePerPoint = points.points > 0 ? points.value / points.points : 0;
  const pointsTender = {
    type: 'points' as const,
    amount: points.value,
    points: points.points,
    status: points.status,
    amount_refunded: refundedPoints * pointsValuePerPoint,
  };
  if (payment.paymentMethod.type === 'points') return [pointsTender];
  const other = payment.amount - points.value;
  return [
    pointsTender,
    {
      type: payment.paymentMethod.type,
      amount: other,
      points: null,
      status: otherTenderStatus(payment, points),
      amount_refunded: Math.max(0, (payment.amountRefunded ?? 0) - pointsTender.amount_refunded),
    },
  ];
}

function otherTenderStatus(payment: Payment, points: PaymentPoints) {
  if (points.status === 'declined' || (points.status === 'pending' && isTerminal(payment.status))) {
    return 'not_attempted' as const;
  }
  switch (payment.status) {
    case 'succeeded':
      return 'captured' as const;
    case 'requires_capture':
      return 'authorized' as const;
    case 'canceled':
    case 'failed':
    case 'expired':
      return payment.status;
    case 'rejected':
      return 'not_attempted' as const;
    default:
      return 'pending' as const;
  }
}

function nextActionView(payment: Payment): PaymentResource['next_action'] {
  const action = payment.nextAction;
  if (!action) return null;
  if (action.type === 'redirect_to_url') {
    return { type: action.type, url: action.url, expires_at: action.expiresAt };
  }
  return {
    type: action.type,
    qr_payload: action.qrPayload,
    qr_image_url: `/v1/payments/${payment.id}/qr`,
    expires_at: action.expiresAt,
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

export function refundView(refund: Refund): RefundResource {
  return {
    id: refund.id,
    object: 'refund',
    payment_id: refund.paymentId,
    amount: refund.amount,
    currency: refund.currency,
    status: refund.status,
    reason: refund.reason,
    failure: refund.failure ?? null,
    ...(refund.points ? { points: { points: refund.points, amount: refund.pointsValue ?? 0 } } : {}),
    created_at: refund.createdAt,
    updated_at: refund.updatedAt,
  };
}

/**
 * The EventBridge detail of a refund's outcome. Its sequence is the payment version that recorded it
 * (`refund.paymentSeq`), so the id is the same whichever retry emits it, and shares the payment's
 * numbering: `evt_<payment>_<sequence>` never collides with a payment event.
 */
export function refundEventDetail(type: RefundEventDetail['type'], refund: Refund): RefundEventDetail {
  return {
    version: '1',
    event_id: `evt_${refund.paymentId.slice('pay_'.length)}_${refund.paymentSeq}`,
    type,
    sequence: refund.paymentSeq,
    occurred_at: refund.updatedAt,
    payment_id: refund.paymentId,
    refund: refundView(refund),
  };
}
