/**
 * Refund saga step RefundAtKbank: mark the refund as sent (write-ahead: KBank has no idempotency key, so a
 * refund that may have been sent is never sent again until an inquiry found it not carried out), call
 * KBank's refund for the payment's charge, and record the answer. A lost answer is `unknown`: the inquiry
 * step decides, never a guess.
 */
import { ConflictError, KbankOutcomeUnknown, KbankRejected, KbankUnavailable } from '../../errors.js';
import { recordNote } from '../../flows/notes.js';
import { loadAttempt } from '../../flows/payment-step.js';
import { loadRefund, recordResolution, refundStep, resolvedResult } from '../../flows/refund-step.js';
import { isQrMethod } from '../../payment.js';
import type { KbankCharge, KbankQrCharge } from '../../ports.js';
import { mayBeAtKbank, type Refund, refundKbankAmount } from '../../refund.js';

export const refundAtKbank = refundStep('refundAtKbank', async (deps, input) => {
  const { payment, refund } = await loadRefund(deps.repo, input);
  const resolved = resolvedResult(payment, refund);
  if (resolved) return resolved;
  // Sent before (a retried step, or a crash after sending): only an inquiry may tell what happened. A
  // refund left `unknown` whose every request an inquiry found not carried out is sent again.
  if (mayBeAtKbank(refund)) return { outcome: 'unknown', event: null };
  // All of it in points (a points payment, or a split's money already refunded): nothing for KBank.
  if (refundKbankAmount(refund) === 0) {
    return recordResolution(deps, input, { status: 'succeeded', detail: { points: refund.points ?? 0 } });
  }

  const attempt = await loadAttempt(deps.repo, payment);
  if (!attempt?.chargeId || attempt.state !== 'captured') {
    throw new ConflictError(`payment ${payment.id} has no captured charge to refund`, 'no_captured_charge');
  }
  const chargeId = attempt.chargeId;
  const now = deps.clock.now().toISOString();
  const sending: Refund = {
    ...refund,
    kbankCalls: refund.kbankCalls + 1,
    sentAt: now,
    chargeId,
    updatedAt: now,
  };
  await deps.repo.updateRefund(sending, refund);

  let charge: KbankCharge | KbankQrCharge;
  try {
    charge = isQrMethod(payment.paymentMethod)
      ? await deps.kbank.refundQr(chargeId, refundKbankAmount(refund), refund.currency, refund.reason)
      : await deps.kbank.refundCharge(chargeId, refundKbankAmount(refund), refund.currency, refund.reason);
  } catch (error) {
    if (error instanceof KbankUnavailable) {
      // The request never left us: KBank cannot have refunded, so take the marker back and let the
      // state machine's retry send it.
      await deps.repo.updateRefund({ ...sending, kbankCalls: refund.kbankCalls }, sending);
      throw error;
    }
    if (error instanceof KbankRejected && refund.kbankCalls > 0) {
      // A resend refused (e.g. `amount_exceeds_refundable`) may mean an earlier request was carried out
      // after the inquiry looked: KBank's total decides, never this refusal.
      await recordNote(deps, payment, {
        type: 'refund.resend_refused',
        actor: 'saga',
        detail: { refundId: refund.id, sends: sending.kbankCalls, kbankCode: error.kbankCode, chargeId },
      });
      return { outcome: 'unknown', event: null };
    }
    if (error instanceof KbankRejected) {
      return recordResolution(deps, input, {
        status: 'failed',
        failure: { code: error.kbankCode, message: 'The payment processor refused the refund.' },
        detail: { chargeId, kbankCode: error.kbankCode, httpStatus: error.httpStatus },
      });
    }
    if (error instanceof KbankOutcomeUnknown) return { outcome: 'unknown', event: null };
    throw error;
  }
  if (charge.status === 'success' && charge.state === 'Refund Sent') {
    return recordResolution(deps, input, {
      status: 'succeeded',
      kbankState: charge.state,
      detail: { chargeId, kbankState: charge.state },
    });
  }
  // A 2xx that does not say "refunded": we cannot tell, so the inquiry decides.
  return { outcome: 'unknown', event: null };
});
