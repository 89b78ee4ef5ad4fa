/**
 * Saga step InquireAuthorization: resolves an attempt whose outcome we did not see by asking KBank for
 * its reference_order. Still not final → OutcomeStillUnknown, which the state machine retries on a
 * bounded schedule; KBank has no such charge → re-send (same reference) while the policy allows.
 */
import { ConflictError, OutcomeStillUnknown } from '../../errors.js';
import { recordCharge } from '../../flows/attempts.js';
import { loadAttempt, loadPayment, record, result, sagaStep } from '../../flows/payment-step.js';
import { waiting } from '../../flows/requires-action.js';

export const inquireAuthorization = sagaStep('inquireAuthorization', async (deps, input) => {
  const payment = await loadPayment(deps.repo, input.paymentId);
  const attempt = await loadAttempt(deps.repo, payment);
  if (payment.status === 'failed') return result('declined', 'payment.failed', payment);
  if (payment.status === 'requires_action') {
    return waiting('requires_action', 'payment.requires_action', payment, deps.clock.now());
  }
  // Authorize failed before it wrote anything, and the cost it was to record is gone with its input: no
  // retry (it would refuse again); the run ends unresolved and the sweep resumes it from VerifyCost.
  if (payment.attemptCount === 0 && !payment.verifiedAt) {
    throw new ConflictError(`payment ${payment.id}: the order's cost is not verified`, 'cost_not_verified');
  }
  // A QR order or wallet charge whose answer was lost is abandoned by Authorize, never inquired.
  if (payment.paymentMethod.type !== 'card') return result('retry', null, payment);
  if (!attempt || attempt.state === 'not_found') return result('retry', null, payment);
  if (attempt.state === 'authorized' || attempt.state === 'captured') {
    return result('authorized', 'payment.authorized', payment);
  }

  const charge = await deps.kbank.inquireCharge(
    attempt.chargeId ? { chargeId: attempt.chargeId } : { referenceOrder: attempt.referenceOrder },
  );
  if (!charge) {
    const next = await record(
      deps,
      payment,
      {
        type: 'authorization.not_found',
        status: payment.status === 'unknown' ? 'processing' : payment.status,
        detail: { referenceOrder: attempt.referenceOrder, chargeCalls: attempt.chargeCalls },
      },
      { ...attempt, state: 'not_found' },
    );
    // Back to the charge step, which re-sends with the same reference or fails once calls are used up.
    return result('retry', null, next);
  }
  const final = await recordCharge(deps, payment, attempt, charge);
  if (final) return final;
  throw new OutcomeStillUnknown(`charge for ${attempt.referenceOrder} is still ${charge.state}`);
});
