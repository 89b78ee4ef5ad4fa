/** Saga step VerifyCost: the order must cost exactly the payment's amount, or the payment is rejected. */
import { loadPayment, record, result, sagaStep } from '../../flows/payment-step.js';
import { isTerminal } from '../../payment.js';

export const verifyCost = sagaStep('verifyCost', async (deps, input) => {
  const payment = await loadPayment(deps.repo, input.paymentId);
  if (payment.status === 'rejected') return result('rejected', 'payment.rejected', payment);
  if (payment.verifiedAt || isTerminal(payment.status)) return result('verified', null, payment);

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
    return result('rejected', 'payment.rejected', rejected);
  }
  const verified = await record(deps, payment, {
    type: 'cost.verified',
    patch: { verifiedAt: deps.clock.now().toISOString() },
    detail: { totalAmount: quote.totalAmount },
  });
  return result('verified', null, verified);
});
