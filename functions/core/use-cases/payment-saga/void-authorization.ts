/**
 * Compensation VoidAuthorization: something failed after KBank authorized the charge, so release the
 * money (void) and record the payment as canceled. An unclear answer is resolved by inquiry; a charge
 * that turns out to be settled is recorded as captured rather than silently kept.
 */
import { KbankOutcomeUnknown, KbankRejected } from '../../errors.js';
import { capturePayment, recordCaptured } from '../../flows/capture-at-kbank.js';
import { CANCELED_BY_MERCHANT } from '../../flows/merchant-cancel.js';
import {
  failureFromTaskError,
  loadAttempt,
  loadPayment,
  record,
  result,
  sagaStep,
  type TaskError,
} from '../../flows/payment-step.js';
import { releasePoints } from '../../flows/points-tender.js';
import type { KbankCharge } from '../../ports.js';

export const voidAuthorization = sagaStep('voidAuthorization', async (deps, input) => {
  const payment = await loadPayment(deps.repo, input.paymentId);
  if (payment.status === 'canceled') {
    return result(
      'voided',
      payment.cancellationReason === 'capture_failed' ? 'payment.voided' : 'payment.canceled',
      payment,
    );
  }
  if (payment.status === 'succeeded') return result('captured', 'payment.captured', payment);
  const reason = cancellationReason(input.error);
  // The merchant asked to capture but the saga's wait ended before it heard: capture, do not void.
  if (reason === 'authorization_expired' && payment.amountToCapture !== undefined)
    return capturePayment(deps, input.paymentId);
  if (payment.paymentMethod.type === 'points') {
    const patch = reason === 'capture_failed' ? { failure: failureFromTaskError(input.error) } : {};
    return releasePoints(deps, payment, reason, patch, input.error?.Error ?? null);
  }
  const attempt = await loadAttempt(deps.repo, payment);
  if (!attempt?.chargeId || attempt.state !== 'authorized') {
    throw new KbankRejected(`payment ${payment.id} has no authorized charge to void`, 'nothing_to_void', 409);
  }
  const chargeId = attempt.chargeId;

  let charge: KbankCharge;
  try {
    charge = await deps.kbank.voidCharge(chargeId, reason);
  } catch (error) {
    if (!(error instanceof KbankOutcomeUnknown || error instanceof KbankRejected)) throw error;
    const seen = await deps.kbank.inquireCharge({ chargeId });
    if (seen?.state === 'Settled') return recordCaptured(deps, payment, attempt, seen);
    if (seen?.state !== 'Voided') throw error;
    charge = seen;
  }
  if (charge.state !== 'Voided')
    throw new KbankOutcomeUnknown(`void of ${chargeId} answered ${charge.state}`);

  // A merchant's cancel or an expired authorization is a cancellation; a failure after authorization is a void.
  const type = reason === 'capture_failed' ? 'payment.voided' : 'payment.canceled';
  const voided = await record(
    deps,
    payment,
    {
      type,
      status: 'canceled',
      patch: {
        cancellationReason: reason,
        ...(reason === 'capture_failed' ? { failure: failureFromTaskError(input.error) } : {}),
        amountCapturable: undefined,
        captureToken: undefined,
        requestKey: undefined,
      },
      detail: { chargeId, reason, error: input.error?.Error ?? null },
    },
    { ...attempt, state: 'voided', kbankState: charge.state },
  );
  return result('voided', type, voided);
});

/** Why the authorization is being released, from the error that led the saga here. */
function cancellationReason(error: TaskError | undefined): string {
  if (error?.Error === CANCELED_BY_MERCHANT) return 'requested_by_merchant';
  if (error?.Error === 'States.Timeout') return 'authorization_expired';
  return 'capture_failed';
}
