/**
 * Use case: the merchant cancels a payment that is not captured yet: one in `requires_capture` (the
 * authorization is voided) or one still waiting for the customer in `requires_action` (the QR order is
 * canceled or the charge voided at KBank). The cancel is recorded first, conditioned on the payment's
 * version, so of a racing capture, cancel or customer's payment exactly one is recorded first and wins;
 * then the parked saga is failed with `PaymentCanceled` and carries it out.
 */
import { ConflictError } from '../../errors.js';
import { type ContentionPolicy, DEFAULT_CONTENTION, retryOnStaleWrite } from '../../flows/contention.js';
import { handToSweep } from '../../flows/hand-to-sweep.js';
import { CANCELED_BY_MERCHANT, cancelRequested, REQUESTED_BY_MERCHANT } from '../../flows/merchant-cancel.js';
import { type ManualCaptureDeps, ownedPayment, type PaymentCommand } from '../../flows/merchant-requests.js';
import { applyStep, type Payment } from '../../payment.js';

export interface CancelPaymentDeps extends ManualCaptureDeps {
  /** How long a cancel that lost the payment's version to a note (a callback, the saga's wait) re-reads. */
  contention?: ContentionPolicy;
}

/**
 * A payment waiting for the customer still takes writes that do not change its status (the saga storing
 * its token): the cancel re-reads and decides again for up to 3 s, within the API's answer time.
 */
const CANCEL_CONTENTION: ContentionPolicy = { ...DEFAULT_CONTENTION, maxDelayMs: 200, budgetMs: 3000 };

/** The payment with the cancel recorded and handed to its saga (the answer is `202` with it). */
export async function cancelPayment(deps: CancelPaymentDeps, command: PaymentCommand): Promise<Payment> {
  return resume(deps, await recordCancel(deps, command));
}

/** The payment with this request's cancel recorded (now, or by an earlier try with the same key). */
async function recordCancel(deps: CancelPaymentDeps, command: PaymentCommand): Promise<Payment> {
  // A payment changed continuously for the whole budget answers 409 stale_write, not stored: retry it.
  return retryOnStaleWrite(deps.contention ?? CANCEL_CONTENTION, async () => {
    const payment = await ownedPayment(deps.repo, command.merchantId, command.paymentId);
    // A retry after a crash between recording and resuming: resume again.
    if (cancelRequested(payment) && payment.requestKey === command.idempotencyKey) return payment;
    const change = applyStep(
      payment,
      {
        type: 'payment.cancel_requested',
        actor: 'api',
        status: 'processing',
        patch: { cancellationReason: REQUESTED_BY_MERCHANT, requestKey: command.idempotencyKey },
        detail: cancelableDetail(payment),
      },
      deps.clock.now(),
    );
    await deps.repo.commit(change);
    return change.next;
  });
}

/** What the cancel releases, or a 409 when the payment cannot be canceled (any more). */
function cancelableDetail(payment: Payment): Record<string, unknown> {
  if (payment.status === 'requires_capture') {
    return { amountReleased: payment.amountCapturable ?? payment.amountAuthorized };
  }
  if (payment.status === 'requires_action') return { nextAction: payment.nextAction?.type ?? null };
  if (cancelRequested(payment)) {
    throw new ConflictError(
      `Payment ${payment.id} is already being canceled by another request.`,
      'payment_cancel_in_progress',
    );
  }
  throw new ConflictError(
    `Payment ${payment.id} is ${payment.status} and can no longer be canceled.`,
    'payment_not_cancelable',
  );
}

/**
 * Fails the saga's parked task: the capture wait's token once there is one (the customer's step is over
 * by then), else the customer wait's. Without a token yet, the saga's next wait fails itself.
 */
async function resume(deps: ManualCaptureDeps, payment: Payment): Promise<Payment> {
  const token = payment.captureToken ?? payment.actionToken;
  const resumed =
    token !== undefined &&
    (await deps.tasks.fail(token, CANCELED_BY_MERCHANT, 'The merchant canceled the payment.'));
  // No saga took it (no token yet, or the wait is over): the sweep restarts the saga, which carries it out.
  if (!resumed) await handToSweep(deps, payment);
  return payment;
}
