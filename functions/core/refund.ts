/**
 * Refunds: the Refund record, the money rules (refundable = captured − refunded − reserved), and the pure
 * functions that turn a payment plus a refund event into the next payment version, its audit entry and the
 * refund's next state. Persisting them in one transaction is the repository's job (RefundRepository).
 */

import { ConflictError, PaymentNotRefundable, RefundExceedsRefundable } from './errors.js';
import type { Currency } from './money.js';
import {
  type AuditEntry,
  type Change,
  type Failure,
  noteStep,
  type Payment,
  type Reconciliation,
} from './payment.js';
import { movement, paymentMovementId, refundSplitOf } from './points.js';
import type { REFUND_STATUSES } from './vocabulary.js';

export { REFUND_STATUSES } from './vocabulary.js';

export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** Where a refund may go next; `unknown` is left only by an inquiry or an operator, never by a guess. */
const REFUND_TRANSITIONS: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  pending: ['succeeded', 'failed', 'unknown'],
  unknown: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
};

/** The reason sent to KBank (which requires one) when the merchant gives none. */
export const DEFAULT_REFUND_REASON = 'requested_by_customer';

/**
 * One refund of a payment, written ahead of the KBank call with its amount reserved on the payment. Its
 * amount stays reserved (`amountRefundPending`) until KBank's answer is known: released when it failed,
 * moved to `amountRefunded` when it succeeded, held while `unknown`.
 */
export interface Refund {
  /** `re_<ulid>`; also the refund saga's execution name. */
  id: string;
  paymentId: string;
  merchantId: string;
  amount: number;
  currency: Currency;
  reason: string;
  status: RefundStatus;
  /**
   * How many refund requests were sent (or about to be) to KBank. KBank has no idempotency key, so a
   * request is sent again only when every earlier one is known not to have been carried out: while
   * `kbankCalls` exceeds `notApplied`, only an inquiry may tell what happened.
   */
  kbankCalls: number;
  /**
   * How many of those requests an inquiry found KBank did not carry out, long after they were sent (a crash
   * of KBank's side or ours in between): those may be sent again, up to the refund policy's `maxSends`.
   */
  notApplied?: number;
  /** When the request was (about to be) sent; an inquiry concludes "not applied" only long after this. */
  sentAt?: string;
  chargeId?: string;
  kbankState?: string;
  failure?: Failure;
  /** What the reconciliation sweep did to this refund (functions/core/reconciliation.ts). */
  reconciliation?: Reconciliation;
  /**
   * A refund of a payment with points: the points it gives back (worth `pointsValue` of `amount`) when it
   * succeeds; KBank refunds only the rest (refundKbankAmount). Absent: no points.
   */
  points?: number;
  pointsValue?: number;
  /** The payment version (= audit sequence) that recorded the refund's current status: its event's sequence. */
  paymentSeq: number;
  createdAt: string;
  updatedAt: string;
}

/** Whether a request for this refund may be at KBank with its outcome not yet known to us. */
export function mayBeAtKbank(refund: Pick<Refund, 'kbankCalls' | 'notApplied'>): boolean {
  return refund.kbankCalls > (refund.notApplied ?? 0);
}

/** Captured money not yet refunded nor reserved by a refund in progress. 0 unless the payment succeeded. */
export function refundableAmount(payment: Payment): number {
  if (payment.status !== 'succeeded') return 0;
  return payment.amountCaptured - (payment.amountRefunded ?? 0) - (payment.amountRefundPending ?? 0);
}

export interface RefundChange {
  change: Change;
  refund: Refund;
}

/**
 * Reserves a refund: the payment's next version holds `amount` more in `amountRefundPending` and records
 * `refund.requested`; the refund starts `pending`. Amount omitted = everything still refundable. Throws
 * PaymentNotRefundable or RefundExceedsRefundable, computing nothing to write. The repository writes the
 * result conditioned on the payment still having that much refundable, so a stale read cannot over-reserve.
 */
