/**
 * What the refund saga's steps share (one execution per refund, named by its id): dependencies, the result
 * shape, loading, and recording a refund's resolution in one transaction with the payment's next version.
 */
import { NotFoundError } from '../errors.js';
import type { Payment } from '../payment.js';
import { refundPointsEvent } from '../points-views.js';
import type { Clock, Kbank } from '../ports.js';
import { type Refund, type RefundResolution, resolveRefund } from '../refund.js';
import type { PaymentRepository, RefundRepository } from '../repository.js';
import type {
  RefundStepInput,
  RefundStepName,
  RefundStepResult,
  RefundStepResultOf,
} from '../saga-contract.js';
import { refundEventDetail } from '../views.js';
import { type ContentionPolicy, DEFAULT_CONTENTION, retryOnStaleWrite } from './contention.js';

export type { RefundStepResult, RefundTaskInput } from '../saga-contract.js';

export interface RefundPolicy {
  /**
   * An inquiry that finds a refund not applied concludes "failed" (and releases its reservation) only this
   * long after the request was sent: a request KBank is still processing must not be declared lost.
   */
  notAppliedAfterMs: number;
  /**
   * How many requests a refund may send in all: a request found not applied is sent again (the merchant's
   * refund still stands) until this many were sent, then the refund fails with `refund_not_applied`.
   */
  maxSends: number;
  /** Retries of a write that lost the race for the payment's version (parallel refunds). */
  contention: ContentionPolicy;
}

/**
 * 10 minutes. KBank has no idempotency key, so a request we gave up on (the adapter's 8 s timeout) may
 * still be applied when it finally reaches KBank's processing: under load the local stack saw requests land
 * two minutes after the client had gone. Sending again too soon refunds twice; waiting longer only delays
 * a refund that was truly lost. The saga's own inquiry schedule (~2 minutes) ends before this; the sweep's
 * restarts ask again until it has passed.
 */
export const DEFAULT_REFUND_POLICY: RefundPolicy = {
  notAppliedAfterMs: 600_000,
  maxSends: 3,
  contention: DEFAULT_CONTENTION,
};

export interface RefundSagaDeps {
  repo: PaymentRepository & RefundRepository;
  kbank: Kbank;
  clock: Clock;
  policy: RefundPolicy;
}

/**
 * A refund saga step, tagged with its name in the saga contract (its input and outcomes); called like a
 * method so that any step fits where "a refund step" is expected (the local stack's table).
 */
export type RefundStep<S extends RefundStepName = RefundStepName> = {
  run(deps: RefundSagaDeps, input: RefundStepInput<S>): Promise<RefundStepResultOf<S>>;
}['run'] & { readonly step: S };

export function refundStep<S extends RefundStepName>(
  step: S,
  run: (deps: RefundSagaDeps, input: RefundStepInput<S>) => Promise<RefundStepResultOf<S>>,
): RefundStep<S> {
  return Object.assign(run, { step });
}

export async function loadRefund(
  repo: PaymentRepository & RefundRepository,
  input: { paymentId: string; refundId: string },
): Promise<{ payment: Payment; refund: Refund }> {
  const [payment, refund] = await Promise.all([
    repo.get(input.paymentId),
    repo.getRefund(input.paymentId, input.refundId),
  ]);
  if (!payment || !refund) {
    throw new NotFoundError(`refund ${input.refundId} of payment ${input.paymentId} does not exist`);
  }
  return { payment, refund };
}

/** What a refund already resolved stands for (makes every step retry-safe); null while unresolved. */
export function resolvedResult(
  payment: Pick<Payment, 'id' | 'merchantId' | 'points'>,
  refund: Refund,
): RefundStepResult<'succeeded' | 'failed'> | null {
  if (refund.status === 'succeeded') {
    // The points it gave back go out after it (statemachines/refund.asl.json EmitPointsRefunded).
    const pointsEvent = refundPointsEvent(payment, refund);
    return {
      outcome: 'succeeded',
      event: refundEventDetail('refund.succeeded', refund),
      ...(pointsEvent ? { pointsEvent } : {}),
    };
  }
  if (refund.status === 'failed')
    return { outcome: 'failed', event: refundEventDetail('refund.failed', refund) };
  return null;
}

/**
 * Records a resolution: refund and payment (money moved or released, audit entry) in one transaction.
 * Parallel refunds of the payment race for its version, so a lost race re-reads and applies again; a
 * refund already in that state (a retried step) is answered from the record without writing.
 */
export async function recordResolution(
  deps: Pick<RefundSagaDeps, 'repo' | 'clock' | 'policy'>,
  input: { paymentId: string; refundId: string },
  resolution: RefundResolution,
): Promise<RefundStepResult<'succeeded' | 'failed' | 'unknown'>> {
  return retryOnStaleWrite(deps.policy.contention, async () => {
    const { payment, refund } = await loadRefund(deps.repo, input);
    const resolved = resolvedResult(payment, refund);
    if (resolved) return resolved;
    if (refund.status === resolution.status) return { outcome: 'unknown', event: null };
    const { change, refund: next } = resolveRefund(payment, refund, resolution, deps.clock.now());
    await deps.repo.commitRefund(change, { next, previousStatus: refund.status });
    return resolvedResult(change.next, next) ?? { outcome: 'unknown', event: null };
  });
}

/** Every refund of a payment, oldest first. */
export async function allRefunds(repo: RefundRepository, paymentId: string): Promise<Refund[]> {
  const refunds: Refund[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await repo.listRefunds(paymentId, { limit: 100, ...(after ? { after } : {}) });
    refunds.push(...page.refunds);
    after = page.refunds.at(-1)?.id;
    if (!page.hasMore || !after) return refunds;
  }
}
