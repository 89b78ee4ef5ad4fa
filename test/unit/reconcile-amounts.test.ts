/**
 * The daily reconciliation compares only KBank's part of a payment: a split's points, and the points its
 * refunds gave back, are ours alone; a points payment has nothing at KBank.
 */
import { kbankTotals } from '../../functions/core/flows/points-tender.js';
import type { PaymentPoints } from '../../functions/core/points.js';
import { amountMismatch } from '../../functions/core/use-cases/operations/reconcile-kbank.js';

/** 300 points worth 30000 of a 72500 payment, spent. */
const split = (refunded = 0): PaymentPoints => ({
  customerId: 'c1',
  points: 300,
  value: 30000,
  status: 'committed',
  ...(refunded ? { refunded } : {}),
});

describe('kbankTotals: what of a payment is at KBank', () => {
  it.each([
    [
      'a card payment: all of it',
      { amountCaptured: 72500, amountRefunded: 1000 },
      { captured: 72500, refunded: 1000 },
    ],
    ['a split: the card part', { amountCaptured: 72500, points: split() }, { captured: 42500, refunded: 0 }],
    [
      'a split refunded money first: every refund at KBank',
      { amountCaptured: 72500, amountRefunded: 40000, points: split() },
      { captured: 42500, refunded: 40000 },
    ],
    [
      'a split refunded beyond its card part: the points given back are not',
      { amountCaptured: 72500, amountRefunded: 52500, points: split(100) },
      { captured: 42500, refunded: 42500 },
    ],
    [
      'a points payment: nothing',
      { amountCaptured: 72500, amountRefunded: 10000, points: { ...split(100), points: 725, value: 72500 } },
      { captured: 0, refunded: 0 },
    ],
    [
      'points never spent (the payment ended unpaid): nothing to take off',
      { amountCaptured: 0, points: { ...split(), status: 'released' as const } },
      { captured: 0, refunded: 0 },
    ],
  ])('%s', (_, payment, totals) => {
    expect(kbankTotals(payment)).toEqual(totals);
  });
});

describe('amountMismatch: our KBank part against what KBank holds', () => {
  const settled = (amount: number, refundedAmount = 0) => ({
    state: 'Settled' as const,
    amount,
    refundedAmount,
  });

  it.each([
    ['a card payment that matches', { amountCaptured: 72500 }, settled(72500), null],
    ['a split whose card part matches', { amountCaptured: 72500, points: split() }, settled(42500), null],
    [
      'a split refunded into its points that matches',
      { amountCaptured: 72500, amountRefunded: 52500, points: split(100) },
      settled(42500, 42500),
      null,
    ],
    [
      'a split authorized for its card part only',
      { amountCaptured: 72500, points: split() },
      { state: 'Authorized' as const, amount: 42500, refundedAmount: 0 },
      null,
    ],
    [
      'a split KBank charged whole',
      { amountCaptured: 72500, points: split() },
      { state: 'Authorized' as const, amount: 72500, refundedAmount: 0 },
      'captured 42500, KBank Authorized 72500',
    ],
    [
      'a split whose refund KBank does not show',
      { amountCaptured: 72500, amountRefunded: 10000, points: split() },
      settled(42500),
      'refunded 10000, KBank 0',
    ],
    [
      'a refund still open: refunds not compared',
      { amountCaptured: 72500, amountRefundPending: 10000, points: split() },
      settled(42500),
      null,
    ],
  ])('%s', (_, payment, transaction, expected) => {
    expect(amountMismatch(payment, transaction)).toBe(expected);
  });
});
