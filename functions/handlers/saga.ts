/**
 * What every saga task handler shares: the input the state machine sends (`{paymentId, error?}`, plus
 * the task token for callback tasks), validated with the task's schema from the catalog, and a thin
 * middy wrapper around one use case. Errors propagate by class name so the state machine's Retry/Catch
 * can match them.
 */
import middy from '@middy/core';
import { CATALOG, type NamesWhere } from '../catalog.js';
import { DEFAULT_CONTENTION, retryOnStaleWrite } from '../core/use-cases/contention.js';
import type { SagaDeps, TaskError } from '../core/use-cases/saga.js';
import { logger, withLogContext } from './logger.js';

export type SagaTaskInput = { paymentId: string; error?: TaskError };

/** The payment saga's Lambda tasks (the refund saga's go through refund-task.ts). */
export type PaymentSagaTask = NamesWhere<{ kind: 'saga-task'; saga: 'payment' }>;

export type SagaStep<I = SagaTaskInput, R = { outcome: string }> = (deps: SagaDeps, input: I) => Promise<R>;

export function sagaTask<
  I extends { paymentId: string } = SagaTaskInput,
  R extends { outcome: string } = { outcome: string },
>(name: PaymentSagaTask, step: SagaStep<I, R>, deps: () => SagaDeps) {
  const schema = CATALOG[name].input;
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
