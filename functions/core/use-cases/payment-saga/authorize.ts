/**
 * Saga step Authorize: write the attempt (with its unique reference_order) ahead of the KBank call,
 * call KBank once, and record what came back (flows/attempts.ts). An answer we did not get is `unknown`,
 * never a guess. QR and wallet methods open an order for the customer instead (flows/customer-charges.ts);
 * a card KBank sends to 3-D Secure becomes `requires_action` the same way.
 */
import { recordCallFailure, recordCharge, writeAttemptAhead } from '../../flows/attempts.js';
import { authorizeWithCustomer } from '../../flows/customer-charges.js';
import {
  loadAttempt,
  loadPayment,
  record,
  result,
  type SagaDeps,
  type StepResult,
  sagaStep,
} from '../../flows/payment-step.js';
import { authorizePoints, holdPoints, kbankAmount } from '../../flows/points-tender.js';
import { waiting } from '../../flows/requires-action.js';
import type { Attempt, Payment } from '../../payment.js';
import type { KbankCharge } from '../../ports.js';

export const authorize = sagaStep('authorize', async (deps, input) => {
  const loaded = await loadPayment(deps.repo, input.paymentId);
  const attempt = await loadAttempt(deps.repo, loaded);
  const settled = settledOutcome(deps, loaded, attempt);
  if (settled) return settled;
  const method = loaded.paymentMethod;
  // The cost VerifyCost just confirmed, recorded with the write-ahead (absent once it is on the record).
  const verification = input.previous?.verification;
  // Points first: the other method is never charged unless the points are held (flows/points-tender.ts).
  const points = await holdPoints(deps, loaded, verification);
  if ('declined' in points) return points.declined;
  const payment = points.held;
  if (method.type === 'points') return authorizePoints(deps, payment);
  if (method.type !== 'card') return authorizeWithCustomer(deps, payment, attempt, verification);

  // A pending or unknown attempt may have reached KBank: only an inquiry may decide what happened.
  if (attempt && (attempt.state === 'pending' || attempt.state === 'unknown')) {
    return result('unknown', null, payment);
  }
  if (attempt && attempt.chargeCalls >= deps.policy.maxChargeCalls) {
    // A call may still land at KBank after this: the sweep asks once more at lateChargeCheckAt.
    const lateChargeCheckAt = new Date(
      deps.clock.now().getTime() + deps.policy.lateChargeCheckSeconds * 1000,
    ).toISOString();
    const failed = await record(
      deps,
      payment,
      {
        type: 'payment.failed',
        status: 'failed',
        patch: {
          failure: { code: 'processor_unavailable', message: 'The payment processor could not be reached.' },
          lateChargeCheckAt,
        },
        detail: {
          referenceOrder: attempt.referenceOrder,
          chargeCalls: attempt.chargeCalls,
          lateChargeCheckAt,
        },
      },
      { ...attempt, state: 'declined' },
    );
    return result('declined', 'payment.failed', failed);
  }

  const { requested, sending } = await writeAttemptAhead(
    deps,
    payment,
    attempt,
    { chargeCall: (attempt?.chargeCalls ?? 0) + 1 },
    verification,
  );

  let charge: KbankCharge;
  try {
    charge = await deps.kbank.chargeCard({
      token: method.token,
      amount: kbankAmount(payment),
      currency: payment.currency,
      referenceOrder: sending.referenceOrder,
      description: payment.description ?? `Order ${payment.order.id}`,
    });
  } catch (error) {
    return recordCallFailure(deps, requested, sending, error);
  }
  const final = await recordCharge(deps, requested, sending, charge);
  if (final) return final;
  // KBank holds the charge but it is not final yet (Initialize, Pre-Authorized): inquire later.
  const pending = await record(
    deps,
    requested,
    {
      type: 'authorization.outcome_unknown',
      status: 'unknown',
      detail: { referenceOrder: sending.referenceOrder, chargeId: charge.chargeId, kbankState: charge.state },
    },
    { ...sending, state: 'unknown', chargeId: charge.chargeId, kbankState: charge.state },
  );
  return result('unknown', null, pending);
});

/** The outcome already recorded by an earlier run of this step, if any (makes the step retry-safe). */
function settledOutcome(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt | null,
): StepResult<'declined' | 'requires_action' | 'authorized'> | null {
  if (payment.status === 'failed') return result('declined', 'payment.failed', payment);
  if (payment.status === 'requires_action') {
    return waiting('requires_action', 'payment.requires_action', payment, deps.clock.now());
  }
  if (attempt?.state === 'authorized' || attempt?.state === 'captured') {
    return result('authorized', 'payment.authorized', payment);
  }
  if (payment.paymentMethod.type === 'points' && payment.amountAuthorized > 0) {
    return result('authorized', 'payment.authorized', payment);
  }
  return null;
}
