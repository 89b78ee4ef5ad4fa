/**
 * Saga step Reenter: where the payment saga and the reconciliation sweep hand over to each other. A run the
 * sweep started (for a saga that died, was lost, never started, or handed over) takes over here: the events
 * held on the payment go out first, then it reads what is recorded and says where the saga takes over; every
 * step it routes to reads what is recorded too, so no KBank call is repeated. A run that cannot go on (the bus
 * refused its event after the retries, or a step answered an outcome no Choice knows) hands over here: its
 * event is held on the payment, which makes the payment due, so the sweep resumes it.
 */
import { cancelRequested } from '../../flows/merchant-cancel.js';
import { loadAttempt, loadPayment, note, type SagaDeps, sagaStep } from '../../flows/payment-step.js';
import { holdEvent, isTerminal, type Payment, releaseEvent } from '../../payment.js';
import type { ReentryResult, ReentryRoute, SagaEvent } from '../../saga-contract.js';

export const reenter = sagaStep('reenter', async (deps, input) => {
  if (input.unpublished !== undefined) return handOver(deps, input.paymentId, input.unpublished);
  if (input.undelivered !== undefined) {
    return handOver(deps, input.paymentId, input.undelivered ? [input.undelivered] : []);
  }
  return takeOver(deps, input.paymentId, input.delivered);
});

function answer(
  outcome: ReentryResult['outcome'],
  remainingSeconds: number | null = null,
  event: SagaEvent | null = null,
): ReentryResult {
  // remainingSeconds is always present (null but for await_capture): the state machine selects it by path.
  return { outcome, event, waitSeconds: null, remainingSeconds };
}

async function handOver(
  deps: SagaDeps,
  paymentId: string,
  events: readonly SagaEvent[],
): Promise<ReentryResult> {
  let payment = await loadPayment(deps.repo, paymentId);
  const toHold = events.filter(
    (event) => !payment.undeliveredEvents?.some((held) => held.event_id === event.event_id),
  );
  for (const event of toHold) {
    payment = await note(deps, payment, {
      type: 'event.undelivered',
      patch: { undeliveredEvents: holdEvent(payment.undeliveredEvents, event) },
      detail: { eventId: event.event_id, eventType: event.type },
    });
  }
  if (events.length === 0) {
    // Nothing to hold: the payment is made due now, so the sweep resumes it without waiting for its
    // deadline (a terminal one with nothing held is passed over); but never before the restart time the sweep set last (its backoff), so a run that keeps
    // failing the same way spends the sweep's schedule at its pace, not in minutes.
    const now = deps.clock.now().toISOString();
    const next = payment.reconciliation?.nextAt;
    await deps.repo.markDue(payment.id, next !== undefined && next > now ? next : now);
  }
  return answer('held');
}

async function takeOver(deps: SagaDeps, paymentId: string, delivered?: SagaEvent): Promise<ReentryResult> {
  let payment = await loadPayment(deps.repo, paymentId);
  if (delivered && payment.undeliveredEvents?.some((held) => held.event_id === delivered.event_id)) {
    payment = await note(deps, payment, {
      type: 'event.redelivered',
      patch: { undeliveredEvents: releaseEvent(payment.undeliveredEvents, delivered.event_id) },
      detail: { eventId: delivered.event_id, eventType: delivered.type },
    });
  }
  // Oldest first, each one released once it is out: an event never leaves after one recorded later.
  const held = payment.undeliveredEvents?.[0];
  if (held) return answer('redeliver', null, held);
  if (isTerminal(payment.status)) return answer('done');
  const after = await routeAfterRedelivery(deps, payment, delivered);
  if (after) return answer(after);
  const captureWait =
    payment.status === 'requires_capture' || (payment.status === 'processing' && payment.requestKey);
  if (captureWait && payment.captureBefore) {
    // AwaitCapture parks again for the time left; a capture or cancel recorded meanwhile resumes it at
    // once; past the window it times out at once and the authorization is voided.
    const left = Math.ceil((Date.parse(payment.captureBefore) - deps.clock.now().getTime()) / 1000);
    return answer('await_capture', Math.max(1, left));
  }
  // The merchant canceled while the customer was to act: CancelAction carries it out at KBank.
  if (cancelRequested(payment)) return answer('cancel_action');
  // ResolveAction inquires first: a customer who paid while no saga listened is found at once.
  if (payment.status === 'requires_action') return answer('resolve_action');
  // VerifyCost is a no-op once verified; Authorize writes its attempt ahead; the inquiry decides the rest.
  return answer(payment.attemptCount === 0 ? 'verify' : 'inquire');
}

/**
 * The event just published again was the step's own, recorded just before: the saga goes on from the state
 * after its Emit, since the route the record gives would publish it once more under a later sequence.
 */
async function routeAfterRedelivery(
  deps: SagaDeps,
  payment: Payment,
  delivered: SagaEvent | undefined,
): Promise<ReentryRoute | null> {
  if (payment.status !== 'processing' || cancelRequested(payment)) return null;
  if (delivered?.type === 'payment.capture_requested' && payment.requestKey) {
    return payment.amountToCapture === undefined ? null : 'capture';
  }
  if (delivered?.type === 'payment.authorized' && !payment.requestKey) {
    const attempt = await loadAttempt(deps.repo, payment);
    return attempt?.state === 'authorized' ? 'choose_capture' : null;
  }
  return null;
}
