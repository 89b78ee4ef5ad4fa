/**
 * The points of a payment in its saga, folded into the steps it already has (no state of their own): the
 * hold is taken by Authorize before anything is asked of KBank (so no charge happens without it), and is
 * spent or given back by whichever step ends the payment, in that step's own transaction (payment.ts
 * changeTo). A points payment has no KBank charge at all: its authorization is the hold, its capture the
 * commit, its void the release.
 */
import { InsufficientPoints } from '../errors.js';
import type { Payment } from '../payment.js';
import type { CostVerification } from '../saga-contract.js';
import { costVerified } from './attempts.js';
import { record, result, type SagaDeps, type StepResult } from './payment-step.js';

/**
 * Takes the payment's points into a hold (one transaction: the payment's version, the balance's
 * condition, the hold and its ledger entry), recording the cost VerifyCost just confirmed with it. Too few
 * points: the payment fails as declined, nothing held and nothing charged.
 */
export async function holdPoints(
  deps: SagaDeps,
  payment: Payment,
  verification: CostVerification | null | undefined,
): Promise<{ held: Payment } | { declined: StepResult<'declined'> }> {
  const points = payment.points;
  if (points?.status !== 'pending') return { held: payment };
  const notes = payment.verifiedAt ? [] : [costVerified(payment, verification)];
  const verifiedAt = payment.verifiedAt || !verification ? {} : { verifiedAt: verification.verifiedAt };
  try {
    const held = await record(
      deps,
      payment,
      {
        type: 'points.reserved',
        patch: { points: { ...points, status: 'held' }, ...verifiedAt },
        detail: { customerId: points.customerId, points: points.points, value: points.value },
      },
      undefined,
      notes,
    );
    return { held };
  } catch (error) {
    if (!(error instanceof InsufficientPoints)) throw error;
    const failed = await record(
      deps,
      payment,
      {
        type: 'payment.failed',
        status: 'failed',
        patch: {
          points: { ...points, status: 'declined' },
          failure: {
            code: 'insufficient_points',
            message: `The customer has ${error.available} points available, ${points.points} needed.`,
          },
          ...verifiedAt,
        },
        detail: { customerId: points.customerId, points: points.points, available: error.available },
      },
      undefined,
      notes,
    );
    return { declined: result('declined', 'payment.failed', failed) };
  }
}

/** A points payment is authorized once its points are held: the amount is authorized, nothing at KBank. */
export async function authorizePoints(deps: SagaDeps, payment: Payment): Promise<StepResult<'authorized'>> {
  const authorized = await record(deps, payment, {
    type: 'payment.authorized',
    status: 'processing',
    patch: { amountAuthorized: payment.amount },
    detail: { points: payment.points?.points ?? 0 },
  });
  return result('authorized', 'payment.authorized', authorized);
}

/** A points payment is captured by spending its hold (the end of the payment commits it: changeTo). */
export async function capturePoints(deps: SagaDeps, payment: Payment): Promise<StepResult<'captured'>> {
  const amount = payment.amountToCapture ?? payment.amountAuthorized;
  const captured = await record(deps, payment, {
    type: 'payment.captured',
    status: 'succeeded',
    patch: {
      amountCaptured: amount,
      amountCapturable: undefined,
      captureToken: undefined,
      requestKey: undefined,
    },
    detail: { amount, points: payment.points?.points ?? 0 },
  });
  return result('captured', 'payment.captured', captured);
}

/** A points payment is voided by giving its hold back (the end of the payment releases it: changeTo). */
export async function releasePoints(
  deps: SagaDeps,
  payment: Payment,
  reason: string,
  patch: Partial<Payment>,
  error: string | null,
): Promise<StepResult<'voided'>> {
  const type = reason === 'capture_failed' ? 'payment.voided' : 'payment.canceled';
  const voided = await record(deps, payment, {
    type,
    status: 'canceled',
    patch: {
      cancellationReason: reason,
      ...patch,
      amountCapturable: undefined,
      captureToken: undefined,
      requestKey: undefined,
    },
    detail: { reason, error, points: payment.points?.points ?? 0 },
  });
  return result('voided', type, voided);
}

/** What KBank is asked to charge: the amount less the points paid beside it (a split). */
export function kbankAmount(payment: Payment, amount = payment.amount): number {
  return amount - (payment.points?.value ?? 0);
}

/**
 * The part of a payment's captured and refunded totals that is KBank's: what the points paid and what
 * refunds gave back as points are ours alone (the daily reconciliation compares only the rest). A points
 * payment has none; a payment whose points were never spent has all of it at KBank.
 */
export function kbankTotals(payment: Pick<Payment, 'amountCaptured' | 'amountRefunded' | 'points'>): {
  captured: number;
  refunded: number;
} {
  const points = payment.points;
  const spent = points?.status === 'committed' && payment.amountCaptured > 0;
  const valuePerPoint = points && points.points > 0 ? points.value / points.points : 0;
  const pointsRefunded = spent ? (points.refunded ?? 0) * valuePerPoint : 0;
  return {
    captured: payment.amountCaptured - (spent ? points.value : 0),
    refunded: (payment.amountRefunded ?? 0) - pointsRefunded,
  };
}
