/**
 * Use case of the settlements consumer: books one money event (`payment.captured`, `refund.succeeded`) on
 * its merchant's settlement of the event's Bangkok day, or of the next open day when that one is closed.
 * Each event counts once (the store's marker); totals are sums, so the order events arrive in does not matter.
 */
import type { PaymentEventDetail, RefundEventDetail } from '../../../../schemas/events.js';
import type { Clock } from '../../ports.js';
import type { PaymentRepository } from '../../repository.js';
import {
  dayPeriod,
  type FeeSchedule,
  lineOf,
  type Movement,
  nextDay,
  type SettlementLine,
  type SettlementStore,
  settlementDayOf,
} from '../../settlements.js';

export interface RecordMovementDeps {
  settlements: SettlementStore;
  /** The payment an event names: its merchant and method (events carry the API's view, not the merchant). */
  payments: Pick<PaymentRepository, 'get'>;
  fees: FeeSchedule;
  clock: Clock;
}

/** The money events a settlement books; every other event is not a movement. */
export const SETTLEMENT_EVENT_TYPES = ['payment.captured', 'refund.succeeded'] as const;

export type MoneyEvent =
  | { type: 'payment.captured'; detail: PaymentEventDetail }
  | { type: 'refund.succeeded'; detail: RefundEventDetail };

/** A movement that rolls over more closed days than this is not a late event but a broken close: retried. */
const MAX_ROLLOVER_DAYS = 31;

export type RecordOutcome =
  | { outcome: 'booked'; line: SettlementLine }
  | { outcome: 'duplicate' }
  | { outcome: 'ignored'; reason: string };

export async function recordMovement(deps: RecordMovementDeps, event: MoneyEvent): Promise<RecordOutcome> {
  const paymentId = event.type === 'payment.captured' ? event.detail.payment.id : event.detail.payment_id;
  const payment = await deps.payments.get(paymentId);
  // Events are published after the payment is written: a missing payment is a fault, retried then DLQ'd.
  if (!payment)
    throw new Error(`settlements: event ${event.detail.event_id} names no stored payment ${paymentId}`);
  // Points are no money at KBank: a points payment books nothing, a split only its other tender.
  const method = payment.paymentMethod.type;
  if (method === 'points') return { outcome: 'ignored', reason: 'paid with points' };
  const movement = movementOf(event, payment.merchantId, method, payment.points?.value ?? 0);
  if (movement.amount <= 0) return { outcome: 'ignored', reason: 'no money moved' };

  let day = settlementDayOf(movement.occurredAt);
  for (let rolled = 0; rolled <= MAX_ROLLOVER_DAYS; rolled++) {
    const line = lineOf(movement, { day, schedule: deps.fees, recordedAt: deps.clock.now().toISOString() });
    const booked = await deps.settlements.book(line, dayPeriod(day));
    if (booked.outcome !== 'closed') return booked;
    day = nextDay(day);
  }
  throw new Error(`settlements: ${MAX_ROLLOVER_DAYS} days after ${movement.occurredAt} are all closed`);
}

function movementOf(
  event: MoneyEvent,
  merchantId: string,
  method: Movement['method'],
  pointsValue: number,
): Movement {
  if (event.type === 'payment.captured') {
    const { payment } = event.detail;
    return {
      eventId: event.detail.event_id,
      kind: 'capture',
      merchantId,
      paymentId: payment.id,
      method,
      currency: payment.currency,
      amount: payment.amount_captured - pointsValue,
      occurredAt: event.detail.occurred_at,
    };
  }
  const { refund } = event.detail;
  return {
    eventId: event.detail.event_id,
    kind: 'refund',
    merchantId,
    paymentId: event.detail.payment_id,
    refundId: refund.id,
    method,
    currency: refund.currency,
    amount: refund.amount - (refund.points?.amount ?? 0),
    occurredAt: event.detail.occurred_at,
  };
}
