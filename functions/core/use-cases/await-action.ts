/**
 * Saga task AwaitAction (callback): park the saga on its task token while the customer scans the QR or
 * finishes KBank's page. The token goes on the payment, where the callback processor finds it; the
 * wait's TimeoutSeconds is the time left before `nextAction` expires.
 */
import { ConflictError } from '../errors.js';
import { loadPayment, record, type SagaDeps } from './saga.js';

export async function awaitAction(
  deps: SagaDeps,
  input: { paymentId: string; taskToken: string },
): Promise<{ outcome: 'waiting' }> {
  const payment = await loadPayment(deps.repo, input.paymentId);
  if (payment.actionToken === input.taskToken) return { outcome: 'waiting' };
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
}
