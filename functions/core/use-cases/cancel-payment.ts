/**
 * Use case: the merchant cancels a payment that is not captured yet. Recorded first (conditioned on the
 * payment's version, so a racing capture or cancel loses with 409), then the parked saga is failed with
 * `PaymentCanceled` and its compensation voids the authorization at KBank.
 */
import { ConflictError } from '../errors.js';
import { applyStep, type Payment } from '../payment.js';
import { paymentView } from '../views.js';
import { idempotent } from './idempotent.js';
import { ownedPayment } from './read-payments.js';
import {
  commitOrConflict,
  type ManualCaptureDeps,
  type PaymentCommand,
  type PaymentResponse,
} from './request-capture.js';

export const CANCELED_BY_MERCHANT = 'PaymentCanceled';

export async function cancelPayment(
  deps: ManualCaptureDeps,
  command: PaymentCommand,
): Promise<{ response: PaymentResponse; replayed: boolean }> {
  // Another merchant's or an unknown payment is refused before anything is written under the key.
  await ownedPayment(deps.repo, command.merchantId, command.paymentId);
  return idempotent(
    deps,
    {
      merchantId: command.merchantId,
      operation: 'POST /v1/payments/{id}/cancel',
      key: command.idempotencyKey,
      request: { paymentId: command.paymentId },
      resourceId: command.paymentId,
    },
    async () => {
      const payment = await ownedPayment(deps.repo, command.merchantId, command.paymentId);
      const retried =
        payment.status === 'processing' &&
        payment.captureToken &&
        payment.requestKey === command.idempotencyKey;
      if (retried) return resume(deps, payment);
      if (payment.status !== 'requires_capture') {
        throw new ConflictError(
          `Payment ${payment.id} is ${payment.status} and can no longer be canceled.`,
          'payment_not_cancelable',
        );
      }
      const change = applyStep(
        payment,
        {
          type: 'payment.cancel_requested',
          actor: 'api',
          status: 'processing',
          patch: { cancellationReason: 'requested_by_merchant', requestKey: command.idempotencyKey },
          detail: { amountReleased: payment.amountCapturable ?? payment.amountAuthorized },
        },
        deps.clock.now(),
      );
      await commitOrConflict(deps.repo, change);
      return resume(deps, change.next);
    },
    command.refusal,
  );
}

async function resume(deps: ManualCaptureDeps, payment: Payment): Promise<PaymentResponse> {
  if (payment.captureToken) {
    await deps.tasks.fail(payment.captureToken, CANCELED_BY_MERCHANT, 'The merchant canceled the payment.');
  }
  return { statusCode: 202, body: paymentView(payment) };
}
