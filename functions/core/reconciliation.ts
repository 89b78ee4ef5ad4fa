/**
 * The janitor's rules, pure: when an open payment or refund is overdue (its deadline, kept in a sparse
 * index while it is open), how often the sweep may restart its saga, and when it gives up and marks it
 * unresolved for an operator.
 */
import { isTerminal, type Payment, type Reconciliation } from './payment.js';
import type { Refund } from './refund.js';

export interface SweepPolicy {
  /**
   * How long a saga may leave a payment `processing` or `unknown` (or a refund open) without a change
   * before the sweep looks at it: longer than any step with its retries and the inquiry schedule
   * (2…64 s, ~2 min in all).
   */
  graceSeconds: number;
  /** Waits between the sweep's restarts of one saga; after the last one the payment is unresolved. */
  backoffSeconds: readonly number[];
}

export const DEFAULT_SWEEP_POLICY: SweepPolicy = {
  graceSeconds: 300,
  backoffSeconds: [60, 300, 1800, 7200, 43_200],
};

const plus = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();
const later = (a: string, b: string | undefined) => (b !== undefined && b > a ? b : a);

/**
 * When the sweep must look at this payment if nothing has moved it; null once it is terminal or marked
 * unresolved (then it is listed, not swept). Waits that have their own end (the customer's window, the
 * capture window) are due a grace period after that end, when the saga should have timed out by itself. A
 * payment holding events the bus refused is due at once, terminal or not: its saga handed it over. A
 * payment that failed after unanswered charge calls is due at its late-charge check.
 */
export function paymentDueAt(payment: Payment, policy: SweepPolicy = DEFAULT_SWEEP_POLICY): string | null {
  if (payment.reconciliation?.unresolvedAt) return null;
  if (payment.undeliveredEvents?.length) return later(payment.updatedAt, payment.reconciliation?.nextAt);
  if (isTerminal(payment.status)) return payment.lateChargeCheckAt ?? null;
  let end = payment.updatedAt;
  if (payment.status === 'requires_action' && payment.nextAction)
    end = later(end, payment.nextAction.expiresAt);
  if (payment.status === 'requires_capture' && payment.captureBefore) end = later(end, payment.captureBefore);
  return later(plus(end, policy.graceSeconds), payment.reconciliation?.nextAt);
}

export function refundDueAt(refund: Refund, policy: SweepPolicy = DEFAULT_SWEEP_POLICY): string | null {
  if (refund.status === 'succeeded' || refund.status === 'failed' || refund.reconciliation?.unresolvedAt) {
    return null;
  }
  return later(plus(refund.updatedAt, policy.graceSeconds), refund.reconciliation?.nextAt);
}

/** The name of a saga run: the original is named by the payment (or refund) id, restarts add `-r<n>`. */
export function executionName(id: string, restarts: number): string {
  return restarts === 0 ? id : `${id}-r${restarts}`;
}

/**
 * The sweep's next move for an overdue item: restart its saga when none runs, or look again later when one
 * still runs (it may be in a long inquiry schedule); either way the wait grows, and once the schedule is
 * spent the item is given up to an operator.
 */
export function nextSweep(
  reconciliation: Reconciliation | undefined,
  sagaRunning: boolean,
  now: Date,
  policy: SweepPolicy = DEFAULT_SWEEP_POLICY,
): { kind: 'restart' | 'look_again'; reconciliation: Reconciliation } | { kind: 'give_up' } {
  const restarts = reconciliation?.restarts ?? 0;
  const sweeps = reconciliation?.sweeps ?? 0;
  const wait = policy.backoffSeconds[sweeps];
  if (wait === undefined) return { kind: 'give_up' };
  return {
    kind: sagaRunning ? 'look_again' : 'restart',
    reconciliation: {
      restarts: sagaRunning ? restarts : restarts + 1,
      sweeps: sweeps + 1,
      nextAt: plus(now.toISOString(), wait),
    },
  };
}

/** The KBank business day (Asia/Bangkok, UTC+7, no daylight saving) an instant belongs to, `YYYY-MM-DD`. */
export function bangkokDay(iso: string): string {
  return new Date(Date.parse(iso) + 7 * 3600_000).toISOString().slice(0, 10);
}
