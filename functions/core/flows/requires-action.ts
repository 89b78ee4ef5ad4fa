/**
 * A payment waiting for the customer (a QR to scan, an Alipay page, a 3-D Secure challenge): recorded
 * `requires_action` with the `nextAction` the customer sees and its expiry, and the step result that parks
 * the saga until then.
 */
import type { PaymentEventType } from '../../../schemas/events.js';
import type { Attempt, NextAction, Payment } from '../payment.js';
import { record, result, type SagaDeps, type StepResult } from './payment-step.js';

/** Seconds left until `nextAction` expires, at least 1 (Step Functions' TimeoutSeconds minimum). */
export function waitSecondsLeft(payment: Payment, now: Date): number {
  const expiresAt = payment.nextAction ? Date.parse(payment.nextAction.expiresAt) : now.getTime();
  return Math.max(1, Math.ceil((expiresAt - now.getTime()) / 1000));
}

/** The step result that parks the saga until the customer has acted (or the action expires). */
export function waiting<O extends string>(
  outcome: O,
  eventType: PaymentEventType | null,
  payment: Payment,
  now: Date,
): StepResult<O> {
  return { ...result(outcome, eventType, payment), waitSeconds: waitSecondsLeft(payment, now) };
}

/**
 * Records `requires_action`: the attempt is with KBank, waiting for the customer, who now sees
 * `nextAction`. Used by every method (a 3-D Secure card charge too).
 */
export async function recordRequiresAction(
  deps: SagaDeps,
  payment: Payment,
  attempt: Attempt,
  action: NextAction,
  seen: { chargeId?: string; orderId?: string; kbankState?: string },
): Promise<StepResult<'requires_action'>> {
  const next = await record(
    deps,
    payment,
    {
      type: 'payment.requires_action',
      status: 'requires_action',
      patch: { nextAction: action, attemptCount: attempt.no },
      detail: {
        referenceOrder: attempt.referenceOrder,
        nextAction: action.type,
        expiresAt: action.expiresAt,
        ...seen,
      },
    },
    { ...attempt, ...seen, state: 'awaiting_customer' },
  );
  return waiting('requires_action', 'payment.requires_action', next, deps.clock.now());
}
