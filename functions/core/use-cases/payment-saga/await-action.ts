/**
 * Saga task AwaitAction (callback): park the saga on its task token while the customer scans the QR or
 * finishes KBank's page. The token goes on the payment, where the callback processor and the cancel API
 * find it; the wait's TimeoutSeconds is the time left before `nextAction` expires. A cancel recorded while
 * the saga held no token (before its first wait, or between two) is carried out at once by failing the
 * task itself.
 */
import { ConflictError } from '../../errors.js';
import { CANCELED_BY_MERCHANT, cancelRequested } from '../../flows/merchant-cancel.js';
import { loadPayment, record, sagaStep } from '../../flows/payment-step.js';

export const awaitAction = sagaStep('awaitAction', async (deps, input) => {
  const payment = await loadPayment(deps.repo, input.paymentId);
  if (payment.actionToken === input.taskToken) return { outcome: 'waiting' };
  if (cancelRequested(payment)) {
    await deps.tasks.fail(input.taskToken, CANCELED_BY_MERCHANT, 'The merchant canceled the payment.');
    return { outcome: 'waiting' };
  }
  if (payment.status !== 'requires_action') {
    // Resolved in the meantime (nothing resolves it without the saga today): let ResolveAction decide.
    throw new ConflictError(`payment ${payment.id} is ${payment.status}, not requires_action`, 'not_waiting');
  }
  await record(deps, payment, {
    type: 'action.wait_started',
    patch: { actionToken: input.taskToken },
    detail: { expiresAt: payment.nextAction?.expiresAt },
  });
  return { outcome: 'waiting' };
});
