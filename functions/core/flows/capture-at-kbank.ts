/**
 * Capturing an authorized charge at KBank: the Capture step's work, which the void shares (a capture the
 * merchant asked for is carried out, not voided; a void that finds the charge settled records it captured).
 * Retry-safe without a write-ahead record: the charge is already tracked by id, so an unclear answer is
 * resolved by inquiring it.
 */
import { ConflictError, KbankOutcomeUnknown, KbankRejected } from '../errors.js';
import type { Attempt, Payment } from '../payment.js';
import type { KbankCharge } from '../ports.js';
import { loadAttempt, loadPayment, record, result, type SagaDeps, type StepResult } from './payment-step.js';
import { capturePoints, kbankAmount } from './points-tender.js';

/**
 * Settles the payment's authorized charge at KBank (what may be captured: all of it, or the part a manual
 * capture asked for) and records it; a payment already captured is answered from the record.
 */
export async function capturePayment(deps: SagaDeps, paymentId: string): Promise<StepResult<'captured'>> {
  const payment = await loadPayment(deps.repo, paymentId);
  if (payment.status === 'succeeded') return result('captured', 'payment.captured', payment);
  if (payment.paymentMethod.type === 'points') return capturePoints(deps, payment);
  const attempt = await loadAttempt(deps.repo, payment);
  if (!attempt?.chargeId || attempt.state !== 'authorized') {
    throw new ConflictError(`payment ${payment.id} has no authorized charge to capture`, 'not_capturable');
  }
  const chargeId = attempt.chargeId;
  // Manual capture may take less than was authorized: KBank settles that part and releases the rest.
  const amount = payment.amountToCapture ?? payment.amountAuthorized;
  const type = amount === payment.amountAuthorized ? 'full' : 'partial';

  let charge: KbankCharge;
  try {
    // A split's points are spent whole: KBank settles the rest of what is captured.
    charge = await deps.kbank.settleCharge(chargeId, kbankAmount(payment, amount), payment.currency, type);
  } catch (error) {
    if (!(error instanceof KbankOutcomeUnknown || error instanceof KbankRejected)) throw error;
    // Did an earlier or this very call settle it after all? Ask before deciding.
    const seen = await deps.kbank.inquireCharge({ chargeId });
    if (seen?.state !== 'Settled') throw error;
    charge = seen;
  }
  if (charge.state !== 'Settled') {
    throw new KbankOutcomeUnknown(`settle of ${chargeId} answered ${charge.state}`);
  }
  return recordCaptured(deps, payment, attempt, charge);
}

/** Records the charge KBank settled: the payment `succeeded` with the amount captured. */
export async function recordCaptured(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  charge: KbankCharge,
): Promise<StepResult<'captured'>> {
  const captured = await record(
    deps,
    payment,
    {
      type: 'payment.captured',
      status: 'succeeded',
      patch: {
        amountCaptured: payment.amountToCapture ?? payment.amountAuthorized,
        amountCapturable: undefined,
        captureToken: undefined,
        requestKey: undefined,
      },
      detail: { chargeId: charge.chargeId, amount: payment.amountToCapture ?? payment.amountAuthorized },
    },
    { ...attempt, state: 'captured', kbankState: charge.state },
  );
  return result('captured', 'payment.captured', captured);
}
