/** The payment saga's step kit: the steps' dependencies and policy, their result, loading and recording. */
import type { PaymentEventType } from '../../../schemas/events.js';
import { NotFoundError } from '../errors.js';
import { type Attempt, type AuditEntry, applyStep, noteStep, type Payment, type Step } from '../payment.js';
import type { Clock, CostService, Kbank, TaskNotifier } from '../ports.js';
import type { PaymentRepository } from '../repository.js';
import type {
  CreatedStep,
  PaymentStepInput,
  PaymentStepName,
  PaymentStepResult,
  StepResult,
  TaskError,
} from '../saga-contract.js';
import { eventDetail } from '../views.js';
import type { ContentionPolicy } from './contention.js';

export type { StepResult, TaskError } from '../saga-contract.js';

export interface SagaPolicy {
  /** How many times one attempt's charge may be sent, counting re-sends after KBank had no record of it. */
  maxChargeCalls: number;
  /**
   * How long after giving up on unanswered charge calls the sweep asks KBank once more, for a request that
   * landed late (KBank may process a call after our wait for its answer ended).
   */
  lateChargeCheckSeconds: number;
  /** How a step that lost the race for the payment's version backs off and re-applies (default: DEFAULT_CONTENTION). */
  contention?: ContentionPolicy;
}

export const DEFAULT_POLICY: SagaPolicy = { maxChargeCalls: 3, lateChargeCheckSeconds: 300 };

export interface SagaDeps {
  repo: PaymentRepository;
  kbank: Kbank;
  cost: CostService;
  clock: Clock;
  policy: SagaPolicy;
  /** Resumes a parked task (AwaitCapture hands a request that arrived without a token to itself). */
  tasks: TaskNotifier;
}

/**
 * A payment saga step: the function that runs it, tagged with its name in the saga contract, which fixes
 * its input (and so the schema its Lambda parses) and its outcomes. Called like a method so that any step
 * fits where "a step" is expected (the local stack's table); the tag keeps each one to its own input.
 */
export type PaymentStep<S extends PaymentStepName = PaymentStepName> = {
  run(deps: SagaDeps, input: PaymentStepInput<S>): Promise<PaymentStepResult<S>>;
}['run'] & { readonly step: S };

export function sagaStep<S extends PaymentStepName>(
  step: S,
  run: (deps: SagaDeps, input: PaymentStepInput<S>) => Promise<PaymentStepResult<S>>,
): PaymentStep<S> {
  return Object.assign(run, { step });
}

export async function loadPayment(repo: PaymentRepository, paymentId: string): Promise<Payment> {
  const payment = await repo.get(paymentId);
  if (!payment) throw new NotFoundError(`payment ${paymentId} does not exist`);
  return payment;
}

export async function loadAttempt(repo: PaymentRepository, payment: Payment): Promise<Attempt | null> {
  return payment.attemptCount === 0 ? null : repo.getAttempt(payment.id, payment.attemptCount);
}

/**
 * Applies and commits a step (with the attempt's new version, if any, and notes an earlier step left to
 * record on the current version) and returns the new payment.
 */
export async function record(
  deps: Pick<SagaDeps, 'repo' | 'clock'>,
  payment: Payment,
  step: Omit<Step, 'actor'>,
  attempt?: Attempt,
  notes: (AuditEntry & { noteId: string })[] = [],
): Promise<Payment> {
  const change = applyStep(payment, { actor: 'saga', ...step }, deps.clock.now());
  const nextAttempt = attempt ? { ...attempt, updatedAt: change.next.updatedAt } : undefined;
  await deps.repo.commit(notes.length > 0 ? { ...change, notes } : change, nextAttempt);
  return change.next;
}

/** Records a note (an audit entry, no status change) on a payment in any status, with the attempt's new version. */
export async function note(
  deps: Pick<SagaDeps, 'repo' | 'clock'>,
  payment: Payment,
  step: Omit<Step, 'actor' | 'status'>,
  attempt?: Attempt,
): Promise<Payment> {
  const change = noteStep(payment, { actor: 'saga', ...step }, deps.clock.now());
  await deps.repo.commit(change, attempt ? { ...attempt, updatedAt: change.next.updatedAt } : undefined);
  return change.next;
}

/**
 * The first `$.step` of a run from the beginning: `payment.created` (published by the first step) and, when
 * the starter just wrote it, the payment itself, so the first step need not read it.
 */
export function startStep(payment: Payment, written: boolean): CreatedStep {
  return {
    outcome: 'created',
    event: eventDetail('payment.created', { ...payment, seq: 1, updatedAt: payment.createdAt }),
    carried: written ? { payment } : null,
  };
}

export function result<O extends string>(
  outcome: O,
  eventType: PaymentEventType | null,
  payment: Payment,
): StepResult<O> {
  return { outcome, event: eventType ? eventDetail(eventType, payment) : null, waitSeconds: null };
}

/** The payment's failure as the merchant sees it, from a task error name. */
export function failureFromTaskError(error: TaskError | undefined): { code: string; message: string } {
  switch (error?.Error) {
    case 'CostServiceUnavailable':
      return {
        code: 'cost_service_unavailable',
        message: 'The order could not be verified: the cost service is unavailable.',
      };
    case 'CostServiceRejected':
      return { code: 'order_not_priceable', message: 'The cost service could not price this order.' };
    case 'KbankUnavailable':
      return { code: 'processor_unavailable', message: 'The payment processor could not be reached.' };
    case 'KbankRejected':
      return { code: 'processor_rejected', message: 'The payment processor rejected the request.' };
    default:
      return { code: 'processing_error', message: 'The payment could not be completed.' };
  }
}
