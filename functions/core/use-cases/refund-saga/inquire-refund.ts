/**
 * Refund saga step InquireRefund: resolves a refund whose KBank answer we did not get. KBank's charge shows
 * the refunded total, not single refunds, so the total is compared with our records: what our succeeded
 * refunds explain, plus any subset of the other refunds that may be in flight (refundVerdict). Still
 * unclear → OutcomeStillUnknown, which the state machine retries on a bounded schedule. Not applied long
 * after it was sent → sent again (`resend`, up to the policy's `maxSends`), since the merchant's refund
 * still stands; then failed.
 */
import { OutcomeStillUnknown } from '../../errors.js';
import { recordNote } from '../../flows/notes.js';
import {
  allRefunds,
  loadRefund,
  type RefundSagaDeps,
  type RefundStepResult,
  recordResolution,
  refundStep,
  resolvedResult,
} from '../../flows/refund-step.js';
import { isQrMethod, type Payment } from '../../payment.js';
import { mayBeAtKbank, type Refund, refundKbankAmount, refundVerdict } from '../../refund.js';

export const inquireRefund = refundStep('inquireRefund', async (deps, input) => {
  const { payment, refund } = await loadRefund(deps.repo, input);
  const resolved = resolvedResult(payment, refund);
  if (resolved) return resolved;
  if (!mayBeAtKbank(refund) || !refund.chargeId) {
    // Not sent (KBank unreachable until the retries ran out, or a failure before sending), and every
    // earlier request known not carried out: nothing can have been refunded, so the reservation is released.
    return recordResolution(deps, input, {
      status: 'failed',
      failure: {
        code: 'processor_unavailable',
        message: 'The refund could not be sent to the payment processor.',
      },
      detail: { error: input.error?.Error ?? null },
    });
  }

  // Our records are read before KBank's and again after: every refund that can be in KBank's total is
  // then either settled in the first read or listed (sent) in the second.
  const before = await allRefunds(deps.repo, input.paymentId);
  const charge = isQrMethod(payment.paymentMethod)
    ? await deps.kbank.inquireQr({ chargeId: refund.chargeId })
    : await deps.kbank.inquireCharge({ chargeId: refund.chargeId });
  if (!charge) throw new OutcomeStillUnknown(`KBank has no charge ${refund.chargeId}`);
  if (charge.refundedAmount === undefined) {
    throw new OutcomeStillUnknown(`KBank did not report the refunded total of ${refund.chargeId}`);
  }
  const after = await allRefunds(deps.repo, input.paymentId);

  const settledBefore = new Set(before.filter((r) => r.status === 'succeeded').map((r) => r.id));
  const inFlight = after.filter(
    (r) => r.id !== refund.id && !settledBefore.has(r.id) && r.status !== 'failed' && mayBeAtKbank(r),
  );
  const verdict = refundVerdict({
    chargeRefunded: charge.refundedAmount,
    settled: sum(before.filter((r) => settledBefore.has(r.id))),
    // What KBank refunds of each (a split's points are given back by us, not by KBank).
    amount: refundKbankAmount(refund),
    inFlight: inFlight.map((r) => refundKbankAmount(r)),
    earlierOfSameAmount: inFlight.filter(
      (r) => refundKbankAmount(r) === refundKbankAmount(refund) && comesBefore(r, refund),
    ).length,
  });
  const detail = {
    chargeId: refund.chargeId,
    chargeRefunded: charge.refundedAmount,
    kbankState: charge.state,
  };

  if (verdict === 'applied') {
    return recordResolution(deps, input, { status: 'succeeded', kbankState: charge.state, detail });
  }
  if (verdict === 'not_applied') {
    const sentAt = Date.parse(refund.sentAt ?? refund.updatedAt);
    if (deps.clock.now().getTime() - sentAt < deps.policy.notAppliedAfterMs) {
      throw new OutcomeStillUnknown(`refund ${refund.id} is not applied at KBank yet; asking again later`);
    }
    if (refund.kbankCalls < deps.policy.maxSends) return resend(deps, payment, refund, detail);
    return recordResolution(deps, input, {
      status: 'failed',
      failure: { code: 'refund_not_applied', message: 'The payment processor did not carry out the refund.' },
      kbankState: charge.state,
      detail,
    });
  }
  throw new OutcomeStillUnknown(
    `KBank's refunded total ${charge.refundedAmount} of ${refund.chargeId} does not tell whether refund ${refund.id} was applied`,
  );
});

/**
 * Marks every request sent so far as not carried out (so RefundAtKbank may send again) and notes it on the
 * payment's trail. Conditioned on the refund being unchanged: a parallel step that moved it wins.
 */
async function resend(
  deps: RefundSagaDeps,
  payment: Payment,
  refund: Refund,
  detail: Record<string, unknown>,
): Promise<RefundStepResult<'resend'>> {
  const now = deps.clock.now().toISOString();
  await deps.repo.updateRefund({ ...refund, notApplied: refund.kbankCalls, updatedAt: now }, refund);
  await recordNote(deps, payment, {
    type: 'refund.not_applied',
    actor: 'saga',
    detail: { refundId: refund.id, sends: refund.kbankCalls, sentAt: refund.sentAt ?? null, ...detail },
  });
  return { outcome: 'resend', event: null };
}

/** The fixed order of interchangeable refunds (refundVerdict): created first, then the id. */
function comesBefore(a: Refund, b: Refund): boolean {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);
}

function sum(refunds: Refund[]): number {
  return refunds.reduce((total, r) => total + refundKbankAmount(r), 0);
}
