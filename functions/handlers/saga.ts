/**
 * What every saga task handler shares: the input the state machine sends, parsed with the schema the saga
 * contract gives the step (schemas/saga.ts), and a thin middy wrapper around the step. Errors propagate by
 * class name so the state machine's Retry/Catch can match them.
 */
import middy from '@middy/core';
import type { z } from 'zod';
import { PAYMENT_STEP_INPUTS } from '../../schemas/saga.js';
import type { PaymentStepName, PaymentStepResult } from '../core/saga-contract.js';
import { DEFAULT_CONTENTION, retryOnStaleWrite } from '../core/use-cases/contention.js';
import type { PaymentStep, SagaDeps } from '../core/use-cases/saga.js';
import { logger, withLogContext } from './logger.js';

export {
  ActionTaskInputSchema,
  CallbackTaskInputSchema,
  PaymentTaskInputSchema as SagaTaskInputSchema,
  ResolveActionInputSchema,
} from '../../schemas/saga.js';

/** Any payment saga step; the type parameter is not used (kept for the local stack's table of steps). */
export type SagaStep<_Input = never> = PaymentStep;

/**
 * The Lambda handler of a saga task. `schema`, when given (the local stack's table), must be the one the
 * contract gives the step: a step is only ever handed the input its own schema parsed.
 */
export function sagaTask<S extends PaymentStepName>(
  step: PaymentStep<S>,
  deps: () => SagaDeps,
  schema?: z.ZodType,
) {
  const input = PAYMENT_STEP_INPUTS[step.step];
  if (schema !== undefined && schema !== input) {
    throw new Error(`saga step ${step.step} takes the input schema its contract gives it, not another one`);
  }
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
