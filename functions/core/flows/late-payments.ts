/**
 * Late payments: money KBank took for a payment that no longer wants it (it had expired, failed or been
 * canceled when the customer paid), found by a callback or by the daily KBank reconciliation.
 */
import type { Payment } from '../payment.js';
import type { Clock, Kbank, KbankCharge, KbankQrCharge } from '../ports.js';
import type { PaymentRepository } from '../repository.js';
import { reverseCharge } from './customer-charges.js';
import { recordNote } from './notes.js';

/**
 * Money arrived for a payment that no longer wants it: give it back at KBank, recorded before (so a
 * crash in between is visible) and after. A reversal already recorded is not repeated (one marker, shared
 * with the daily KBank reconciliation); a repeated call after a crash is refused by KBank as an
 * over-refund and ends in the dead-letter queue (runbook). Returns false when it was already reversed.
 */
export async function reverseLatePayment(
  deps: { repo: PaymentRepository; kbank: Kbank; clock: Clock },
  payment: Payment,
  charge: KbankQrCharge | KbankCharge,
): Promise<boolean> {
  const done = `${charge.chargeId}:reversed`;
  if (payment.callbacksSeen?.includes(done) || (await deps.repo.hasMarker(payment.id, `callback:${done}`))) {
    return false;
  }
  await recordNote(deps, payment, {
    actor: 'kbank',
    type: 'late_payment.detected',
    detail: { chargeId: charge.chargeId, amount: charge.amount, kbankState: charge.state },
  });
  const reversed = await reverseCharge(deps.kbank, payment, charge, 'late_payment');
  await deps.repo.claimMarker(payment.id, `callback:${done}`, deps.clock.now().toISOString());
  await recordNote(deps, payment, {
    actor: 'kbank',
    type: 'late_payment.reversed',
    detail: {
      chargeId: charge.chargeId,
      amount: charge.amount,
      via: reversed.via,
      kbankState: reversed.state,
    },
  });
  return true;
}
