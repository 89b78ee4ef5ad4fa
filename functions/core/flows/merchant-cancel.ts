/**
 * The merchant's cancel as the API and the saga share it: the reason recorded on the payment (and sent to
 * KBank), the task error that fails the saga's parked wait, and whether a recorded cancel is still to be
 * carried out.
 */
import type { Payment } from '../payment.js';

/** The payment's `cancellationReason` once the merchant asked to cancel; also the reason sent to KBank. */
export const REQUESTED_BY_MERCHANT = 'requested_by_merchant';

/** The error name a parked saga task is failed with when the merchant cancels (the ASL catches it). */
export const CANCELED_BY_MERCHANT = 'PaymentCanceled';

/** The merchant's cancel is recorded and the saga has not carried it out yet. */
export function cancelRequested(payment: Payment): boolean {
  return payment.status === 'processing' && payment.cancellationReason === REQUESTED_BY_MERCHANT;
}
