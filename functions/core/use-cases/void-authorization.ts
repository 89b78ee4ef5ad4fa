/**
 * Compensation VoidAuthorization: something failed after KBank authorized the charge, so release the
 * money (void) and record the payment as canceled. An unclear answer is resolved by inquiry; a charge
 * that turns out to be settled is recorded as captured rather than silently kept.
 */
import { KbankOutcomeUnknown, KbankRejected } from '../errors.js';
import type { KbankCharge } from '../ports.js';
import { recordCaptured } from './capture.js';
import {
  failureFromTaskError,
  loadAttempt,
  loadPayment,
  record,
  result,
  type SagaDeps,
  type StepResult,
  type TaskError,
} from './saga.js';

export async function voidAuthorization(
  deps: SagaDeps,
  input: { paymentId: string; error?: TaskError },
): Promise<StepResult> {
  const payment = await loadPayment(deps.repo, input.paymentId);
  if (payment.status === 'canceled') return result('voided', 'payment.voided', payment);
  if (payment.status === 'succeeded') return result('captured', 'payment.captured', payment);
  const attempt = await loadAttempt(deps.repo, payment);
  if (!attempt?.chargeId || attempt.state !== 'authorized') {
    throw new KbankRejected(`payment ${payment.id} has no authorized charge to void`, 'nothing_to_void', 409);
  }
  const chargeId = attempt.chargeId;

  let charge: KbankCharge;
  try {
    charge = await deps.kbank.voidCharge(chargeId, 'capture_failed');
  } catch (error) {
    if (!(error instanceof KbankOutcomeUnknown || error instanceof KbankRejected)) throw error;
    const seen = await deps.kbank.inquireCharge({ chargeId });
    if (seen?.state === 'Settled') return recordCaptured(deps, payment, attempt, seen);
    if (seen?.state !== 'Voided') throw error;
    charge = seen;
  }
  if (charge.state !== 'Voided')
    throw new KbankOutcomeUnknown(`void of ${chargeId} answered ${charge.state}`);

  const voided = await record(
    deps,
    payment,
    {
      type: 'payment.voided',
      status: 'canceled',
      patch: { cancellationReason: 'capture_failed', failure: failureFromTaskError(input.error) },
      detail: { chargeId, reason: 'capture_failed', error: input.error?.Error ?? null },
    },
    { ...attempt, state: 'voided', kbankState: charge.state },
  );
  return result('voided', 'payment.voided', voided);
}
