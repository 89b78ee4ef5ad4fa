/**
 * What every saga task handler shares: the input the state machine sends (`{paymentId, error?}`, plus
 * the task token for callback tasks), validated, and a thin middy wrapper around one use case. Errors
 * propagate by class name so the state machine's Retry/Catch can match them.
 */
import middy from '@middy/core';
import * as z from 'zod';
import { PaymentIdSchema } from '../../schemas/api.js';
import { DEFAULT_CONTENTION, retryOnStaleWrite } from '../core/use-cases/contention.js';
import type { SagaDeps, TaskError } from '../core/use-cases/saga.js';
import { logger, withLogContext } from './logger.js';

export const SagaTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type SagaTaskInput = { paymentId: string; error?: TaskError };

/** Input of a task that parks the saga (`.waitForTaskToken`). */
export const CallbackTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  taskToken: z.string().min(1),
  captureWindowSeconds: z.int().positive(),
});

/** Input of AwaitAction: the saga waits for the customer (the timeout is the state's own). */
export const ActionTaskInputSchema = z.object({
  paymentId: PaymentIdSchema,
  taskToken: z.string().min(1),
});

/** Input of ResolveAction: after a callback resumed the saga, after the wait timed out, or after a cancel. */
export const ResolveActionInputSchema = z.object({
  paymentId: PaymentIdSchema,
  reason: z.enum(['notified', 'timed_out', 'canceled']),
});

export type SagaStep<I = SagaTaskInput, R = { outcome: string }> = (deps: SagaDeps, input: I) => Promise<R>;

export function sagaTask<
  I extends { paymentId: string } = SagaTaskInput,
  R extends { outcome: string } = { outcome: string },
>(step: SagaStep<I, R>, deps: () => SagaDeps, schema: z.ZodType = SagaTaskInputSchema) {
  return middy<unknown, R>(async (event: unknown): Promise<R> => {
    const input = schema.parse(event) as I;
    const sagaDeps = deps();
    // A step that lost the race for the payment's version re-reads and re-applies (every step starts from
    // what is recorded, so re-running it is safe): a lost race is never turned into a failure, and the
    // state machine's StaleWriteError retry is only the backstop.
    const outcome = await retryOnStaleWrite(sagaDeps.policy.contention ?? DEFAULT_CONTENTION, () =>
      step(sagaDeps, input),
    );
    logger.info('saga step done', { step: step.name, paymentId: input.paymentId, outcome: outcome.outcome });
    return outcome;
  }).use(withLogContext());
}
