/** The payment fixture of every test: a new card payment as create-payment makes it, changed where a test says. */
import { ulid } from '../../functions/core/ids.js';
import { type AuditEntry, newPayment, type Payment } from '../../functions/core/payment.js';

/** What a new payment is made of (everything newPayment does not set itself). */
export type PaymentFields = Parameters<typeof newPayment>[0];

/**
 * A processing card payment of 500 THB for merchant `m1`, one order line of the whole amount, created at
 * `at`, with its `payment.created` audit entry. A given `amount` also prices the default order line.
 */
export function aPayment(
  overrides: Partial<PaymentFields> = {},
  at: Date = new Date(),
): { payment: Payment; audit: AuditEntry } {
  const amount = overrides.amount ?? 500;
  return newPayment(
    {
      id: `pay_${ulid()}`,
      merchantId: 'm1',
      amount,
      currency: 'THB',
      captureMethod: 'automatic',
      order: { id: 'o1', lines: [{ sku: 'SKU-A', quantity: 1, unitAmount: amount }] },
      customer: { id: 'c1' },
      paymentMethod: { type: 'card', token: 'tokn_test_1' },
      ...overrides,
    },
    at,
  );
}
