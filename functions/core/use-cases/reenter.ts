/**
 * Saga step Reenter: the first step of a saga run the reconciliation sweep started for a payment whose saga
 * died, was lost (a restarted local stack) or never started. It reads what is recorded and says where the
 * saga takes over; every step it routes to reads what is recorded too, so no KBank call is repeated.
 */
import { isTerminal } from '../payment.js';
import { cancelRequested } from './cancel-action.js';
import { loadPayment, result, type SagaDeps, type StepResult } from './saga.js';

export type ReentryOutcome =
  | 'done'
  | 'verify'
  | 'inquire'
  | 'resolve_action'
  | 'await_capture'
  | 'cancel_action';

export async function reenter(
  deps: SagaDeps,
  input: { paymentId: string },
): Promise<StepResult & { outcome: ReentryOutcome; remainingSeconds: number | null }> {
  const payment = await loadPayment(deps.repo, input.paymentId);
  // Always present (null but for await_capture): the state machine selects it by path.
  const route = (outcome: ReentryOutcome, remainingSeconds: number | null = null) => ({
    ...result(outcome, null, payment),
    outcome,
    remainingSeconds,
  });
  if (isTerminal(payment.status)) return route('done');
  const captureWait =
    payment.status === 'requires_capture' || (payment.status === 'processing' && payment.requestKey);
  if (captureWait && payment.captureBefore) {
    // AwaitCapture parks again for the time left; a capture or cancel recorded meanwhile resumes it at
    // once; past the window it times out at once and the authorization is voided.
    const left = Math.ceil((Date.parse(payment.captureBefore) - deps.clock.now().getTime()) / 1000);
    return route('await_capture', Math.max(1, left));
  }
  // The merchant canceled while the customer was to act: CancelAction carries it out at KBank.
  if (cancelRequested(payment)) return route('cancel_action');
  // ResolveAction inquires first: a customer who paid while no saga listened is found at once.
  if (payment.status === 'requires_action') return route('resolve_action');
  // VerifyCost is a no-op once verified; Authorize writes its attempt ahead; the inquiry decides the rest.
  return route(payment.attemptCount === 0 ? 'verify' : 'inquire');
}
