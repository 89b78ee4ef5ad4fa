/** Handing a payment whose saga could not be resumed to the reconciliation sweep. */
import type { Payment } from '../payment.js';
import type { Clock } from '../ports.js';
import type { PaymentRepository } from '../repository.js';

/**
 * A request (or a paid callback) is recorded but its saga could not take it (the wait ended, the execution
 * died or was lost): the payment is made due now, and the reconciliation sweep restarts its saga, which finds
 * the request on the record and carries it out. So a 202 is never an answer for work that nothing will do.
 */
export async function handToSweep(
  deps: { repo: Pick<PaymentRepository, 'markDue'>; clock: Clock },
  payment: Payment,
): Promise<void> {
  await deps.repo.markDue(payment.id, deps.clock.now().toISOString());
}