export function reserveRefund(
  payment: Payment,
  request: { refundId: string; amount?: number; reason?: string },
  now: Date,
): RefundChange {
  if (payment.status !== 'succeeded') {
    throw new PaymentNotRefundable(
      `Payment ${payment.id} is ${payment.status}; only succeeded (captured) payments can be refunded.`,
    );
  }
  const refundable = refundableAmount(payment);
  const amount = request.amount ?? refundable;
  if (amount <= 0 || amount > refundable) {
    throw new RefundExceedsRefundable(
      refundable === 0
        ? `Nothing is left to refund on payment ${payment.id} (refundable amount: 0).`
        : `The refund of ${amount} exceeds the refundable amount of payment ${payment.id}: ${refundable} ${payment.currency} in minor units.`,
      refundable,
    );
  }
  const reason = request.reason ?? DEFAULT_REFUND_REASON;
  // A payment with points: money first, then points (points.ts refundSplitOf), each within what is left.
  const split =
    payment.points?.status === 'committed' ? refundSplitOf(payment.points, refundable, amount) : null;
  const pointsValue =
    split && payment.points ? (split.points * payment.points.value) / payment.points.points : 0;
  const change = moneyStep(
    payment,
    {
      type: 'refund.requested',
      actor: 'api',
      // Both written from the first refund on, so stored payments with refunds always carry them.
      patch: {
        amountRefundPending: (payment.amountRefundPending ?? 0) + amount,
        amountRefunded: payment.amountRefunded ?? 0,
        ...(split && payment.points
          ? {
              points: {
                ...payment.points,
                refundPending: (payment.points.refundPending ?? 0) + split.points,
              },
            }
          : {}),
      },
      detail: {
        refundId: request.refundId,
        amount,
        reason,
        ...(split ? { split: { other: split.other, points: split.points } } : {}),
      },
    },
    now,
  );
  const at = change.next.updatedAt;
  const refund: Refund = {
    id: request.refundId,
    paymentId: payment.id,
    merchantId: payment.merchantId,
    amount,
    currency: payment.currency,
    reason,
    status: 'pending',
    kbankCalls: 0,
    ...(split ? { points: split.points, pointsValue } : {}),
    paymentSeq: change.next.seq,
    createdAt: at,
    updatedAt: at,
  };
  return { change, refund };
}

export type RefundResolution =
  | { status: 'succeeded'; kbankState?: string; detail?: Record<string, unknown> }
  | { status: 'failed'; failure: Failure; kbankState?: string; detail?: Record<string, unknown> }
  | { status: 'unknown'; detail?: Record<string, unknown> };

/**
 * Records what became of a refund: `succeeded` moves its amount from reserved to refunded, `failed`
 * releases the reservation, `unknown` keeps it reserved (money safety: it may have been paid out).
 */
export function resolveRefund(
  payment: Payment,
  refund: Refund,
  resolution: RefundResolution,
  now: Date,
): RefundChange {
  if (!REFUND_TRANSITIONS[refund.status].includes(resolution.status)) {
    throw new ConflictError(
      `refund ${refund.id} cannot go from ${refund.status} to ${resolution.status}`,
      'invalid_transition',
    );
  }
  const pending = payment.amountRefundPending ?? 0;
  if (resolution.status !== 'unknown' && pending < refund.amount) {
    throw new ConflictError(
      `payment ${payment.id} reserves ${pending}, less than refund ${refund.id}'s ${refund.amount}`,
      'reservation_missing',
    );
  }
  const patch: Partial<Payment> =
    resolution.status === 'succeeded'
      ? {
          amountRefundPending: pending - refund.amount,
          amountRefunded: (payment.amountRefunded ?? 0) + refund.amount,
        }
      : resolution.status === 'failed'
        ? { amountRefundPending: pending - refund.amount }
        : {};
  // The refund's points: given back when it succeeds (with their ledger entry, in this transaction), no
  // longer reserved either way once it is settled.
  const refundPoints = refund.points ?? 0;
  if (payment.points && refundPoints > 0 && resolution.status !== 'unknown') {
    patch.points = {
      ...payment.points,
      refundPending: (payment.points.refundPending ?? 0) - refundPoints,
      refunded: (payment.points.refunded ?? 0) + (resolution.status === 'succeeded' ? refundPoints : 0),
    };
  }
  const change = moneyStep(
    payment,
    {
      type: resolution.status === 'unknown' ? 'refund.outcome_unknown' : `refund.${resolution.status}`,
      actor: 'saga',
      patch,
      detail: {
        refundId: refund.id,
        amount: refund.amount,
        ...(resolution.status === 'failed' ? { failureCode: resolution.failure.code } : {}),
        ...resolution.detail,
      },
    },
    now,
  );
  if (payment.points && refundPoints > 0 && resolution.status === 'succeeded') {
    const entry = movement(
      {
        id: paymentMovementId(now, payment.id, 'refund', refund.id),
        merchantId: payment.merchantId,
        customerId: payment.points.customerId,
        type: 'refund',
        points: refundPoints,
        paymentId: payment.id,
        refundId: refund.id,
      },
      now,
    );
    change.points = { kind: 'refund', paymentId: payment.id, refundId: refund.id, entry };
    change.audit.detail.points = { movement: 'refund', points: refundPoints, movementId: entry.id };
  }
  const next: Refund = {
    ...refund,
    status: resolution.status,
    paymentSeq: change.next.seq,
    updatedAt: change.next.updatedAt,
  };
  if (resolution.status === 'failed') next.failure = resolution.failure;
  if ('kbankState' in resolution && resolution.kbankState) next.kbankState = resolution.kbankState;
  return { change, refund: next };
}

