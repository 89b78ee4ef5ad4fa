/**
 * What every saga task handler shares: the input the state machine sends, parsed with the schema the saga
 * contract gives the step (schemas/saga.ts), and a thin middy wrapper around the step. The catalog entry
 * of the function names the step it runs; a handler bound to another step fails when it is loaded. Errors
 * propagate by class name so the state machine's Retry/Catch can match them.
 */
import middy from '@middy/core';
import { PAYMENT_STEP_INPUTS } from '../../schemas/saga.js';
import { CATALOG, type NamesWhere } from '../catalog.js';
import { DEFAULT_CONTENTION, retryOnStaleWrite } from '../core/flows/contention.js';
import type { PaymentStep, SagaDeps } from '../core/flows/payment-step.js';
import type { PaymentStepName, PaymentStepResult } from '../core/saga-contract.js';
import { logger, withLogContext } from './logger.js';

/** The payment saga's Lambda tasks (the refund saga's go through refund-task.ts). */
export type PaymentSagaTask = NamesWhere<{ kind: 'saga-task'; saga: 'payment' }>;

export function sagaTask<S extends PaymentStepName>(
  name: PaymentSagaTask,
  step: PaymentStep<S>,
  deps: () => SagaDeps,
) {
  if (CATALOG[name].step !== step.step) {
    throw new Error(`${name} runs the step ${CATALOG[name].step} (catalog), not ${step.step}`);
  }
  const input = PAYMENT_STEP_INPUTS[step.step];
  return middy<unknown, PaymentStepResult<S>>(async (event: unknown): Promise<PaymentStepResult<S>> => {
    const parsed = input.parse(event);
    const sagaDeps = deps();
    // A step that lost the race for the payment's version re-reads and re-applies (every step starts from
    // what is recorded, so re-running it is safe): a lost race is never turned into a failure, and the
    // state machine's StaleWriteError retry is only the backstop.
    const result = await retryOnStaleWrite(sagaDeps.policy.contention ?? DEFAULT_CONTENTION, () =>
      step(sagaDeps, parsed),
    );
    logger.info('saga step done', { step: step.step, paymentId: parsed.paymentId, outcome: result.outcome });
    return result;
  }).use(withLogContext());
}
