/**
 * Refund saga step RefundUnresolved: what the refund saga leaves to reconciliation. The inquiry schedule ran
 * out without an answer: the refund becomes `unknown` and its amount stays reserved (it may have been paid
 * out), for the sweep and the runbook. Or the saga hands over (`undelivered`): the bus refused the refund's
 * event after the retries, or a step answered an outcome no Choice knows; the event, if any, is held on the
 * payment, which makes it due, and the payment saga's reentry publishes it. A refund's own event refused
 * means the points it gave back were not announced either: their `points.refunded` is held after it.
 */
import { retryOnStaleWrite } from '../../flows/contention.js';
import { note } from '../../flows/payment-step.js';
import { loadRefund, recordResolution, refundStep } from '../../flows/refund-step.js';
import { type HeldEvent, holdEvent } from '../../payment.js';
import { refundPointsEvent } from '../../points-views.js';

export const refundUnresolved = refundStep('refundUnresolved', async (deps, input) => {
  const event = input.undelivered;
  if (event === undefined) {
    return recordResolution(deps, input, {
      status: 'unknown',
      detail: { error: input.error?.Error ?? null },
    });
  }
  // A refund that is still open needs nothing held: its own deadline brings the sweep, which restarts it.
  if (event) {
    await retryOnStaleWrite(deps.policy.contention, async () => {
      let { payment, refund } = await loadRefund(deps.repo, input);
      const points = event.type === 'refund.succeeded' ? refundPointsEvent(payment, refund) : null;
      const toHold: HeldEvent[] = points ? [event, points] : [event];
      for (const held of toHold) {
        if (payment.undeliveredEvents?.some((other) => other.event_id === held.event_id)) continue;
        payment = await note(deps, payment, {
          type: 'event.undelivered',
          patch: { undeliveredEvents: holdEvent(payment.undeliveredEvents, held) },
          detail: { eventId: held.event_id, eventType: held.type, refundId: input.refundId },
        });
      }
    });
  }
  return { outcome: 'held', event: null };
});
