/**
 * KBank callbacks: the notify webhook and the 3-D Secure browser return.
 *
 * `acceptNotify` runs in the webhook endpoint: it finds the attempt the notify names, verifies the
 * checksum against OUR stored amount and currency, and queues it durably before KBank gets its 2xx. A
 * forged or tampered notify is refused and recorded on the payment, changing nothing else.
 *
 * `processCallback` runs from the queue: it never trusts the message. It asks KBank for the charge, checks
 * that the charge belongs to the attempt, records the callback on the payment (a repeat of the same
 * charge and state is recorded as a duplicate) and then acts: it resumes the waiting saga, or gives back
 * money KBank took for a payment that had already ended, so that no charge is silently kept.
 */

import type { KbankCallback } from '../../../../schemas/callbacks.js';
import { NotFoundError, NotifyChecksumMismatch, SagaNotWaitingYet, ValidationError } from '../../errors.js';
import { chargeVerdict, inquireAttempt } from '../../flows/customer-charges.js';
import { handToSweep } from '../../flows/hand-to-sweep.js';
import { reverseLatePayment } from '../../flows/late-payments.js';
import { recordNote } from '../../flows/notes.js';
import { kbankAmount } from '../../flows/points-tender.js';
import { type Attempt, isTerminal, type Payment, parseReferenceOrder } from '../../payment.js';
import type {
  Clock,
  Kbank,
  KbankCharge,
  KbankNotifyResult,
  KbankQrCharge,
  NotificationQueue,
  TaskNotifier,
} from '../../ports.js';
import type { PaymentRepository } from '../../repository.js';
import type { ActionCallback } from '../../saga-contract.js';

/** The notify parser, bound to the KBank secret (functions/adapters/kbank-client.ts). */
export interface NotifyReader {
  /** The ids the body claims, unverified; null when it is not a notify. */
  reference(body: unknown): { chargeId: string; orderId?: string; referenceOrder?: string } | null;
  verify(
    body: unknown,
    expected: { amount: number; currency: Payment['currency'] },
  ): Promise<KbankNotifyResult>;
}

export interface CallbackIntakeDeps {
  repo: PaymentRepository;
  queue: NotificationQueue;
  notify: NotifyReader;
  clock: Clock;
}

export async function acceptNotify(
  deps: CallbackIntakeDeps,
  body: unknown,
): Promise<{ paymentId: string; chargeId: string; state: string }> {
  const reference = deps.notify.reference(body);
  if (!reference) throw new ValidationError('The body is not a KBank notify.', []);
  const target = reference.referenceOrder ? parseReferenceOrder(reference.referenceOrder) : null;
  const payment = target ? await deps.repo.get(target.paymentId) : null;
  if (!target || !payment) throw new NotFoundError(`No payment for charge ${reference.chargeId}.`);

  const verified = await deps.notify.verify(body, {
    amount: kbankAmount(payment),
    currency: payment.currency,
  });
  if (!verified.ok) {
    await recordNote(deps, payment, {
      actor: 'kbank',
      type: 'notification.rejected',
      detail: { source: 'notify', chargeId: reference.chargeId, reason: verified.reason },
    });
    if (verified.reason === 'malformed') throw new ValidationError('The notify is malformed.', []);
    throw new NotifyChecksumMismatch(`The checksum of the notify for ${reference.chargeId} does not match.`);
  }
  const { notification } = verified;
  await deps.queue.send({
    source: 'notify',
    paymentId: payment.id,
    attemptNo: target.no,
    chargeId: notification.chargeId,
    state: notification.state,
    receivedAt: deps.clock.now().toISOString(),
  });
  return { paymentId: payment.id, chargeId: notification.chargeId, state: notification.state };
}

/** The browser return carries only a charge id, claimed by a browser: queue it, the processor checks. */
export async function acceptBrowserReturn(
  deps: Pick<CallbackIntakeDeps, 'queue' | 'clock'>,
  form: { objectId?: string; status?: string },
): Promise<void> {
  const chargeId = form.objectId?.trim() ?? '';
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(chargeId)) {
    throw new ValidationError('objectId is missing or malformed.', [
      { field: 'objectId', message: 'a KBank charge id is required' },
    ]);
  }
  await deps.queue.send({
    source: 'browser_return',
    chargeId,
    status: (form.status ?? '').slice(0, 20),
    receivedAt: deps.clock.now().toISOString(),
  });
}

export interface CallbackProcessorDeps {
  /** markDue: a paid callback whose saga cannot be resumed is handed to the reconciliation sweep. */
  repo: PaymentRepository;
  kbank: Kbank;
  tasks: TaskNotifier;
  clock: Clock;
}

/** How long a paid callback waits (redelivered) for the saga to store its token before the sweep takes over. */
export const TOKEN_GRACE_MS = 30_000;

/**
 * The receive on which a paid callback still waiting for a token is handed to the sweep instead of coming
 * back: the queue's maxReceiveCount must be above it (an infra test checks), so such a callback never ends
 * in the dead letters, however fast the queue redelivers.
 */
export const LAST_TOKEN_WAIT_RECEIVE = 4;

