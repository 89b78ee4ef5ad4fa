/**
 * Saga step ResolveAction: the customer's step ended, or its time ran out. Whatever the callback said,
 * only KBank's answer to an inquiry decides: paid (a card goes on to capture; QR and wallets are captured
 * by KBank when paid), failed, expired, or still waiting. When the time is up and the customer has not
 * paid, the order is canceled at KBank before the payment is recorded `expired`; a customer who paid at
 * the last moment, so that KBank refuses that cancel, wins over it. Once a cancel was sent without a clear
 * answer the expiry decides: KBank may still carry it out after the customer paid, so a `paid` seen then is
 * given back rather than kept (written ahead on the attempt, so a crash or a retry cannot forget it). A
 * cancel the merchant recorded first wins over everything (flows/cancel-at-kbank.ts), whichever way the
 * saga was woken.
 */
import { KbankRejected, OutcomeStillUnknown } from '../../errors.js';
import { recordCharge } from '../../flows/attempts.js';
import {
  type ActionEnding,
  attemptStateAfter,
  cancelAction,
  endAction,
  type Reversed,
} from '../../flows/cancel-at-kbank.js';
import { cancelAtKbank, chargeVerdict, inquireAttempt } from '../../flows/customer-charges.js';
import { cancelRequested } from '../../flows/merchant-cancel.js';
import {
  loadAttempt,
  loadPayment,
  note,
  record,
  result,
  type SagaDeps,
  type StepResult,
  sagaStep,
} from '../../flows/payment-step.js';
import { waiting } from '../../flows/requires-action.js';
import type { Attempt, Payment } from '../../payment.js';
import type { KbankCharge, KbankQrCharge } from '../../ports.js';
import type { PaymentOutcome } from '../../saga-contract.js';

type Resolved = StepResult<PaymentOutcome<'resolveAction'>>;

export const resolveAction = sagaStep('resolveAction', async (deps, input) => {
  const payment = await loadPayment(deps.repo, input.paymentId);
  const attempt = await loadAttempt(deps.repo, payment);
  const settled = alreadyResolved(payment, attempt);
  if (settled) return settled;
  // A callback or the timeout may wake the saga after the cancel was recorded: the cancel still decides.
  if (attempt && cancelRequested(payment)) return cancelAction(deps, payment, attempt);
  if (!attempt || payment.status !== 'requires_action') {
    throw new OutcomeStillUnknown(`payment ${payment.id} is ${payment.status}, not waiting for the customer`);
  }
  const charge = await inquireAttempt(deps.kbank, payment, attempt);
  if (!charge) throw new OutcomeStillUnknown(`KBank has no record of ${attempt.referenceOrder} yet`);
  if (attempt.expiryCancelSentAt) return endAction(deps, payment, attempt, EXPIRY, charge);
  const decided = await recordVerdict(deps, payment, attempt, charge);
  if (decided) return decided;

  const timeLeft = Date.parse(payment.nextAction?.expiresAt ?? '') - deps.clock.now().getTime();
  if (input.reason === 'notified' && timeLeft > 0) {
    return waiting('waiting', null, payment, deps.clock.now());
  }
  return expire(deps, payment, attempt, charge);
});

/** The outcome an earlier run of this step recorded (makes the step retry-safe). */
function alreadyResolved(payment: Payment, attempt: Attempt | null): Resolved | null {
  switch (payment.status) {
    case 'succeeded':
      return result('paid', 'payment.captured', payment);
    case 'failed':
      return result('declined', 'payment.failed', payment);
    case 'expired':
      return result('expired', 'payment.expired', payment);
    case 'canceled':
      return result('canceled', 'payment.canceled', payment);
    case 'processing':
      return attempt?.state === 'authorized' ? result('authorized', 'payment.authorized', payment) : null;
    default:
      return null;
  }
}

