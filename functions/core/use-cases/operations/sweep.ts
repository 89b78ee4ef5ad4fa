/**
 * Use case: the reconciliation sweep (the janitor). Finds open payments and refunds past their deadline in
 * the sparse due index and drives each toward a terminal, recorded state: a saga that never started, died
 * or was lost is restarted where it left off (Reenter for payments; the refund saga inquires before it
 * ever re-sends); one still running is looked at again later; after a bounded schedule the item is marked
 * unresolved for an operator (alarmed, listed by `npm run ops -- unresolved`). Every action is an audit
 * entry on the payment, recorded before the saga is started, so a crash in between is simply swept again.
 * A payment that failed after charge calls whose answers never came is asked about once more at KBank at
 * its late-charge check: a call that landed after we gave up is given back like a late payment.
 */
import { DEFAULT_CONTENTION, retryOnStaleWrite } from '../../flows/contention.js';
import { chargeVerdict, inquireAttempt } from '../../flows/customer-charges.js';
import { reverseLatePayment } from '../../flows/late-payments.js';
import { recordNote } from '../../flows/notes.js';
import { startStep } from '../../flows/payment-step.js';
import { isTerminal, noteStep, type Payment, type Reconciliation } from '../../payment.js';
import type { Clock, Kbank, SagaRuns } from '../../ports.js';
import {
  DEFAULT_SWEEP_POLICY,
  executionName,
  nextSweep,
  paymentDueAt,
  refundDueAt,
  type SweepPolicy,
} from '../../reconciliation.js';
import type { DueItem, PaymentRepository, ReconciliationIndex, RefundRepository } from '../../repository.js';
import type { PaymentSagaInput, RefundSagaInput } from '../../saga-contract.js';

export interface SweepDeps {
  repo: PaymentRepository & RefundRepository & ReconciliationIndex;
  /** Only for the late-charge check: an inquiry by reference, and giving back what it finds. */
  kbank: Kbank;
  payments: SagaRuns;
  refunds: SagaRuns;
  clock: Clock;
  policy?: SweepPolicy;
  /** The capture window a restarted manual-capture saga parks with when it had not parked yet. */
  captureWindowSeconds: number;
  /** Told about every item the sweep gives up on (the alarm's log line). */
  onUnresolved?: (item: DueItem, reason: string) => void;
  /** Pause between items (ms), so a large pass does not start hundreds of sagas at once. Default 0. */
  pace?: number;
}

export type SweepAction = 'restarted' | 'looked_again' | 'unresolved' | 'skipped';

export interface SweepReport {
  examined: number;
  restarted: number;
  lookedAgain: number;
  unresolved: number;
  skipped: number;
  /** Items whose handling threw (left as they were: the next sweep tries again). */
  errors: number;
}

/**
 * One pass over what is due now (at most `limit` items). `dueBefore` widens it: a restarted local stack
 * sweeps every open item at once, since the executions that were driving them died with it.
 */
export async function sweep(
  deps: SweepDeps,
  options: { limit?: number; dueBefore?: string } = {},
): Promise<SweepReport> {
  const now = deps.clock.now();
  const due = await deps.repo.listDue(options.dueBefore ?? now.toISOString(), options.limit ?? 100);
  const report: SweepReport = {
    examined: 0,
    restarted: 0,
    lookedAgain: 0,
    unresolved: 0,
    skipped: 0,
    errors: 0,
  };
  for (const item of due) {
    if (deps.pace && report.examined > 0) await new Promise((resolve) => setTimeout(resolve, deps.pace));
    report.examined++;
    try {
      const action =
        item.kind === 'payment' ? await sweepPayment(deps, item, now) : await sweepRefund(deps, item, now);
      if (action === 'restarted') report.restarted++;
      else if (action === 'looked_again') report.lookedAgain++;
      else if (action === 'unresolved') report.unresolved++;
      else report.skipped++;
    } catch {
      report.errors++;
    }
  }
  return report;
}

export async function sweepPayment(deps: SweepDeps, item: DueItem, now: Date): Promise<SweepAction> {
  const policy = deps.policy ?? DEFAULT_SWEEP_POLICY;
  return retryOnStaleWrite(DEFAULT_CONTENTION, async () => {
    const payment = await deps.repo.get(item.paymentId);
    if (payment?.lateChargeCheckAt && isTerminal(payment.status) && !payment.undeliveredEvents?.length) {
      return payment.lateChargeCheckAt <= now.toISOString() ? checkLateCharges(deps, payment) : 'skipped';
    }
    // A terminal payment is swept only for the events its saga could not publish (held on it).
    if (!payment || (isTerminal(payment.status) && !payment.undeliveredEvents?.length)) return 'skipped';
    const dueAt = paymentDueAt(payment, policy);
    // Not due by its own deadline: it was either made due early (markDue, after a request could not reach
    // its saga) or it moved since the index was read (its saga is alive): only the first is swept.
    if (!dueAt) return 'skipped';
    if (dueAt > now.toISOString() && payment.updatedAt > item.at) return 'skipped';

    const restarts = payment.reconciliation?.restarts ?? 0;
    const current = executionName(payment.id, restarts);
    const run = await deps.payments.status(current);
    const next = nextSweep(payment.reconciliation, run === 'running', now, policy);
    if (next.kind === 'give_up') {
      const reason = `saga ${current} ${run}; payment still ${payment.status} after ${restarts} restarts`;
      await recordOnPayment(deps, payment, 'reconciliation.unresolved', {
        reconciliation: { ...reconciliationOf(payment), unresolvedAt: now.toISOString(), reason },
        detail: { execution: current, execution_status: run, reason },
      });
      deps.onUnresolved?.(item, reason);
      return 'unresolved';
    }
    if (next.kind === 'look_again') {
      await recordOnPayment(deps, payment, 'reconciliation.checked', {
        reconciliation: next.reconciliation,
        detail: { execution: current, execution_status: run, next_at: next.reconciliation.nextAt },
      });
      return 'looked_again';
    }
    // A run that was never started (a crash between create and StartExecution, or a local stack that
    // forgot its executions) is started under its own name; an ended one gets a new name.
    const reconciliation: Reconciliation =
      run === 'not_found' ? { ...next.reconciliation, restarts } : next.reconciliation;
    const name = executionName(payment.id, reconciliation.restarts);
    const neverStarted = run === 'not_found' && restarts === 0 && payment.seq === 1;
    await recordOnPayment(deps, payment, 'reconciliation.saga_restarted', {
      reconciliation,
      detail: { execution: name, previous: current, previous_status: run, next_at: reconciliation.nextAt },
    });
    await deps.payments.start(name, {
      paymentId: payment.id,
      captureMethod: payment.captureMethod,
      captureWindowSeconds: deps.captureWindowSeconds,
      // A payment that never got a saga starts at the beginning, announcing itself as create would have.
      ...(neverStarted ? { step: startStep(payment, false) } : { resume: true }),
    } satisfies PaymentSagaInput);
    return 'restarted';
  });
}

