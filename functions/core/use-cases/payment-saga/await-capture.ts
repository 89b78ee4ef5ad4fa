/**
 * Saga task AwaitCapture (manual capture): park the saga on its task token. The first time it records
 * `requires_capture` with what may be captured and until when; after an amount change it only hands the
 * saga's new token to the payment. A capture or cancel recorded while the saga held no token (between an
 * amount change and this task) is carried out at once by resuming the task itself.
 */
import { ConflictError } from '../../errors.js';
import { CANCELED_BY_MERCHANT } from '../../flows/merchant-cancel.js';
import { loadPayment, record, sagaStep } from '../../flows/payment-step.js';
import type { CaptureCallback } from '../../saga-contract.js';
import { eventDetail } from '../../views.js';

export const awaitCapture = sagaStep('awaitCapture', async (deps, input) => {
  const payment = await loadPayment(deps.repo, input.paymentId);
  if (payment.captureToken === input.taskToken) return { outcome: 'waiting' };

  if (payment.status === 'processing' && payment.captureBefore && payment.requestKey) {
    if (payment.cancellationReason === 'requested_by_merchant') {
      await deps.tasks.fail(input.taskToken, CANCELED_BY_MERCHANT, 'The merchant canceled the payment.');
    } else {
      await deps.tasks.succeed(input.taskToken, {
        outcome: 'capture_requested',
        event: eventDetail('payment.capture_requested', payment),
      } satisfies CaptureCallback);
    }
    return { outcome: 'waiting' };
  }
  if (payment.status === 'requires_capture') {
    await record(deps, payment, { type: 'capture.wait_renewed', patch: { captureToken: input.taskToken } });
    return { outcome: 'waiting' };
  }
  if (payment.status !== 'processing' || payment.amountAuthorized <= 0) {
    throw new ConflictError(
      `payment ${payment.id} is ${payment.status}, not awaiting capture`,
      'not_capturable',
    );
  }
  const captureBefore = new Date(
    deps.clock.now().getTime() + input.captureWindowSeconds * 1000,
  ).toISOString();
  await record(deps, payment, {
    type: 'payment.requires_capture',
    status: 'requires_capture',
    patch: { amountCapturable: payment.amountAuthorized, captureBefore, captureToken: input.taskToken },
    detail: { amountCapturable: payment.amountAuthorized, captureBefore },
  });
  return { outcome: 'waiting' };
});