/** Records what KBank's charge says, or returns null while the customer may still pay. */
async function recordVerdict(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  charge: KbankQrCharge | KbankCharge,
): Promise<Resolved | null> {
  const verdict = chargeVerdict(charge);
  const seen = { ...attempt, chargeId: charge.chargeId, kbankState: charge.state };
  if (verdict === 'pending') return null;
  if (verdict === 'expired') return recordExpired(deps, payment, seen, charge.state);
  if (verdict === 'paid' && payment.paymentMethod.type !== 'card') {
    const paid = await record(
      deps,
      payment,
      {
        type: 'payment.captured',
        status: 'succeeded',
        // A split's points are part of what is paid (payment.amount): KBank's charge is the rest.
        patch: {
          amountAuthorized: charge.amount + (payment.points?.value ?? 0),
          amountCaptured: charge.amount + (payment.points?.value ?? 0),
          actionToken: undefined,
        },
        detail: {
          chargeId: charge.chargeId,
          referenceOrder: attempt.referenceOrder,
          amount: charge.amount,
          approvalCode: charge.approvalCode,
        },
      },
      { ...seen, state: 'captured', approvalCode: charge.approvalCode },
    );
    return result('paid', 'payment.captured', paid);
  }
  // A card back from 3-D Secure (authorized, then captured by the saga), or a payment that failed.
  const recorded = await recordCharge(deps, payment, attempt, {
    ...charge,
    state: charge.state === 'Expired' ? 'Declined' : charge.state,
  });
  // requires_action would be a second 3-D Secure step; the payment is already waiting on the first.
  if (!recorded || recorded.outcome === 'requires_action') {
    throw new OutcomeStillUnknown(`charge ${charge.chargeId} is still ${charge.state}`);
  }
  return { ...recorded, outcome: recorded.outcome };
}

/**
 * Time is up and the customer has not paid: cancel at KBank, then record `expired`. The cancel is written
 * ahead on the attempt; if its answer is lost, the retried step finds it there and lets the expiry decide.
 */
async function expire(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  charge: KbankQrCharge | KbankCharge,
): Promise<Resolved> {
  const sent = { ...attempt, chargeId: charge.chargeId, expiryCancelSentAt: deps.clock.now().toISOString() };
  const marked = await note(
    deps,
    payment,
    {
      type: 'action.expiry_cancel_sent',
      detail: { referenceOrder: attempt.referenceOrder, chargeId: charge.chargeId, kbankState: charge.state },
    },
    sent,
  );
  try {
    const canceled = await cancelAtKbank(deps.kbank, marked, sent, charge.chargeId, ACTION_EXPIRED);
    return recordExpired(deps, marked, sent, canceled.state);
  } catch (error) {
    if (!(error instanceof KbankRejected)) throw error;
    // KBank refused this cancel, so none of it is left to land: the customer may have paid (or the order
    // expired) a moment ago, and a payment wins over it.
    const now = await inquireAttempt(deps.kbank, marked, sent);
    const decided = now ? await recordVerdict(deps, marked, sent, now) : null;
    if (decided) return decided;
    throw error;
  }
}

const ACTION_EXPIRED = 'action_expired';

/** The expiry once its cancel was sent: it ends `expired`, giving back anything the customer paid. */
const EXPIRY: ActionEnding<'expired'> = { reason: ACTION_EXPIRED, record: recordExpired };

async function recordExpired(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  kbankState: string,
  reversed?: Reversed,
): Promise<StepResult<'expired'>> {
  const expired = await record(
    deps,
    payment,
    {
      type: 'payment.expired',
      status: 'expired',
      patch: {
        actionToken: undefined,
        failure: { code: ACTION_EXPIRED, message: 'The customer did not complete the payment in time.' },
      },
      detail: {
        referenceOrder: attempt.referenceOrder,
        chargeId: attempt.chargeId,
        kbankState,
        ...(reversed ? { reversed } : {}),
      },
    },
    { ...attempt, state: reversed ? attemptStateAfter(kbankState) : 'expired', kbankState },
  );
  return result('expired', 'payment.expired', expired);
}