/**
 * A step that moves money on a captured payment without changing its status. applyStep refuses every
 * step on a terminal status, and rightly so for status changes: a succeeded payment stays succeeded while
 * its refunds come and go, each recorded with its own audit entry and the next sequence.
 */
function moneyStep(
  payment: Payment,
  step: {
    type: string;
    actor: AuditEntry['actor'];
    patch: Partial<Payment>;
    detail: Record<string, unknown>;
  },
  now: Date,
): Change {
  if (payment.status !== 'succeeded') {
    throw new PaymentNotRefundable(`Payment ${payment.id} is ${payment.status}, not succeeded.`);
  }
  return noteStep(payment, step, now);
}

export type RefundVerdict = 'applied' | 'not_applied' | 'ambiguous';

/**
 * Decides from KBank's refunded total of the charge whether one refund was applied, when its own answer
 * was lost. `settled` is what our succeeded refunds add up to (read before the inquiry); `inFlight` are
 * the amounts of the other refunds that may have reached KBank and are not settled in our records. The
 * refund was applied iff the unexplained rest equals its amount plus some subset of the others, and not
 * applied iff the rest is a subset of the others. Both or neither: ambiguous (ask again later, once the
 * others have settled).
 *
 * Refunds of the same amount of the same charge are interchangeable: the total can say how many of them
 * KBank applied but never which. Given `earlierOfSameAmount` (how many of those in flight come before
 * this one in a fixed order: created, then id), the first ones in that order count as the applied ones,
 * so two sagas asking about a pair decide one each way and our records add up to KBank's total.
 */
export function refundVerdict(input: {
  chargeRefunded: number;
  settled: number;
  amount: number;
  inFlight: readonly number[];
  earlierOfSameAmount?: number;
}): RefundVerdict {
  const rest = input.chargeRefunded - input.settled;
  if (rest < 0) return 'ambiguous';
  const earlier = input.earlierOfSameAmount;
  const same = input.inFlight.filter((amount) => amount === input.amount).length;
  if (earlier === undefined || same === 0) {
    const sums = subsetSums(input.inFlight, rest);
    if (!sums) return 'ambiguous';
    const applied = sums.has(rest - input.amount);
    const notApplied = sums.has(rest);
    if (applied === notApplied) return 'ambiguous';
    return applied ? 'applied' : 'not_applied';
  }
  // How many of the interchangeable group (this refund and its equals) KBank may have applied.
  const sums = subsetSums(
    input.inFlight.filter((amount) => amount !== input.amount),
    rest,
  );
  if (!sums) return 'ambiguous';
  const verdicts = new Set<RefundVerdict>();
  for (let applied = 0; applied <= same + 1 && applied * input.amount <= rest; applied++) {
    if (sums.has(rest - applied * input.amount)) verdicts.add(earlier < applied ? 'applied' : 'not_applied');
  }
  const [only] = verdicts;
  return verdicts.size === 1 && only ? only : 'ambiguous';
}

/** Every sum of a subset of `amounts` up to `limit`; null when there are too many to enumerate. */
function subsetSums(amounts: readonly number[], limit: number): Set<number> | null {
  let sums = new Set([0]);
  for (const amount of amounts) {
    const next = new Set(sums);
    for (const sum of sums) if (sum + amount <= limit) next.add(sum + amount);
    sums = next;
    if (sums.size > 100_000) return null;
  }
  return sums;
}

/** What KBank refunds of a refund: its amount less the points it gives back (0: points only, no KBank). */
export function refundKbankAmount(refund: Pick<Refund, 'amount' | 'pointsValue'>): number {
  return refund.amount - (refund.pointsValue ?? 0);
}