async function sweepRefund(deps: SweepDeps, item: DueItem, now: Date): Promise<SweepAction> {
  const policy = deps.policy ?? DEFAULT_SWEEP_POLICY;
  if (!item.refundId) return 'skipped';
  const refund = await deps.repo.getRefund(item.paymentId, item.refundId);
  if (!refund) return 'skipped';
  const dueAt = refundDueAt(refund, policy);
  // As for payments: skip one that moved since the index was read (its saga is alive).
  if (!dueAt || (dueAt > now.toISOString() && refund.updatedAt > item.at)) return 'skipped';
  const restarts = refund.reconciliation?.restarts ?? 0;
  const current = executionName(refund.id, restarts);
  const run = await deps.refunds.status(current);
  const next = nextSweep(refund.reconciliation, run === 'running', now, policy);
  const payment = await deps.repo.get(refund.paymentId);
  if (next.kind === 'give_up') {
    const reason = `refund saga ${current} ${run}; refund still ${refund.status} after ${restarts} restarts`;
    await deps.repo.updateRefund(
      {
        ...refund,
        reconciliation: {
          ...(refund.reconciliation ?? { restarts, sweeps: 0 }),
          unresolvedAt: now.toISOString(),
          reason,
        },
      },
      refund,
    );
    if (payment)
      await recordNote(deps, payment, {
        type: 'reconciliation.refund_unresolved',
        actor: 'operator',
        detail: {
          refund_id: refund.id,
          reason,
        },
      });
    deps.onUnresolved?.(item, reason);
    return 'unresolved';
  }
  const reconciliation: Reconciliation =
    run === 'not_found' ? { ...next.reconciliation, restarts } : next.reconciliation;
  await deps.repo.updateRefund({ ...refund, reconciliation }, refund);
  if (next.kind === 'look_again') return 'looked_again';
  const name = executionName(refund.id, reconciliation.restarts);
  if (payment) {
    await recordNote(deps, payment, {
      type: 'reconciliation.refund_saga_restarted',
      actor: 'operator',
      detail: {
        refund_id: refund.id,
        execution: name,
        previous_status: run,
      },
    });
  }
  // The refund saga never re-sends a refund that may have reached KBank: it inquires.
  await deps.refunds.start(name, {
    paymentId: refund.paymentId,
    refundId: refund.id,
  } satisfies RefundSagaInput);
  return 'restarted';
}

/**
 * The payment failed on charge calls that were never answered: ask KBank for each attempt's reference once
 * more, give back any money a late call took (written before and after, never twice), then clear the check.
 * An unclear inquiry throws: the check stays due and the next sweep asks again.
 */
async function checkLateCharges(deps: SweepDeps, payment: Payment): Promise<SweepAction> {
  const found: string[] = [];
  for (let no = 1; no <= payment.attemptCount; no++) {
    const attempt = await deps.repo.getAttempt(payment.id, no);
    if (!attempt) continue;
    const charge = await inquireAttempt(deps.kbank, payment, attempt);
    if (!charge) continue;
    found.push(charge.chargeId);
    if (chargeVerdict(charge) === 'paid') await reverseLatePayment(deps, payment, charge);
  }
  const change = noteStep(
    payment,
    {
      type: 'reconciliation.late_charge_checked',
      actor: 'operator',
      patch: { lateChargeCheckAt: undefined },
      detail: { attempts: payment.attemptCount, charges_found: found },
    },
    deps.clock.now(),
  );
  await deps.repo.commit(change);
  return 'looked_again';
}

function reconciliationOf(payment: Payment): Reconciliation {
  return payment.reconciliation ?? { restarts: 0, sweeps: 0 };
}

/**
 * An operator-side step on the payment: its status is unchanged (terminal too, when it only holds events),
 * the reconciliation state is recorded.
 */
async function recordOnPayment(
  deps: SweepDeps,
  payment: Payment,
  type: string,
  step: { reconciliation: Reconciliation; detail: Record<string, unknown> },
): Promise<void> {
  const change = noteStep(
    payment,
    { type, actor: 'operator', patch: { reconciliation: step.reconciliation }, detail: step.detail },
    deps.clock.now(),
  );
  await deps.repo.commit(change);
}
