/**
 * A wait for the customer that ends whatever the customer does, because the decision to end it was recorded
 * first: the merchant's cancel (saga state CancelAction, the ResolveAction Lambda with reason `canceled`;
 * recorded by api/cancel-payment.ts), or the expiry once its cancel was sent to KBank (a cancel whose answer
 * was lost may still be carried out there, so a `paid` seen after it cannot be trusted to last). The QR /
 * WeChat order is canceled or the Alipay / 3-D Secure charge voided at KBank, money the customer paid in the
 * meantime is given back (written ahead, like a late payment), and the payment ends `canceled` or `expired`.
 * KBank's answers decide what must be done there, never the outcome.
 */
import { KbankOutcomeUnknown, KbankRejected, OutcomeStillUnknown } from '../errors.js';
import type { Attempt, AttemptState, Payment } from '../payment.js';
import type { KbankCharge, KbankQrCharge } from '../ports.js';
import { cancelAtKbank, chargeVerdict, inquireAttempt, reverseCharge } from './customer-charges.js';
import { REQUESTED_BY_MERCHANT } from './merchant-cancel.js';
import { note, record, result, type SagaDeps, type StepResult } from './payment-step.js';

/** Money given back at KBank on the way to the end. */
export type Reversed = { via: 'void' | 'refund'; amount: number };

/** How the wait ends: the reason sent to KBank, and what records the end once KBank's charge is final. */
export interface ActionEnding<O extends 'canceled' | 'expired'> {
  reason: string;
  record(
    deps: SagaDeps,
    payment: Payment,
    attempt: Attempt,
    kbankState: string,
    reversed?: Reversed,
  ): Promise<StepResult<O>>;
}

/** Ends the wait as `ending` says, whatever the customer did: inquire, cancel or give back, record. */
export async function endAction<O extends 'canceled' | 'expired'>(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  ending: ActionEnding<O>,
  charge?: KbankQrCharge | KbankCharge,
): Promise<StepResult<O>> {
  const seen = charge ?? (await inquireAttempt(deps.kbank, payment, attempt));
  if (!seen) throw new OutcomeStillUnknown(`KBank has no record of ${attempt.referenceOrder} yet`);
  if (chargeVerdict(seen) !== 'pending') return settle(deps, payment, attempt, seen, ending);
  try {
    const canceled = await cancelAtKbank(deps.kbank, payment, attempt, seen.chargeId, ending.reason);
    // Anything but Voided leaves the order's fate open: the retried step inquires again first.
    if (canceled.state !== 'Voided') {
      throw new KbankOutcomeUnknown(`cancel of ${seen.chargeId} answered ${canceled.state}`);
    }
    return ending.record(deps, payment, { ...attempt, chargeId: seen.chargeId }, canceled.state);
  } catch (error) {
    if (!(error instanceof KbankRejected)) throw error;
    // KBank refused: the customer paid, the order expired, or an earlier cancel landed. Its charge says which.
    const now = await inquireAttempt(deps.kbank, payment, attempt);
    if (!now || chargeVerdict(now) === 'pending') throw error;
    return settle(deps, payment, attempt, now, ending);
  }
}

/** Saga state CancelAction: the merchant's recorded cancel is carried out. */
export function cancelAction(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
): Promise<StepResult<'canceled'>> {
  return endAction(deps, payment, attempt, MERCHANT_CANCEL);
}

/** The charge is final at KBank: give back what the customer paid, then record the end. */
async function settle<O extends 'canceled' | 'expired'>(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  charge: KbankQrCharge | KbankCharge,
  ending: ActionEnding<O>,
): Promise<StepResult<O>> {
  const seen = { ...attempt, chargeId: charge.chargeId };
  if (chargeVerdict(charge) !== 'paid') return ending.record(deps, payment, seen, charge.state);
  // Written before the money moves, so a crash in between is visible; a re-run inquires first and finds
  // the charge refunded or voided, and only records.
  const detected = await note(deps, payment, {
    type: 'late_payment.detected',
    detail: {
      chargeId: charge.chargeId,
      amount: charge.amount,
      kbankState: charge.state,
      reason: ending.reason,
    },
  });
  const reversed = await reverseCharge(deps.kbank, detected, charge, ending.reason);
  if (reversed.state !== 'Voided' && reversed.state !== 'Refund Sent') {
    throw new KbankOutcomeUnknown(`${reversed.via} of ${charge.chargeId} answered ${reversed.state}`);
  }
  return ending.record(deps, detected, seen, reversed.state, { via: reversed.via, amount: charge.amount });
}

const MERCHANT_CANCEL: ActionEnding<'canceled'> = { reason: REQUESTED_BY_MERCHANT, record: recordCanceled };

async function recordCanceled(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  kbankState: string,
  reversed?: Reversed,
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
export function attemptStateAfter(kbankState: string): AttemptState {
  if (kbankState === 'Declined') return 'declined';
  if (kbankState === 'Expired') return 'expired';
  return 'voided';
}
