/**
 * Saga step FailPayment: a failure before any money was authorized ends the payment as `failed` with a
 * merchant-readable reason. Money that may be held is never failed here: that is the void's job.
 */
import { ConflictError } from '../../errors.js';
import {
  failureFromTaskError,
  loadAttempt,
  loadPayment,
  record,
  result,
  sagaStep,
} from '../../flows/payment-step.js';

export const failPayment = sagaStep('failPayment', async (deps, input) => {
  const payment = await loadPayment(deps.repo, input.paymentId);
  if (payment.status === 'failed') return result('failed', 'payment.failed', payment);
  const attempt = await loadAttempt(deps.repo, payment);
  const mayHoldMoney =
    payment.status === 'unknown' || attempt?.state === 'pending' || attempt?.state === 'unknown';
  if (payment.amountAuthorized > 0 || mayHoldMoney) {
    throw new ConflictError(
      `payment ${payment.id} may hold money at KBank; refusing to fail it`,
      'may_hold_money',
    );
  }
  const failed = await record(deps, payment, {
    type: 'payment.failed',
    status: 'failed',
    patch: { failure: failureFromTaskError(input.error) },
    detail: { error: input.error?.Error ?? null },
  });
  return result('failed', 'payment.failed', failed);
});
