/**
 * Saga task AwaitCapture (manual capture): park the saga on its task token. Records `requires_capture`
 * with what may be captured and until when, and keeps the token so the capture or cancel request can
 * resume the saga.
 */
import { ConflictError } from '../errors.js';
import { loadPayment, record, type SagaDeps } from './saga.js';

export async function awaitCapture(
  deps: SagaDeps,
  input: { paymentId: string; taskToken: string; captureWindowSeconds: number },
): Promise<{ outcome: 'waiting' }> {
  const payment = await loadPayment(deps.repo, input.paymentId);
  if (payment.status === 'requires_capture' && payment.captureToken === input.taskToken)
    return { outcome: 'waiting' };
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
}
