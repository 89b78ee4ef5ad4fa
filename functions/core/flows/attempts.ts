/**
 * The attempt's life at KBank, shared by the steps that charge and inquire: the attempt written ahead of the
 * call (with its unique reference_order), and what each KBank answer makes of it. A call that did not answer
 * with a charge is recorded as never sent, refused or unknown; a charge KBank returned (to the call or to an
 * inquiry) is recorded as authorized, declined or sent to 3-D Secure, and nothing while it is not final.
 */
import { ConflictError, KbankOutcomeUnknown, KbankRejected, KbankUnavailable } from '../errors.js';
import { ulid } from '../ids.js';
import { type Attempt, noteEntry, type Payment, referenceOrderFor } from '../payment.js';
import type { KbankCharge, KbankState } from '../ports.js';
import type { CostVerification } from '../saga-contract.js';
import { DEFAULT_REDIRECT_WINDOW_SECONDS } from '../time-windows.js';
import { record, result, type SagaDeps, type StepResult } from './payment-step.js';
import { recordRequiresAction } from './requires-action.js';

/**
 * Writes the attempt ahead of the KBank call, with its audit entry: `resend` again under its own
 * reference (KBank has no record of it), or a new attempt under the next reference. KBank is never called
 * for an order whose cost is not verified: on the record, or just confirmed by VerifyCost (`verification`,
 * recorded here as its `cost.verified` note on the version before).
 */
export async function writeAttemptAhead(
  deps: SagaDeps,
  payment: Payment,
  resend: Attempt | null,
  detail: Record<string, unknown>,
  verification?: CostVerification | null,
): Promise<{ requested: Payment; sending: Attempt }> {
  const notes = payment.verifiedAt ? [] : [costVerified(payment, verification)];
  const now = deps.clock.now().toISOString();
  const no = resend ? resend.no : payment.attemptCount + 1;
  const sending: Attempt = resend
    ? { ...resend, state: 'pending', chargeCalls: resend.chargeCalls + 1 }
    : {
        paymentId: payment.id,
        no,
        referenceOrder: referenceOrderFor(payment.id, no),
        state: 'pending',
        chargeCalls: 1,
        createdAt: now,
        updatedAt: now,
      };
  const requested = await record(
    deps,
    payment,
    {
      type: resend ? 'authorization.resent' : 'authorization.requested',
      patch: {
        attemptCount: sending.no,
        ...(payment.verifiedAt || !verification ? {} : { verifiedAt: verification.verifiedAt }),
      },
      detail: { referenceOrder: sending.referenceOrder, amount: payment.amount, ...detail },
    },
    sending,
    notes,
  );
  return { requested, sending };
}

/** The note that records VerifyCost's confirmation; ConflictError when there is none to record. */
export function costVerified(payment: Payment, verification: CostVerification | null | undefined) {
  if (!verification) {
    throw new ConflictError(`payment ${payment.id}: the order's cost is not verified`, 'cost_not_verified');
  }
  const at = new Date(verification.verifiedAt);
  // Time-ordered like every note id, and the same on every try of this commit (no randomness needed:
  // one payment has one cost verification).
  const noteId = ulid(at.getTime(), new Uint8Array(10));
  return noteEntry(
    payment,
    { actor: 'saga', type: 'cost.verified', detail: { totalAmount: verification.totalAmount } },
    at,
    noteId,
  );
}

const DUPLICATE_REFERENCE = 'duplicate_reference_order';

/** KBank refused a create because it already has a charge under that reference_order: proof the charge exists. */
export function holdsCharge(error: unknown): error is KbankRejected {
  return error instanceof KbankRejected && error.kbankCode === DUPLICATE_REFERENCE;
}

/**
 * Records a KBank call that did not answer with a charge: never sent (the attempt may be re-sent), refused
 * (the payment fails), or unclear (`unknown`, for the inquiry; also a re-send KBank already holds a
 * charge for). Rethrows anything else.
 */
