/**
 * Refund saga step RefundUnresolved: what the refund saga leaves to reconciliation. The inquiry schedule ran
 * out without an answer: the refund becomes `unknown` and its amount stays reserved (it may have been paid
 * out), for the sweep and the runbook. Or the saga hands over (`undelivered`): the bus refused the refund's
 * event after the retries, or a step answered an outcome no Choice knows; the event, if any, is held on the
 * payment, which makes it due, and the payment saga's reentry publishes it.
 */
import { retryOnStaleWrite } from '../../flows/contention.js';
import { note } from '../../flows/payment-step.js';
import { loadRefund, recordResolution, refundStep } from '../../flows/refund-step.js';
import { holdEvent } from '../../payment.js';

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
      const { payment } = await loadRefund(deps.repo, input);
      if (payment.undeliveredEvents?.some((held) => held.event_id === event.event_id)) return;
      await note(deps, payment, {
        type: 'event.undelivered',
        patch: { undeliveredEvents: holdEvent(payment.undeliveredEvents, event) },
        detail: { eventId: event.event_id, eventType: event.type, refundId: input.refundId },
      });
    });
  }
  return { outcome: 'held', event: null };
});
