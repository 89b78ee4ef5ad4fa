/**
 * What every saga task handler shares: the input the state machine sends (`{paymentId, error?}`),
 * validated, and a thin middy wrapper around one use case. Errors propagate by class name so the
 * state machine's Retry/Catch can match them.
 */
import middy from '@middy/core';
import { z } from 'zod';
import { PaymentIdSchema } from '../../schemas/api.js';
import type { SagaDeps, StepResult, TaskError } from '../core/use-cases/saga.js';
import { logger, withLogContext } from './logger.js';

export const SagaTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type SagaTaskInput = { paymentId: string; error?: TaskError };

export type SagaStep = (deps: SagaDeps, input: SagaTaskInput) => Promise<StepResult>;

export function sagaTask(step: SagaStep, deps: () => SagaDeps) {
  return middy<unknown, StepResult>(async (event: unknown): Promise<StepResult> => {
    const input = SagaTaskInputSchema.parse(event) as SagaTaskInput;
    const outcome = await step(deps(), input);
    logger.info('saga step done', { step: step.name, paymentId: input.paymentId, outcome: outcome.outcome });
    return outcome;
  }).use(withLogContext());
}