export async function recordCallFailure(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  error: unknown,
): Promise<StepResult<'declined' | 'unknown'>> {
  if (error instanceof KbankUnavailable) {
    // The request never left us: KBank has no charge for this reference, so re-sending it is safe.
    await record(
      deps,
      payment,
      { type: 'authorization.unreachable', detail: { referenceOrder: attempt.referenceOrder } },
      { ...attempt, state: 'not_found' },
    );
    throw error;
  }
  if (holdsCharge(error)) {
    // A charge under this reference already exists at KBank (an earlier call landed after our inquiry
    // found nothing): it is not a refusal, and only an inquiry may say what that charge is.
    return recordOutcomeUnknown(deps, payment, attempt, { kbankCode: DUPLICATE_REFERENCE });
  }
  if (error instanceof KbankRejected) {
    const failed = await record(
      deps,
      payment,
      {
        type: 'payment.failed',
        status: 'failed',
        patch: { failure: { code: error.kbankCode, message: 'The payment processor rejected the payment.' } },
        detail: {
          referenceOrder: attempt.referenceOrder,
          kbankCode: error.kbankCode,
          httpStatus: error.httpStatus,
        },
      },
      { ...attempt, state: 'declined', failureCode: error.kbankCode },
    );
    return result('declined', 'payment.failed', failed);
  }
  if (error instanceof KbankOutcomeUnknown) {
    return recordOutcomeUnknown(deps, payment, attempt, { reason: error.message });
  }
  throw error;
}

/** The attempt may be at KBank: `unknown`, for the inquiry to decide. */
async function recordOutcomeUnknown(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  why: { reason: string } | { kbankCode: string },
): Promise<StepResult<'unknown'>> {
  const unknown = await record(
    deps,
    payment,
    {
      type: 'authorization.outcome_unknown',
      status: 'unknown',
      detail: { referenceOrder: attempt.referenceOrder, ...why },
    },
    { ...attempt, state: 'unknown' },
  );
  return result('unknown', null, unknown);
}

/**
 * Records a final charge object KBank returned (to the charge call or to an inquiry): authorized or
 * declined. Returns null, writing nothing, while the charge is not final yet.
 */
export async function recordCharge(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  charge: KbankCharge,
): Promise<StepResult<'authorized' | 'declined' | 'requires_action'> | null> {
  const seen = { ...attempt, chargeId: charge.chargeId, kbankState: charge.state };
  if (charge.state === 'Pre-Authorized' && charge.redirectUrl && payment.status !== 'requires_action') {
    // 3-D Secure: the customer's browser must go to KBank's page; the callback resumes the saga.
    const window = payment.actionWindowSeconds ?? DEFAULT_REDIRECT_WINDOW_SECONDS;
    const expiresAt = new Date(deps.clock.now().getTime() + window * 1000).toISOString();
    return recordRequiresAction(
      deps,
      payment,
      attempt,
      { type: 'redirect_to_url', url: charge.redirectUrl, expiresAt },
      { chargeId: charge.chargeId, kbankState: charge.state },
    );
  }
  if (PENDING_STATES.includes(charge.state)) return null;
  // Settled means KBank already captured it (batch settlement): the money is authorized either way.
  if (charge.status === 'success' && (charge.state === 'Authorized' || charge.state === 'Settled')) {
    const authorized = await record(
      deps,
      payment,
      {
        type: 'payment.authorized',
        status: 'processing',
        patch: {
          // A split's points are part of what is authorized (payment.amount): KBank's charge is the rest.
          amountAuthorized: charge.amount + (payment.points?.value ?? 0),
          ...(payment.paymentMethod.type === 'card'
            ? {
                paymentMethod: {
                  ...payment.paymentMethod,
                  card: { brand: charge.card?.brand, masked: charge.card?.masked },
                },
              }
            : {}),
        },
        detail: {
          chargeId: charge.chargeId,
          referenceOrder: attempt.referenceOrder,
          approvalCode: charge.approvalCode,
        },
      },
      { ...seen, state: 'authorized', approvalCode: charge.approvalCode },
    );
    return result('authorized', 'payment.authorized', authorized);
  }
  // Declined, Reversed, Voided, or a call that did not succeed: no money is held.
  const code = charge.failureCode ?? 'card_declined';
  const failed = await record(
    deps,
    payment,
    {
      type: 'payment.failed',
      status: 'failed',
      patch: { failure: { code, message: charge.failureMessage ?? 'The card was declined.' } },
      detail: { chargeId: charge.chargeId, referenceOrder: attempt.referenceOrder, kbankState: charge.state },
    },
    { ...seen, state: 'declined', failureCode: code },
  );
  return result('declined', 'payment.failed', failed);
}

const PENDING_STATES: readonly KbankState[] = ['Initialize', 'Pre-Authorized'];
