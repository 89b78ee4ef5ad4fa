/**
 * Use case: the merchant captures an authorized payment (all of it, or part: the rest is released).
 * The request is recorded first — conditioned on the payment's version, so of two racing requests
 * (capture/capture or capture/cancel) exactly one wins — then the parked saga is resumed.
 */

import { ConflictError, ValidationError } from '../../errors.js';
import { handToSweep } from '../../flows/hand-to-sweep.js';
import {
  type ManualCaptureDeps,
  onLatestVersion,
  ownedPayment,
  type PaymentCommand,
} from '../../flows/merchant-requests.js';
import { applyStep, type Payment } from '../../payment.js';
import { assertPointsKept } from '../../points.js';
import type { CaptureCallback } from '../../saga-contract.js';
import { eventDetail } from '../../views.js';

/** The payment with the capture recorded and handed to its saga (the answer is `202` with it). */
export async function requestCapture(
  deps: ManualCaptureDeps,
  command: PaymentCommand & { amount?: number },
): Promise<Payment> {
  return onLatestVersion(async () => {
    const payment = await ownedPayment(deps.repo, command.merchantId, command.paymentId);
    const requested = capturableRequest(payment, command.amount, command.idempotencyKey);
    // A retry after a crash between recording and resuming: resume again.
    if (requested.alreadyRecorded) return resume(deps, payment);
    assertPointsKept(payment, requested.amount);

    const change = applyStep(
      payment,
      {
        type: 'payment.capture_requested',
        actor: 'api',
        status: 'processing',
        patch: { amountToCapture: requested.amount, requestKey: command.idempotencyKey },
        detail: {
          amount: requested.amount,
          released: (payment.amountCapturable ?? 0) - requested.amount,
        },
      },
      deps.clock.now(),
    );
    await deps.repo.commit(change);
    return resume(deps, change.next);
  });
}

function capturableRequest(payment: Payment, amount: number | undefined, key: string) {
  if (payment.status === 'processing' && payment.captureToken && payment.requestKey === key) {
    return { alreadyRecorded: true, amount: payment.amountToCapture ?? 0 };
  }
  if (payment.status !== 'requires_capture' || payment.amountCapturable === undefined) {
    throw new ConflictError(
      payment.captureMethod === 'automatic'
        ? `Payment ${payment.id} is captured automatically.`
        : `Payment ${payment.id} is ${payment.status}; only a payment in requires_capture can be captured.`,
      'payment_not_capturable',
    );
  }
  const capturable = payment.amountCapturable;
  const wanted = amount ?? capturable;
  if (wanted > capturable) {
    throw new ValidationError(`At most ${capturable} can be captured.`, [
      { field: 'amount', message: `must be at most ${capturable}` },
    ]);
  }
  return { alreadyRecorded: false, amount: wanted };
}

async function resume(deps: ManualCaptureDeps, payment: Payment): Promise<Payment> {
  const resumed =
    payment.captureToken !== undefined &&
    (await deps.tasks.succeed(payment.captureToken, {
      outcome: 'capture_requested',
      event: eventDetail('payment.capture_requested', payment),
    } satisfies CaptureCallback));
  if (!resumed) await handToSweep(deps, payment);
  return payment;
}