/** What the queue says about this receive of the message (SQS ApproximateReceiveCount). */
export interface CallbackDelivery {
  receiveCount: number;
}

export type CallbackOutcome =
  | 'resumed'
  /** The saga could not be resumed (it ended or was lost): the sweep restarts it, and its inquiry decides. */
  | 'handed_to_sweep'
  | 'recorded'
  | 'duplicate'
  | 'reversed'
  | 'unknown_charge';

export async function processCallback(
  deps: CallbackProcessorDeps,
  message: KbankCallback,
  delivery: CallbackDelivery = { receiveCount: 1 },
): Promise<CallbackOutcome> {
  const found = await locate(deps, message);
  if (!found) return 'unknown_charge';
  const { payment, attempt, charge } = found;
  const key = `${charge.chargeId}:${message.source === 'notify' ? message.state : 'browser_return'}`;
  const verdict = chargeVerdict(charge);
  const current = attempt.no === payment.attemptCount;

  if (current && payment.status === 'requires_action') {
    if (verdict !== 'pending' && !payment.actionToken) {
      // The token follows requires_action within moments; a payment without one for longer lost its saga
      // (a crash between the two): the sweep restarts it, and its inquiry finds the payment. A saga that
      // is only late loses nothing: the sweep leaves a running execution alone, and it finds the payment
      // by its own inquiry when its wait ends.
      const since = deps.clock.now().getTime() - Date.parse(payment.updatedAt);
      if (since < TOKEN_GRACE_MS && delivery.receiveCount < LAST_TOKEN_WAIT_RECEIVE) {
        throw new SagaNotWaitingYet(`payment ${payment.id} has no task token yet`);
      }
      await recordCallback(deps, payment, message, charge, key);
      await handToSweep(deps, payment);
      return 'handed_to_sweep';
    }
    const duplicate = await recordCallback(deps, payment, message, charge, key);
    if (verdict === 'pending' || !payment.actionToken) return duplicate ? 'duplicate' : 'recorded';
    if (await deps.tasks.succeed(payment.actionToken, { outcome: 'notified' } satisfies ActionCallback))
      return 'resumed';
    await handToSweep(deps, payment);
    return 'handed_to_sweep';
  }
  const duplicate = await recordCallback(deps, payment, message, charge, key);
  if (
    verdict === 'paid' &&
    !holdsCharge(payment, current) &&
    (await reverseLatePayment(deps, payment, charge))
  ) {
    return 'reversed';
  }
  return duplicate ? 'duplicate' : 'recorded';
}

/**
 * The payment and attempt a callback is about, with KBank's own view of the charge. Null (logged by the
 * caller) when KBank does not know the charge or it is not one of our attempts.
 */
async function locate(
  deps: CallbackProcessorDeps,
  message: KbankCallback,
): Promise<{ payment: Payment; attempt: Attempt; charge: KbankQrCharge | KbankCharge } | null> {
  let paymentId: string;
  let no: number;
  let charge: KbankQrCharge | KbankCharge | null = null;
  if (message.source === 'notify') {
    paymentId = message.paymentId;
    no = message.attemptNo;
  } else {
    // Only 3-D Secure cards come back through the browser.
    charge = await deps.kbank.inquireCharge({ chargeId: message.chargeId });
    const target = charge ? parseReferenceOrder(charge.referenceOrder) : null;
    if (!target) return null;
    ({ paymentId, no } = target);
  }
  const payment = await deps.repo.get(paymentId);
  const attempt = payment ? await deps.repo.getAttempt(paymentId, no) : null;
  if (!payment || !attempt) return null;
  charge ??= await inquireAttempt(deps.kbank, payment, attempt, message.chargeId);
  if (!charge || charge.referenceOrder !== attempt.referenceOrder) return null;
  return { payment, attempt, charge };
}

/** Whether the payment's own record accounts for this charge's money (the saga owns it then). */
function holdsCharge(payment: Payment, current: boolean): boolean {
  return current && (payment.status === 'succeeded' || !isTerminal(payment.status));
}

/**
 * Records a callback as a note (received, or duplicate when its charge and state were seen before) and
 * returns whether it was a duplicate. Nothing here takes the payment's version: replays and floods of
 * callbacks cannot delay the saga.
 */
async function recordCallback(
  deps: CallbackProcessorDeps,
  payment: Payment,
  message: KbankCallback,
  charge: KbankQrCharge | KbankCharge,
  key: string,
): Promise<boolean> {
  const first = await deps.repo.claimMarker(payment.id, `callback:${key}`, deps.clock.now().toISOString());
  // Payments recorded before markers kept the keys on the payment itself.
  const duplicate = !first || (payment.callbacksSeen?.includes(key) ?? false);
  await recordNote(deps, payment, {
    actor: 'kbank',
    type: duplicate ? 'notification.duplicate' : 'notification.received',
    detail: {
      source: message.source,
      chargeId: charge.chargeId,
      claimedState: message.source === 'notify' ? message.state : message.status,
      kbankState: charge.state,
      receivedAt: message.receivedAt,
    },
  });
  return duplicate;
}
