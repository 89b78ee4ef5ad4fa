/**
 * Saga state CancelAction (the ResolveAction Lambda with reason `canceled`): the merchant canceled a payment
 * that was waiting for the customer. The cancel was recorded on the payment first (api/cancel-payment.ts),
 * so it wins over anything KBank records after it: the QR / WeChat order is canceled or the Alipay / 3-D
 * Secure charge voided at KBank, money the customer paid in the meantime is given back (written ahead, like
 * a late payment), and the payment ends `canceled`. KBank's answers decide what must be done there, never
 * the outcome.
 */
import { KbankOutcomeUnknown, KbankRejected, OutcomeStillUnknown } from '../errors.js';
import type { Attempt, AttemptState, Payment } from '../payment.js';
import type { KbankCharge, KbankQrCharge } from '../ports.js';
import { cancelAtKbank, chargeVerdict, inquireAttempt, reverseCharge } from './customer-charges.js';
import { REQUESTED_BY_MERCHANT } from './merchant-cancel.js';
import { note, record, result, type SagaDeps, type StepResult } from './payment-step.js';

export async function cancelAction(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
): Promise<StepResult<'canceled'>> {
  const charge = await inquireAttempt(deps.kbank, payment, attempt);
  if (!charge) throw new OutcomeStillUnknown(`KBank has no record of ${attempt.referenceOrder} yet`);
  if (chargeVerdict(charge) !== 'pending') return settle(deps, payment, attempt, charge);
  try {
    const canceled = await cancelAtKbank(
      deps.kbank,
      payment,
      attempt,
      charge.chargeId,
      REQUESTED_BY_MERCHANT,
    );
    // Anything but Voided leaves the order's fate open: the retried step inquires again first.
    if (canceled.state !== 'Voided') {
      throw new KbankOutcomeUnknown(`cancel of ${charge.chargeId} answered ${canceled.state}`);
    }
    return recordCanceled(deps, payment, { ...attempt, chargeId: charge.chargeId }, canceled.state);
  } catch (error) {
    if (!(error instanceof KbankRejected)) throw error;
    // KBank refused: the customer paid, or the order expired, a moment ago. Its charge says which.
    const now = await inquireAttempt(deps.kbank, payment, attempt);
    if (!now || chargeVerdict(now) === 'pending') throw error;
    return settle(deps, payment, attempt, now);
  }
}

/** The charge is final at KBank: give back what the customer paid, then record the payment `canceled`. */
async function settle(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  charge: KbankQrCharge | KbankCharge,
): Promise<StepResult<'canceled'>> {
  const seen = { ...attempt, chargeId: charge.chargeId };
  if (chargeVerdict(charge) !== 'paid') return recordCanceled(deps, payment, seen, charge.state);
  // Written before the money moves, so a crash in between is visible; a re-run inquires first and finds
  // the charge refunded or voided, and only records.
  const detected = await note(deps, payment, {
    type: 'late_payment.detected',
    detail: {
      chargeId: charge.chargeId,
      amount: charge.amount,
      kbankState: charge.state,
      reason: REQUESTED_BY_MERCHANT,
    },
  });
  const reversed = await reverseCharge(deps.kbank, detected, charge, REQUESTED_BY_MERCHANT);
  if (reversed.state !== 'Voided' && reversed.state !== 'Refund Sent') {
    throw new KbankOutcomeUnknown(`${reversed.via} of ${charge.chargeId} answered ${reversed.state}`);
  }
  return recordCanceled(deps, detected, seen, reversed.state, {
    via: reversed.via,
    amount: charge.amount,
  });
}

async function recordCanceled(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  kbankState: string,
  reversed?: { via: 'void' | 'refund'; amount: number },
): Promise<StepResult<'canceled'>> {
  const canceled = await record(
    deps,
    payment,
    {
      type: 'payment.canceled',
      status: 'canceled',
      patch: { actionToken: undefined, requestKey: undefined },
      detail: {
        reason: REQUESTED_BY_MERCHANT,
        referenceOrder: attempt.referenceOrder,
        chargeId: attempt.chargeId,
        kbankState,
        ...(reversed ? { reversed } : {}),
      },
    },
    { ...attempt, state: attemptStateAfter(kbankState), kbankState },
  );
  return result('canceled', 'payment.canceled', canceled);
}

/** What the attempt became: no money is held for it in any of these. */
function attemptStateAfter(kbankState: string): AttemptState {
  if (kbankState === 'Declined') return 'declined';
  if (kbankState === 'Expired') return 'expired';
  return 'voided';
}
