/**
 * Saga step VerifyCost: the order must cost exactly the payment's amount, or the payment is rejected. Only a
 * rejection is written here: a confirmed cost travels to Authorize, which records it (`cost.verified`) in its
 * write-ahead, the commit the saga makes anyway before KBank is called.
 */
import { loadPayment, record, result, type StepResult, sagaStep } from '../../flows/payment-step.js';
import { isTerminal } from '../../payment.js';
import type { CostVerification } from '../../saga-contract.js';

export const verifyCost = sagaStep('verifyCost', async (deps, input) => {
  const payment = await loadPayment(deps.repo, input.paymentId);
  if (payment.status === 'rejected') return verdict(result('rejected', 'payment.rejected', payment));
  if (payment.verifiedAt || isTerminal(payment.status)) return verdict(result('verified', null, payment));

  const quote = await deps.cost.quote({
    orderId: payment.order.id,
    currency: payment.currency,
    lines: payment.order.lines,
  });
  if (quote.totalAmount !== payment.amount || quote.currency !== payment.currency) {
    const rejected = await record(deps, payment, {
      type: 'payment.rejected',
      status: 'rejected',
      patch: {
        failure: {
          code: 'cost_mismatch',
          message: `The order costs ${quote.totalAmount} ${quote.currency}, not ${payment.amount} ${payment.currency}.`,
        },
      },
      detail: { expectedAmount: quote.totalAmount, expectedCurrency: quote.currency, amount: payment.amount },
    });
    return verdict(result('rejected', 'payment.rejected', rejected));
  }
  return verdict(result('verified', null, payment), {
    totalAmount: quote.totalAmount,
    verifiedAt: deps.clock.now().toISOString(),
  });
});

function verdict<O extends string>(answer: StepResult<O>, verification: CostVerification | null = null) {
  return { ...answer, verification };
}
